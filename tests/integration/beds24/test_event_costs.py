"""What one Beds24 event costs, and that the cheaper data model keeps its guarantees (issue 11): the queue
message is the webhook's receipt (its body sealed) and the event is one small item in its property's
partition, written once by the consumer with its outcome (no index copy, the body compressed); a
redelivery changes nothing; a failed queue call or consumer run is retried and applied once, and one that
fails on every receive is recorded failed and replayed from the DLQ; rooms are recomputed only when the
change can touch today; a new guest's first identity needs no key item; events queued and aliases stored
before these changes still work."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local.resources import LocalResources
from tests.integration.beds24.hub import (
    PROPERTY,
    deliver,
    drain_events,
    queued,
    reservation,
    run_consumer,
    set_property,
    stored_event,
)
from tests.integration.beds24.meter import DynamoMeter
from tests.integration.beds24.sandbox import Sandbox, day
from tests.integration.conftest import DEMO_ORG, snapshot_tables


def _stored_size(pk: str, sk: str) -> int:
    """The item's size as DynamoDB bills it (attribute names plus values; numbers counted as text)."""
    from bookinghub.aws.clients import client
    from bookinghub.core.settings import get_settings

    key = {"PK": {"S": pk}, "SK": {"S": sk}}
    item = client("dynamodb").get_item(TableName=get_settings().bookings_table, Key=key)["Item"]
    total = 0
    for name, attribute in item.items():
        ((kind, value),) = attribute.items()
        total += len(name.encode()) + (len(value) if kind == "B" else len(str(value).encode()))
    return total


def _writes(meter: DynamoMeter, prefix: str) -> list[Any]:
    return meter.writes_to(prefix)


def test_an_event_is_one_small_item_written_once_and_a_redelivery_changes_nothing(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    from bookinghub.aws.clients import client
    from bookinghub.beds24.dal.runs import property_events

    booking_id = beds24.create(email="mira.sol@example.com", lastName="Sol")
    (sent,) = beds24.webhooks(booking_id)
    with DynamoMeter() as webhook:
        status, answer = deliver(sent)
    assert (status, answer["status"]) == (200, "queued")
    assert webhook.writes_to("") == []  # the queue message is the event's receipt
    assert [r.operation for r in webhook.requests] == ["GetItem"]  # the token's alias
    (message,) = client("sqs").receive_message(QueueUrl=aws.queue_urls["Beds24Events"], VisibilityTimeout=0)["Messages"]
    for guest_data in ("mira.sol@example.com", "Sol", str(sent.payload["booking"].get("phone") or "Sol")):
        assert guest_data not in message["Body"]  # the body rides sealed: no readable guest data in SQS
    assert json.loads(message["Body"])["event_key"] == answer["event_key"]

    with DynamoMeter() as consumer:
        assert drain_events(aws) == (1, 0)
    (put,) = _writes(consumer, f"HOOKS#{DEMO_ORG}#{PROPERTY}")
    assert put.operation == "PutItem"
    item = put.params["Item"]
    assert not [name for name in item if name.startswith("GSI")]  # no index copy of the event
    assert "B" in item["payload"]  # compressed
    assert _stored_size(item["PK"]["S"], item["SK"]["S"]) < 1024  # one write unit, with its outcome
    assert consumer.writes_to("BEDS24HOOK#") == []
    event = stored_event(answer["event_key"])
    assert event is not None
    assert (event["status"], event["outcome"], event["authenticated_by"]) == ("processed", "created", "token")
    assert event["payload"] == sent.body.decode()
    assert event["received_at"]
    assert event["processed_at"]
    assert event["calls"]

    processed = snapshot_tables()["Bookings"]
    for _ in range(2):  # Beds24 delivers it again, later: queued, applied again, nothing changes
        status, again = deliver(sent)
        assert (status, again["status"]) == (200, "queued")
    assert drain_events(aws) == (2, 0)
    assert snapshot_tables()["Bookings"] == processed
    assert queued(aws, "Beds24Events") == 0

    beds24.modify(booking_id, price=11000)
    deliver(beds24.webhooks(booking_id)[-1])
    assert [e["event_key"] for e in property_events(DEMO_ORG, PROPERTY, 20)] == [answer["event_key"]]  # in SQS
    assert drain_events(aws) == (1, 0)
    listed = property_events(DEMO_ORG, PROPERTY, 20)  # the partition, newest modification first
    assert [(e["status"], e["outcome"]) for e in listed] == [("processed", "modified"), ("processed", "created")]
    assert listed[1]["event_key"] == answer["event_key"]


def test_a_queue_call_that_failed_is_taken_by_the_next_delivery_at_once(
    aws: LocalResources, beds24: Sandbox, prop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.beds24.logic import webhooks as beds24_webhooks

    booking_id = beds24.create()
    (sent,) = beds24.webhooks(booking_id)
    send = beds24_webhooks.send_webhook_event

    def sqs_down(event: Any) -> str:
        raise ConnectionError("SQS unreachable")

    monkeypatch.setattr(beds24_webhooks, "send_webhook_event", sqs_down)
    status, answer = deliver(sent)
    assert (status, answer["code"]) == (500, "SERVER_ERROR")
    monkeypatch.setattr(beds24_webhooks, "send_webhook_event", send)
    status, answer = deliver(sent)  # nothing was stored by the failed delivery: this one is the event
    assert (status, answer["status"]) == (200, "queued")
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    assert len(meter.writes_to("RESERVATION#")) == 1
    assert (stored_event(answer["event_key"]) or {})["status"] == "processed"


def test_a_consumer_run_that_fails_is_retried_and_applies_once(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    from tests.integration.beds24.hub import let_time_pass

    booking_id = beds24.create()
    status, answer = deliver(beds24.webhooks(booking_id)[-1])
    assert status == 200
    beds24.control(fail_with=500, times=3)  # every attempt of this run's read
    assert run_consumer(aws, "Beds24Events", "beds24_events") == (1, 1)  # left for SQS to deliver again
    assert reservation(booking_id) is None
    assert stored_event(answer["event_key"]) is None  # not final: its message, still queued, is its receipt
    assert queued(aws, "Beds24Events") == 1

    let_time_pass("Beds24Events")
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    assert len(meter.writes_to("RESERVATION#")) == 1
    assert (stored_event(answer["event_key"]) or {})["status"] == "processed"


def test_an_event_failing_on_every_receive_is_recorded_failed_in_the_dlq_and_replayed(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    """Nothing acknowledged is lost: the last receive records the event `failed` (the property's page shows
    it) before SQS moves its message to the DLQ, and the operator's redrive applies it and replaces the
    record."""
    from bookinghub.aws.dead_letters import queue_depth, redrive
    from bookinghub.beds24.dal.runs import property_events
    from tests.integration.beds24.hub import let_time_pass

    booking_id = beds24.create()
    status, answer = deliver(beds24.webhooks(booking_id)[-1])
    assert status == 200
    beds24.control(fail_with=503, times=100)  # Beds24 down for every attempt of every receive
    for receive in range(1, 6):
        assert run_consumer(aws, "Beds24Events", "beds24_events") == (1, 1), receive
        expected = None if receive < 5 else "failed"
        assert (stored_event(answer["event_key"]) or {}).get("status") == expected, receive
        let_time_pass("Beds24Events")
    assert run_consumer(aws, "Beds24Events", "beds24_events") == (0, 0)  # SQS moved it to the DLQ
    assert queue_depth(aws.dlq_urls["Beds24Events"]).visible == 1
    (failed,) = property_events(DEMO_ORG, PROPERTY, 20)
    assert failed["status"] == "failed"
    assert "5 attempts" in failed["reason"]
    assert reservation(booking_id) is None

    beds24.control(fail_with=None, times=0)
    assert redrive(aws.dlq_urls["Beds24Events"], aws.queue_urls["Beds24Events"]).moved == 1
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    assert len(meter.writes_to("RESERVATION#")) == 1
    event = stored_event(answer["event_key"]) or {}
    assert (event["status"], event["outcome"], event.get("reason")) == ("processed", "created", None)


def _room_reads(meter: DynamoMeter) -> list[Any]:
    return [r for r in meter.requests if r.operation == "Query"]


def test_rooms_are_recomputed_only_when_the_change_can_touch_today(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    from bookinghub.beds24.logic.rooms import room_statuses

    later = beds24.create(arrival=day(30), departure=day(33))
    deliver(beds24.webhooks(later)[-1])
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    assert _room_reads(meter) == []  # pulled every 5 minutes: its runs recompute the rooms

    now = beds24.create(arrival=day(-1), departure=day(2), roomId=502)
    deliver(beds24.webhooks(now)[-1])
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    assert _room_reads(meter)
    assert {r["beds24_room_id"]: r["status"] for r in room_statuses(prop)}[502] == "occupied"

    beds24.modify(now, arrival=day(20), departure=day(22))  # moved away from today: the room is free again
    deliver(beds24.webhooks(now)[-1])
    assert drain_events(aws) == (1, 0)
    assert {r["beds24_room_id"]: r["status"] for r in room_statuses(prop)}[502] == "vacant"

    set_property(pull_sync_enabled=False)  # only its events move the rooms to a new day: every one does
    beds24.modify(later, price=9000)
    deliver(beds24.webhooks(later)[-1])
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    assert _room_reads(meter)


def test_a_new_guest_s_first_identity_needs_no_key_item(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    first = beds24.create(email="Ken.Ito@example.jp", firstName="Ken", lastName="Ito")
    deliver(beds24.webhooks(first)[-1])
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    assert len(meter.writes_to("GUEST#")) == 1
    assert meter.writes_to("GUESTKEY#") == []

    second = beds24.create(email="ken.ito@EXAMPLE.jp", mobile="+81 90 1234 5678", firstName="Ken", lastName="Ito")
    deliver(beds24.webhooks(second)[-1])
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    keys = [k for r in meter.writes_to("GUESTKEY#") for k in r.partition_keys() if k.startswith("GUESTKEY#")]
    assert keys == [f"GUESTKEY#{DEMO_ORG}#phone#+819012345678"]  # only the identity it did not found with
    guest_id = (reservation(first) or {})["guest_id"]
    assert (reservation(second) or {})["guest_id"] == guest_id

    third = beds24.create(email="", mobile="+81 90 1234 5678", firstName="Ken", lastName="Ito")
    deliver(beds24.webhooks(third)[-1])
    assert drain_events(aws) == (1, 0)
    assert (reservation(third) or {})["guest_id"] == guest_id


def test_events_and_aliases_stored_before_still_work(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    """A message queued before events moved to their property's partition names only its key; an alias
    written before aliases carried what a webhook needs names only its property."""
    from bookinghub.aws import keys
    from bookinghub.aws.clients import client
    from bookinghub.aws.codec import to_item
    from bookinghub.beds24.dal.properties import forget_recent_properties
    from bookinghub.beds24.logic.properties import token_hash
    from bookinghub.core.settings import get_settings
    from tests.integration.beds24.hub import SECRET

    table = get_settings().bookings_table
    booking_id = beds24.create()
    (sent,) = beds24.webhooks(booking_id)
    legacy = {
        "PK": keys.webhook_pk("old-key"),
        "SK": keys.WEBHOOK_SK,
        "organisation_id": DEMO_ORG,
        "property_id": PROPERTY,
        "beds24_booking_id": booking_id,
        "hint": "modified",
        "authenticated_by": "token",
        "status": "queued",
        "received_at": "2026-11-30T10:00:00.000000Z",
        "payload": sent.body.decode(),
    }
    client("dynamodb").put_item(TableName=table, Item=to_item(legacy))
    client("sqs").send_message(
        QueueUrl=aws.queue_urls["Beds24Events"], MessageBody=json.dumps({"event_key": "old-key"})
    )
    assert drain_events(aws) == (1, 0)
    assert reservation(booking_id) is not None
    assert (stored_event("legacy#old-key") or {})["status"] == "processed"

    alias = {"PK": keys.beds24_token_alias_pk(token_hash(SECRET)), "SK": keys.ALIAS_SK}
    client("dynamodb").put_item(
        TableName=table, Item=to_item({**alias, "organisation_id": DEMO_ORG, "property_id": PROPERTY})
    )
    forget_recent_properties()  # another environment: nothing recent (the alias is read, not remembered)
    beds24.modify(booking_id, price=13000)
    status, answer = deliver(beds24.webhooks(booking_id)[-1])
    assert (status, answer["status"]) == (200, "queued")
    set_property(status="inactive")  # an edit rewrites the alias with what a webhook needs
    stored = client("dynamodb").get_item(TableName=table, Key=to_item(alias))["Item"]
    assert stored["status"] == {"S": "inactive"}
    beds24.modify(booking_id, price=14000)
    assert deliver(beds24.webhooks(booking_id)[-1])[0] == 401


def test_a_sealed_body_opens_only_as_its_own_event(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    """The body is sealed bound to its event: a message naming another event (or property) with it is
    refused by the consumer (retried, then the DLQ), never applied as that event."""
    from bookinghub.aws.clients import client

    booking_id = beds24.create()
    status, _answer = deliver(beds24.webhooks(booking_id)[-1])
    assert status == 200
    sqs, url = client("sqs"), aws.queue_urls["Beds24Events"]
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    moved = json.loads(message["Body"]) | {"event_key": "2030-01-01T00:00:00Z#1#live#12345"}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(moved))
    assert run_consumer(aws, "Beds24Events", "beds24_events") == (1, 1)
    assert reservation(booking_id) is None
    assert stored_event(moved["event_key"]) is None


def test_a_body_too_large_for_its_message_is_stored_and_its_reference_queued(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    """A webhook near the 256 KB limit that does not compress does not fit a queue message sealed: its
    receipt is the stored event (as before messages carried their event), its message names it."""
    import base64
    import os

    from tests.integration.beds24.hub import SECRET, post_webhook, queued_bodies, webhook_body

    payload = webhook_body(40000991, propertyId=12345, notes=base64.b64encode(os.urandom(180_000)).decode())
    status, answer = post_webhook(payload, token=SECRET)
    assert (status, answer["status"]) == (200, "queued")
    (message,) = queued_bodies("Beds24Events")
    assert len(message) < 300  # ids only
    assert (stored_event(answer["event_key"]) or {})["status"] == "queued"
    assert post_webhook(payload, token=SECRET)[1]["status"] == "duplicate"  # the stored receipt recognises it
    assert drain_events(aws) == (1, 0)
    event = stored_event(answer["event_key"]) or {}
    assert (event["status"], event["outcome"]) == ("processed", "deleted")  # Beds24 does not have it
    assert json.loads(event["payload"])["booking"]["notes"] == payload["booking"]["notes"]
