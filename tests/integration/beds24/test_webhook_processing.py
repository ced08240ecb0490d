"""Webhook events applied by the Beds24Events consumer (issue 5): recorded once, re-read from Beds24 (or not),
mapped to reservations, out-of-order safe, deletions final, unknown rooms kept and flagged."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from infra.local.resources import LocalResources
from tests.integration.beds24.hub import (
    SECRET,
    deliver,
    drain_events,
    post_webhook,
    queued,
    reservation,
    set_property,
    stored_event,
    webhook_body,
)
from tests.integration.beds24.meter import DynamoMeter
from tests.integration.beds24.sandbox import Sandbox, day
from tests.integration.conftest import snapshot_tables


def parse_booking(raw: dict[str, Any]) -> Any:
    from bookinghub.beds24.logic.apply import parse_booking as parse

    return parse(raw)


def test_the_same_webhook_three_times_is_one_event_and_one_write(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    """Issue 11: the queue message is the event's receipt, so each delivery is queued (nothing stored by
    the webhook); the consumer writes the reservation once and the event's one record once."""
    booking_id = beds24.create()
    (sent,) = beds24.webhooks(booking_id)

    before = snapshot_tables()
    status, first = deliver(sent)
    assert (status, first["status"]) == (200, "queued")
    assert reservation(booking_id) is None  # acknowledged at once, applied by the consumer
    for _ in range(2):
        status, again = deliver(sent)
        assert (status, again) == (200, {"success": True, "event_key": first["event_key"], "status": "queued"})
    # Beds24's own retry of it: a new timeStamp and retry count, the same change of the same booking
    retry = sent.payload | {"timeStamp": "2099-01-01T00:00:00Z", "retries": 1}
    status, again = post_webhook(retry, token=SECRET)
    assert (status, again["event_key"]) == (200, first["event_key"])
    assert snapshot_tables() == before  # the webhook stores nothing: its queue message is the receipt
    assert queued(aws, "Beds24Events") == 4

    with DynamoMeter() as meter:
        assert drain_events(aws) == (4, 0)
    assert len(meter.writes_to("RESERVATION#")) == 1  # one change, one write (and one stream record)
    hooks = [r for r in meter.writes_to("HOOKS#")]
    assert [r.operation for r in hooks] == ["PutItem"] * 4  # each conditional: the first one is kept
    assert reservation(booking_id) is not None
    event = stored_event(first["event_key"])
    assert event is not None
    assert (event["status"], event["outcome"]) == ("processed", "created")

    processed = snapshot_tables()["Bookings"]
    status, late = deliver(sent)  # Beds24 retries after the hub has applied it
    assert (status, late["status"]) == (200, "queued")
    assert drain_events(aws) == (1, 0)
    assert snapshot_tables()["Bookings"] == processed  # nothing changed: the reservation, its event record
    assert queued(aws, "Beds24Events") == 0


def test_each_kind_of_change_is_applied_and_sets_room_status(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    from bookinghub.beds24.logic.rooms import room_statuses

    def apply_latest(booking_id: int) -> dict[str, Any]:
        status, answer = deliver(beds24.webhooks(booking_id)[-1])
        assert (status, answer["status"]) == (200, "queued"), answer
        assert drain_events(aws) == (1, 0)
        event = stored_event(answer["event_key"])
        assert event is not None
        assert event["status"] == "processed"
        assert event["reread"] is True
        return event

    def occupied() -> dict[int, str]:
        return {r["beds24_room_id"]: r["status"] for r in room_statuses(prop) if r["status"] != "vacant"}

    # Staying now (a day either side covers the property's time zone)
    booking_id = beds24.create(arrival=day(-1), departure=day(3), unitId=2)
    assert apply_latest(booking_id)["outcome"] == "created"
    stored = reservation(booking_id)
    assert stored is not None
    assert stored["status"] == "confirmed"
    assert stored["room"] == "Deluxe Double"
    assert stored["unit_id"] == 2
    assert stored["guest_name"] == "Anna Lee"
    assert stored["price"] == 10500
    assert stored["deleted"] is False
    assert occupied() == {501: "occupied"}

    beds24.modify(booking_id, roomId=502, unitId=1, price=12000)
    assert apply_latest(booking_id)["outcome"] == "modified"
    stored = reservation(booking_id)
    assert stored is not None
    assert (stored["room"], stored["price"]) == ("Family Suite", 12000)
    assert occupied() == {502: "occupied"}

    beds24.cancel(booking_id)
    assert apply_latest(booking_id)["outcome"] == "cancelled"
    stored = reservation(booking_id)
    assert stored is not None
    assert stored["status"] == "cancelled"
    assert stored["cancel_time"]
    assert occupied() == {}

    beds24.delete(booking_id)
    assert beds24.webhooks(booking_id)[-1].payload.get("deleted") is True
    assert apply_latest(booking_id)["outcome"] == "deleted"
    stored = reservation(booking_id)
    assert stored is not None
    assert stored["deleted"] is True
    assert stored["status"] == "cancelled"


def test_every_order_of_created_modified_cancelled_ends_in_the_same_state(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    from bookinghub.beds24.logic.mapping import content_fields, hashes

    set_property(reread_on_webhook=False)  # the webhooks' own data, so their order is what is tested
    current = prop.model_copy(update={"reread_on_webhook": False})
    for order in itertools.permutations(("created", "modified", "cancelled")):
        booking_id = beds24.create()
        beds24.modify(booking_id, departure=day(14), price=12000)
        beds24.cancel(booking_id)
        hooks = dict(zip(("created", "modified", "cancelled"), beds24.webhooks(booking_id), strict=True))
        for kind in order:
            status, answer = deliver(hooks[kind])
            assert (status, answer["status"]) == (200, "queued"), (order, kind, answer)
            assert drain_events(aws) == (1, 0)

        # The final state is Beds24's final booking, whatever the order
        expected = content_fields(parse_booking(beds24.booking(booking_id)), current)
        stored = reservation(booking_id)
        assert stored is not None
        assert {name: stored.get(name) for name in expected} == expected, order
        assert (stored["source_hash"], stored["content_hash"]) == hashes(expected, []), order
        assert (stored["status"], stored["departure"], stored["price"]) == ("cancelled", day(14), 12000), order


def test_a_stale_webhook_is_a_hint_reread_applies_what_beds24_says_now(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    booking_id = beds24.create()
    beds24.modify(booking_id, price=11000)
    created, modified = beds24.webhooks(booking_id)
    deliver(modified)
    deliver(created)  # the older change arrives last
    beds24.reset_calls()
    assert drain_events(aws) == (2, 0)

    stored = reservation(booking_id)
    assert stored is not None
    assert stored["price"] == 11000
    assert stored["modified_time"] == beds24.booking(booking_id)["modifiedTime"]
    reads = beds24.calls()
    assert len(reads) == 2
    assert all(call["query"]["id"] == [str(booking_id)] for call in reads)


def test_reread_can_be_disabled_per_property(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    booking_id = beds24.create(price=10500)
    beds24.reset_calls()
    sandbox_time = beds24.booking(booking_id)["modifiedTime"]

    # On (the default): a webhook's content is only a hint, Beds24's answer is applied
    status, answer = post_webhook(webhook_body(booking_id, price=1, modifiedTime=sandbox_time), token=SECRET)
    assert (status, answer["status"]) == (200, "queued")
    drain_events(aws)
    stored = reservation(booking_id)
    assert stored is not None
    assert stored["price"] == 10500
    assert len(beds24.calls()) == 1

    # Off: the webhook's own booking is applied, Beds24 is not asked
    set_property(reread_on_webhook=False)
    beds24.reset_calls()
    body = webhook_body(booking_id, price=777, modifiedTime="2099-01-01T00:00:00Z")
    status, answer = post_webhook(body, token=SECRET)
    assert (status, answer["status"]) == (200, "queued")
    drain_events(aws)
    stored = reservation(booking_id)
    assert stored is not None
    assert stored["price"] == 777
    assert stored["last_source"] == "webhook"
    assert beds24.calls(None, None) == []
    event = stored_event(answer["event_key"])
    assert event is not None
    assert event["reread"] is False
    assert event["outcome"] == "modified"


def test_a_deletion_is_final_a_late_older_modification_never_resurrects_it(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    booking_id = beds24.create()
    deliver(beds24.webhooks(booking_id)[-1])
    drain_events(aws)
    beds24.modify(booking_id, price=11000)
    beds24.modify(booking_id, price=12000)
    first_change, second_change = beds24.webhooks(booking_id)[1:]  # both lost for now
    beds24.delete(booking_id)
    deliver(beds24.webhooks(booking_id)[-1])
    drain_events(aws)
    deleted = reservation(booking_id)
    assert deleted is not None
    assert deleted["deleted"] is True
    assert deleted["price"] == 10500

    deliver(first_change)  # re-read: Beds24 has no such booking any more
    drain_events(aws)
    assert reservation(booking_id) == deleted

    # Applied as sent: newer than what the hub stored, older than the deletion; the deletion is final
    set_property(reread_on_webhook=False)
    assert second_change.payload["booking"]["modifiedTime"] > deleted["modified_time"]
    status, answer = deliver(second_change)
    assert status == 200
    drain_events(aws)
    assert reservation(booking_id) == deleted
    event = stored_event(answer["event_key"])
    assert event is not None
    assert event["outcome"] == "stale"


def test_a_deletion_before_the_creation_leaves_a_deleted_reservation(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    set_property(reread_on_webhook=False)
    booking_id = beds24.create()
    beds24.delete(booking_id)
    created, removed = beds24.webhooks(booking_id)
    for sent in (removed, created):
        deliver(sent)
        drain_events(aws)
    stored = reservation(booking_id)
    assert stored is not None
    assert stored["deleted"] is True


def test_an_unknown_room_is_kept_and_needs_attention(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    set_property(room_mapping={"501": "Deluxe Double", "502": "Family Suite"})
    booking_id = beds24.create(roomId=503)
    status, answer = deliver(beds24.webhooks(booking_id)[-1])
    assert status == 200
    assert drain_events(aws) == (1, 0)

    stored = reservation(booking_id)
    assert stored is not None
    assert stored["needs_attention"] is True
    assert stored["attention_reasons"] == ["unknown room 503"]
    assert stored["beds24_room_id"] == 503
    assert "room" not in stored
    event = stored_event(answer["event_key"])
    assert event is not None
    assert event["status"] == "processed"
    assert event["needs_attention"] is True


def test_a_webhook_that_could_not_be_queued_is_answered_5xx_and_taken_on_retry(
    aws: LocalResources, beds24: Sandbox, prop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.beds24.logic import webhooks as beds24_webhooks

    booking_id = beds24.create()
    (sent,) = beds24.webhooks(booking_id)
    send = beds24_webhooks.send_webhook_event

    def sqs_down(*_: Any, **__: Any) -> str:
        raise ConnectionError("SQS unreachable")

    monkeypatch.setattr(beds24_webhooks, "send_webhook_event", sqs_down)
    before = snapshot_tables()
    status, answer = deliver(sent)
    assert (status, answer["code"]) == (500, "SERVER_ERROR")  # Beds24 will retry
    assert queued(aws, "Beds24Events") == 0
    assert snapshot_tables() == before  # not acknowledged, nothing stored: Beds24's retry is the event

    monkeypatch.setattr(beds24_webhooks, "send_webhook_event", send)
    status, answer = deliver(sent)
    assert (status, answer["status"]) == (200, "queued")
    assert drain_events(aws) == (1, 0)
    assert reservation(booking_id) is not None
    assert (stored_event(answer["event_key"]) or {})["status"] == "processed"


def test_an_event_reads_its_property_twice_and_decrypts_nothing_when_warm(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    """Issue 11: the property once to apply, once for a run that started during the Beds24 read (not a
    third time for its credentials); the tokens' plaintext is kept for the environment's life."""
    from bookinghub.aws.clients import client

    first, second = beds24.create(), beds24.create(lastName="Park")
    deliver(beds24.webhooks(first)[-1])
    assert drain_events(aws) == (1, 0)  # warms the decrypted-secret cache
    deliver(beds24.webhooks(second)[-1])
    kms_calls: list[str] = []
    client("kms").meta.events.register("before-call.kms.*", lambda model, **_: kms_calls.append(model.name))
    try:
        with DynamoMeter() as meter:
            assert drain_events(aws) == (1, 0)
    finally:
        client("kms").meta.events.unregister("before-call.kms.*")
    property_reads = [
        r
        for r in meter.requests
        if r.operation == "GetItem" and r.params["Key"]["SK"]["S"].startswith("INTEGRATION#beds24#")
    ]
    assert len(property_reads) == 2
    assert kms_calls == []
    assert reservation(second) is not None
