"""Updates, cancellations and refunds; an older change never overwrites a newer one's columns, in any arrival order."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from bookinghub.aws import keys
from bookinghub.bookings.dal.bookings import get_booking
from infra.local.invoke import invoke
from tests.conftest import load_event
from tests.integration.conftest import outbox_events, post_sync, seed_body, snapshot_tables, sync_logs

SOURCE_ID = "uuid-from-source-database"
BOOKING_ID = keys.booking_id_for("test-website", SOURCE_ID)


def _invoke_sample(name: str) -> dict[str, Any]:
    response = invoke("sync_bookings", load_event(f"sync_bookings/{name}"))
    assert response["statusCode"] == 200, response
    return dict(json.loads(response["body"]))


def _stored() -> dict[str, Any]:
    stored = get_booking(BOOKING_ID)
    assert stored is not None
    return stored


def test_sample_update_cancel_and_refund_apply_in_turn(test_website: Any) -> None:
    _invoke_sample("booking_created")

    assert _invoke_sample("booking_updated")["outcome"] == "updated"
    updated = _stored()
    assert (updated["guest_count"], updated["total_amount"], updated["status"]) == (3, 11990, "confirmed")
    assert updated["special_requests"] == "Two vegetarian lunches"
    assert updated["customer_country_code"] == "+66"  # absent from the update: left as stored
    assert updated["package_name"] == "World A+"

    assert _invoke_sample("booking_cancelled")["outcome"] == "updated"
    cancelled = _stored()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation_reason"] == "Customer requested cancellation due to flight change"
    assert cancelled["guest_count"] == 3

    assert _invoke_sample("booking_refunded")["outcome"] == "updated"
    refunded = _stored()
    assert (refunded["status"], refunded["refund_amount"]) == ("refunded", 8500)
    assert refunded["version"] == 4

    events = outbox_events(BOOKING_ID)
    assert [e["event_type"] for e in events] == [
        "booking.created",
        "booking.updated",
        "booking.cancelled",
        "booking.refunded",
    ]
    assert [log["event_type"] for log in sync_logs()] == [e["event_type"] for e in events]


def test_update_redelivery_is_unchanged_and_writes_nothing(test_website: Any) -> None:
    _invoke_sample("booking_created")
    _invoke_sample("booking_updated")
    before = snapshot_tables()

    again = _invoke_sample("booking_updated")

    assert (again["outcome"], again["booking_id"]) == ("unchanged", BOOKING_ID)
    assert snapshot_tables() == before


def test_older_update_is_ignored_and_writes_nothing(test_website: Any) -> None:
    _invoke_sample("booking_created")
    _invoke_sample("booking_cancelled")  # changed at 15:30
    before = snapshot_tables()

    status, body = post_sync(
        {
            "event": "booking.updated",
            "source_booking_id": SOURCE_ID,
            "status": "confirmed",
            "updated_at": "2026-02-20T11:00:00Z",
        }
    )

    assert (status, body["outcome"], body["booking_id"]) == (200, "ignored_stale", BOOKING_ID)
    assert body["success"] is True
    assert snapshot_tables() == before
    assert _stored()["status"] == "cancelled"


def test_version_orders_changes_before_updated_at(test_website: Any) -> None:
    post_sync(seed_body(version=1))
    newer = {
        "event": "booking.updated",
        "source_booking_id": SOURCE_ID,
        "version": 3,
        "updated_at": "2026-02-20T11:00:00Z",
    }
    older = {**newer, "version": 2, "updated_at": "2026-02-20T18:00:00Z"}

    assert post_sync({**newer, "guest_count": 5})[1]["outcome"] == "updated"
    assert post_sync({**older, "guest_count": 9})[1]["outcome"] == "ignored_stale"
    assert _stored()["guest_count"] == 5


def test_change_without_order_does_not_hide_a_later_timed_change(test_website: Any) -> None:
    """A seed-shaped update (no updated_at) must not rank above a cancellation timed by the source."""
    _invoke_sample("booking_created")
    untimed = {"event": "booking.updated", "source_booking_id": SOURCE_ID, "time_slot": "14:00"}
    assert post_sync(untimed)[1]["outcome"] == "updated"

    assert _invoke_sample("booking_cancelled")["outcome"] == "updated"
    assert (_stored()["status"], _stored()["time_slot"]) == ("cancelled", "14:00")


def test_created_arriving_after_a_full_update_is_stale(test_website: Any) -> None:
    full_update = seed_body(event="booking.updated", guest_count=4, updated_at="2026-02-20T12:00:00Z")
    assert post_sync(full_update)[1]["outcome"] == "updated"  # a complete payload creates the booking
    before = snapshot_tables()

    status, body = post_sync(seed_body())

    assert (status, body["outcome"]) == (200, "ignored_stale")
    assert snapshot_tables() == before
    assert _stored()["guest_count"] == 4


# --- every arrival order ---------------------------------------------------------------------------

CREATED_AT = "2026-02-20T10:30:00Z"
PARTIAL_CHANGES: dict[str, dict[str, Any]] = {
    "U1": {"event": "booking.updated", "guest_count": 3, "total_amount": 11990, "updated_at": "2026-02-20T12:00:00Z"},
    "U2": {"event": "booking.updated", "time_slot": "14:00", "guest_count": 4, "updated_at": "2026-02-20T13:00:00Z"},
    "X": {"event": "booking.cancelled", "reason": "flight change", "updated_at": "2026-02-20T15:30:00Z"},
}
WATCHED = ("guest_count", "total_amount", "time_slot", "status", "cancellation_reason")


def _expected_fields(name: str) -> dict[str, Any]:
    if name == "C":
        return {"guest_count": 2, "total_amount": 8500, "time_slot": "10:00", "status": "confirmed"}
    change = {k: v for k, v in PARTIAL_CHANGES[name].items() if k in WATCHED}
    if name == "X":
        change = {"status": "cancelled", "cancellation_reason": "flight change"}
    return change


def _orders_starting_with(first: str) -> list[tuple[str, ...]]:
    # Grouped by the first arrival so each test's moto stays small (its transactions copy whole tables)
    return [order for order in itertools.permutations(["C", "U1", "U2", "X"]) if order[0] == first]


@pytest.mark.parametrize("first", ["C", "U1", "U2", "X"])
def test_partial_changes_in_every_arrival_order_never_go_back_in_time(test_website: Any, first: str) -> None:
    """A model of the rule: each column of a change is applied iff the change is newer than the change
    that last set that column (the create sets every column).

    A partial change that arrives before the booking exists is refused (404) and retried later, as the
    seed's sources do. The stored booking, the answers, the outbox (only the applied columns) and the
    sync logs must match the model exactly, and every order ends in the in-order state.
    """
    in_order: dict[str, Any] = {}
    for name in ("C", "U1", "U2", "X"):
        in_order.update(_expected_fields(name))
    orders = _orders_starting_with(first)
    for number, order in enumerate(orders):
        source_id = f"perm-{number}"
        booking_id = keys.booking_id_for("test-website", source_id)
        moments = {"C": CREATED_AT, **{k: v["updated_at"] for k, v in PARTIAL_CHANGES.items()}}
        queue = list(order)
        column_moments: dict[str, str] = {}
        applied: list[tuple[str, list[str]]] = []
        while queue:
            name = queue.pop(0)
            body = (
                seed_body(source_booking_id=source_id)
                if name == "C"
                else {**PARTIAL_CHANGES[name], "source_booking_id": source_id}
            )
            status, answer = post_sync(body)
            if not applied and name != "C":
                assert (status, answer["code"]) == (404, "BOOKING_NOT_FOUND"), (order, name)
                queue.append(name)  # the source retries later
                continue
            columns = _expected_fields(name)
            fresh = sorted(c for c in columns if moments[name] > column_moments.get(c, CREATED_AT))
            if name == "C":
                assert answer["outcome"] == "created", (order, name)
                fresh = answer["applied_fields"]
            elif not fresh:
                assert (answer["outcome"], answer["applied_fields"]) == ("ignored_stale", []), (order, name)
                assert answer["stale_fields"] == sorted(columns), (order, name)
                continue
            else:
                assert answer["outcome"] == "updated", (order, name)
                assert answer["applied_fields"] == fresh, (order, name)
                assert answer["stale_fields"] == sorted(set(columns) - set(fresh)), (order, name)
            column_moments.update(dict.fromkeys(fresh, moments[name]))
            applied.append((name, fresh))

        stored = get_booking(booking_id)
        assert stored is not None
        assert {k: stored.get(k) for k in WATCHED} == {k: in_order.get(k) for k in WATCHED}, order
        events = outbox_events(booking_id)
        assert [e["event_type"] for e in events] == [_event_type(name) for name, _ in applied], order
        for event, (name, fresh) in zip(events[1:], applied[1:], strict=True):
            assert event["changed_fields"] == fresh, (order, name)
        assert len([log for log in sync_logs() if log["booking_id"] == booking_id]) == len(applied), order


def _event_type(name: str) -> str:
    return "booking.created" if name == "C" else str(PARTIAL_CHANGES[name]["event"])


@pytest.mark.parametrize("first", ["C", "U1", "U2", "X"])
def test_full_changes_in_every_arrival_order_end_in_the_newest_state(test_website: Any, first: str) -> None:
    """When every change carries the whole booking, any arrival order ends in the same (newest) state."""
    changes = {
        "C": seed_body(),
        "U1": seed_body(event="booking.updated", guest_count=3, updated_at="2026-02-20T12:00:00Z"),
        "U2": seed_body(event="booking.updated", guest_count=4, time_slot="14:00", updated_at="2026-02-20T13:00:00Z"),
        "X": seed_body(
            event="booking.cancelled",
            status="cancelled",
            guest_count=4,
            time_slot="14:00",
            updated_at="2026-02-20T15:30:00Z",
        ),
    }
    for number, order in enumerate(_orders_starting_with(first)):
        source_id = f"full-{number}"
        for name in order:
            status, answer = post_sync({**changes[name], "source_booking_id": source_id})
            assert status == 200, (order, name, answer)
        stored = get_booking(keys.booking_id_for("test-website", source_id))
        assert stored is not None
        assert (stored["status"], stored["guest_count"], stored["time_slot"]) == ("cancelled", 4, "14:00"), order
