"""Order per column: a partial change keeps the columns no newer change set, in every arrival order."""

from __future__ import annotations

import itertools
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.bookings.dal.bookings import FIELD_KEY_PREFIX, get_booking
from bookinghub.bookings.logic import field_order, sync
from bookinghub.bookings.logic.field_order import order_key
from bookinghub.core.settings import get_settings
from tests.integration.conftest import TEST_KEY, outbox_events, post_sync, seed_body, snapshot_tables, sync_logs

SOURCE_ID = "uuid-from-source-database"
BOOKING_ID = keys.booking_id_for("test-website", SOURCE_ID)
CANCELLED_V3 = {"event": "booking.cancelled", "source_booking_id": SOURCE_ID, "version": 3, "status": "cancelled"}
UPDATED_V2 = {"event": "booking.updated", "source_booking_id": SOURCE_ID, "version": 2, "guest_count": 3}
UPDATED_V2 |= {"time_slot": "14:00"}


def _stored(booking_id: str = BOOKING_ID) -> dict[str, Any]:
    stored = get_booking(booking_id)
    assert stored is not None
    return stored


def test_issue_example_an_older_partial_change_keeps_the_columns_no_newer_change_set(test_website: Any) -> None:
    """Issue 15: created v1, cancelled v3, then updated v2 ended 200 ignored_stale with 2 guests at 10:00."""
    assert post_sync(seed_body(version=1))[1]["outcome"] == "created"
    cancelled = post_sync(CANCELLED_V3)[1]
    assert (cancelled["applied_fields"], cancelled["stale_fields"]) == (["status"], [])

    status, body = post_sync(UPDATED_V2)

    assert (status, body["outcome"]) == (200, "updated")
    assert (body["applied_fields"], body["stale_fields"]) == (["guest_count", "time_slot"], [])
    stored = _stored()
    assert (stored["status"], stored["guest_count"], stored["time_slot"]) == ("cancelled", 3, "14:00")
    # The domain event carries only what was applied
    last_event = outbox_events(BOOKING_ID)[-1]
    assert (last_event["event_type"], last_event["changed_fields"]) == ("booking.updated", ["guest_count", "time_slot"])
    assert json.loads(last_event["data"]) == {"guest_count": 3, "time_slot": "14:00"}


def test_the_stale_part_of_a_change_is_named_and_left(test_website: Any) -> None:
    post_sync(seed_body(version=1))
    post_sync(CANCELLED_V3)

    body = post_sync({**UPDATED_V2, "status": "confirmed"})[1]

    assert (body["outcome"], body["applied_fields"], body["stale_fields"]) == (
        "updated",
        ["guest_count", "time_slot"],
        ["status"],
    )
    assert _stored()["status"] == "cancelled"
    assert outbox_events(BOOKING_ID)[-1]["changed_fields"] == ["guest_count", "time_slot"]


def test_a_change_stale_in_every_column_writes_nothing(test_website: Any) -> None:
    post_sync(seed_body(version=1))
    post_sync(CANCELLED_V3)
    before = snapshot_tables()

    body = post_sync({**CANCELLED_V3, "version": 2, "status": "refunded"})[1]

    assert (body["outcome"], body["applied_fields"], body["stale_fields"]) == ("ignored_stale", [], ["status"])
    assert snapshot_tables() == before


def test_redelivering_an_earlier_change_writes_nothing(test_website: Any) -> None:
    """v3 is no longer the last payload (v2 came after), so the hash alone cannot tell it was applied."""
    post_sync(seed_body(version=1))
    post_sync(CANCELLED_V3)
    post_sync(UPDATED_V2)
    before = snapshot_tables()

    again = post_sync(CANCELLED_V3)[1]
    latest = post_sync(UPDATED_V2)[1]

    assert (again["outcome"], again["applied_fields"], again["stale_fields"]) == ("unchanged", [], [])
    assert latest["outcome"] == "unchanged"
    assert snapshot_tables() == before


def test_a_booking_stored_without_column_keys_orders_every_column_by_its_own_key(test_website: Any) -> None:
    """Bookings written before per-column keys carry only `order_key`: it stands for every column."""
    post_sync(seed_body(version=1))
    # As the old code left a booking after a whole-record change at v3
    client("dynamodb").update_item(
        TableName=get_settings().bookings_table,
        Key={"PK": {"S": keys.booking_pk(BOOKING_ID)}, "SK": {"S": keys.BOOKING_SK}},
        UpdateExpression="SET order_key = :v3",
        ExpressionAttributeValues={":v3": {"S": order_key(3, "")}},
    )

    older = post_sync(UPDATED_V2)[1]
    newer = post_sync({**UPDATED_V2, "version": 4, "guest_count": 5})[1]

    assert (older["outcome"], older["stale_fields"]) == ("ignored_stale", ["guest_count", "time_slot"])
    assert (newer["outcome"], newer["applied_fields"]) == ("updated", ["guest_count", "time_slot"])
    stored = _stored()
    assert (stored["guest_count"], stored["time_slot"], stored["order_key"]) == (5, "14:00", order_key(3, ""))
    assert stored[f"{FIELD_KEY_PREFIX}guest_count"] == order_key(4, "")
    assert not any(key.startswith(FIELD_KEY_PREFIX) for key in _admin_view())  # bookkeeping, not shown


def _admin_view() -> dict[str, Any]:
    from bookinghub.bookings.logic.admin import booking_view

    return booking_view(_stored())


def test_a_newer_change_landing_before_the_narrowed_write_is_not_overwritten(
    test_website: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The narrowed write is guarded per column too: a v4 that lands after the v2's first attempt failed
    (and before its narrowed write) makes the v2's guest count stale, not overwritten."""
    post_sync(seed_body(version=1))
    post_sync(CANCELLED_V3)
    merge = field_order.merge_fields
    calls: list[str] = []

    def merge_then_race(stored: dict[str, Any], fields: dict[str, Any], order_key: str | None) -> Any:
        calls.append(str(order_key))
        if len(calls) == 1:
            racing = {"event": "booking.updated", "source_booking_id": SOURCE_ID, "version": 4, "guest_count": 7}
            sync.sync_booking(TEST_KEY, json.dumps(racing).encode(), json_body=True)
        return merge(stored, fields, order_key)

    monkeypatch.setattr(sync, "merge_fields", merge_then_race)
    # Its status is older than the v3 cancellation: the first attempt fails and the write is narrowed
    body = post_sync({**UPDATED_V2, "status": "confirmed"})[1]

    assert len(calls) == 2  # the narrowed write failed once, and was narrowed again
    assert (body["outcome"], body["applied_fields"], body["stale_fields"]) == (
        "updated",
        ["time_slot"],
        ["guest_count", "status"],
    )
    stored = _stored()
    assert (stored["status"], stored["guest_count"], stored["time_slot"]) == ("cancelled", 7, "14:00")
    assert [e["changed_fields"] for e in outbox_events(BOOKING_ID)][-2:] == [["guest_count"], ["time_slot"]]


def test_concurrent_partial_changes_end_in_the_in_order_state(test_website: Any, atomic_dynamodb: None) -> None:
    post_sync(seed_body(version=1))
    changes = [
        {"event": "booking.updated", "version": 2, "guest_count": 3, "time_slot": "14:00"},
        {"event": "booking.updated", "version": 3, "guest_count": 4, "total_amount": 9000},
        {"event": "booking.cancelled", "version": 4, "status": "cancelled", "time_slot": "16:00"},
        {"event": "booking.updated", "version": 5, "total_amount": 9500, "status": "confirmed"},
    ]
    start = threading.Barrier(len(changes), timeout=30)

    def deliver(change: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        start.wait()
        return post_sync({**change, "source_booking_id": SOURCE_ID})

    with ThreadPoolExecutor(max_workers=len(changes)) as pool:
        answers = list(pool.map(deliver, changes, timeout=60))

    assert {status for status, _ in answers} == {200}, answers
    stored = _stored()
    assert (stored["guest_count"], stored["time_slot"], stored["total_amount"], stored["status"]) == (
        4,
        "16:00",
        9500,
        "confirmed",
    )
    applied = sorted(name for _, body in answers for name in body["applied_fields"])
    events = outbox_events(BOOKING_ID)[1:]
    assert sorted(name for event in events for name in event["changed_fields"]) == applied
    assert len(sync_logs()) == 1 + len(events)


# --- property: every arrival order of seed-shaped partial changes ends in the in-order state --------

# Seed-shaped pieces of a partial change: what the seed's sources send on booking.updated / cancelled
PIECES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "guests": st.builds(lambda n: {"guest_count": n}, st.integers(1, 6)),
    "slot": st.builds(lambda t: {"time_slot": t}, st.sampled_from(["09:00", "10:00", "14:00", "16:30"])),
    "date": st.builds(lambda d: {"activity_date": d}, st.sampled_from(["2026-03-01", "2026-03-02", "2026-03-05"])),
    "amount": st.builds(
        lambda a, d: {"total_amount": a, "discount_amount": d}, st.integers(0, 20000), st.integers(0, 500)
    ),
    "status": st.builds(lambda s: {"status": s}, st.sampled_from(["pending", "confirmed", "completed"])),
    "phone": st.builds(
        lambda p: {"customer": {"name": "John Doe", "email": "john@example.com", "phone": p}},
        st.sampled_from(["1234567890", "0811111111"]),
    ),
    "pickup": st.builds(
        lambda h, r: {"transport": {"type": "hotel_pickup", "hotel_name": h, "room_number": r}},
        st.sampled_from(["Marriott Phuket", "Hilton Phuket"]),
        st.sampled_from(["1205", "301"]),
    ),
    "non_players": st.builds(lambda n: {"transport": {"non_players": n}}, st.integers(0, 3)),
    "addons": st.builds(
        lambda q: {"addons": [{"name": "Photo Package", "quantity": q, "unit_price": 500}]}, st.integers(1, 3)
    ),
    # Applied last (see _body): a cancellation names its status, whatever else the change carries
    "cancel": st.builds(
        lambda r: {"event": "booking.cancelled", "status": "cancelled", "reason": r},
        st.sampled_from(["flight", "weather"]),
    ),
}
PARTIAL_CHANGE = st.lists(st.sampled_from(sorted(PIECES)), min_size=1, max_size=3, unique=True).flatmap(
    lambda names: st.fixed_dictionaries({name: PIECES[name] for name in names})
)
# Bookkeeping that differs between two bookings with the same content
_OWN = {"id", "source_booking_id", "created_at", "updated_at", "version", "last_payload_hash", "created_payload_hash"}
_counter = itertools.count()


def _body(pieces: dict[str, dict[str, Any]], version: int, source_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"event": "booking.updated", "source_booking_id": source_id, "version": version}
    for _, piece in sorted(pieces.items(), key=lambda item: item[0] == "cancel"):
        for key, value in piece.items():
            body[key] = {**body[key], **value} if isinstance(value, dict) and key in body else value
    return body


def _content(source_id: str) -> dict[str, Any]:
    stored = _stored(keys.booking_id_for("test-website", source_id))
    # (the per-column version stamps count the writes that set a column: bookkeeping, not content)
    return {k: v for k, v in stored.items() if k not in _OWN and not k.startswith("source_v#")}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.lists(PARTIAL_CHANGE, min_size=2, max_size=4),
    data=st.data(),
)
def test_every_arrival_order_of_partial_changes_ends_in_the_in_order_state(
    test_website: Any, changes: list[dict[str, dict[str, Any]]], data: st.DataObject
) -> None:
    """Versions 2..n+1 in the order generated; delivered in a random order with random redeliveries."""
    run = next(_counter)
    in_order_id, shuffled_id = f"in-order-{run}", f"shuffled-{run}"
    for source_id in (in_order_id, shuffled_id):
        assert post_sync(seed_body(source_booking_id=source_id, version=1))[0] == 200
    for version, pieces in enumerate(changes, start=2):
        assert post_sync(_body(pieces, version, in_order_id))[1]["outcome"] == "updated"

    order = data.draw(st.permutations(range(len(changes))), label="arrival order")
    repeats = data.draw(st.lists(st.sampled_from(range(len(changes))), max_size=2), label="redelivered")
    for index in [*order, *repeats]:
        status, answer = post_sync(_body(changes[index], index + 2, shuffled_id))
        assert status == 200, answer
        assert (answer["outcome"] == "updated") == bool(answer["applied_fields"]), answer
        assert not set(answer["applied_fields"]) & set(answer["stale_fields"]), answer

    assert _content(shuffled_id) == _content(in_order_id)
