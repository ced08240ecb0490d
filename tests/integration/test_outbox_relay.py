"""The outbox relay: outbox items on the Bookings stream become BookingEvents messages (moto)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from bookinghub.aws.codec import from_item, to_item
from bookinghub.bookings.dal.logs import event_from_outbox_item, event_item
from infra.local.invoke import invoke
from infra.local.resources import LocalResources
from tests.conftest import load_event, reset_caches


def sample_event() -> dict[str, Any]:
    return load_event("outbox_relay/outbox_insert")


def queued(aws: LocalResources) -> list[dict[str, Any]]:
    response = boto3.client("sqs", region_name="us-east-1").receive_message(
        QueueUrl=aws.queue_urls["BookingEvents"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )
    return response.get("Messages", [])


def test_outbox_item_round_trips_to_its_event() -> None:
    record = sample_event()["Records"][0]
    event = event_from_outbox_item(from_item(record["dynamodb"]["NewImage"]))
    assert event.origin == "admin:ops@example.com"
    assert event.data["status"] == "cancelled"
    # Written back through dal/logs.event_item, it reads as the same event: the two stay inverses (the item
    # leaves out what it holds already: the time is in its sort key, changed_fields are the data's keys)
    item = to_item(event_item(event.model_dump(exclude_none=True)))
    assert event_from_outbox_item(from_item(item)) == event
    stored_twice = {"changed_fields", "occurred_at"}
    assert {k: v for k, v in record["dynamodb"]["NewImage"].items() if k not in stored_twice} == item


def test_sample_insert_is_relayed_with_its_event_id_attribute(aws: LocalResources) -> None:
    event = sample_event()
    assert invoke("outbox_relay", event) == {"batchItemFailures": []}
    (message,) = queued(aws)
    body = json.loads(message["Body"])
    assert body["event_id"] == "5d0c8a3e-2f1b-4c7a-9e61-0b9d2f4a7c11"
    assert body["data"]["customer_email"] == "jane.doe@example.com"
    attributes = message["MessageAttributes"]
    assert attributes["event_id"]["StringValue"] == body["event_id"]
    assert attributes["event_type"]["StringValue"] == "booking.status_changed"


def test_relaying_twice_sends_twice_and_the_consumer_dedupes(aws: LocalResources) -> None:
    # At-least-once on purpose: a stream retry re-sends; booking_events is idempotent on event_id
    invoke("outbox_relay", sample_event())
    invoke("outbox_relay", sample_event())
    bodies = [json.loads(m["Body"]) for m in queued(aws)]
    assert [b["event_id"] for b in bodies] == ["5d0c8a3e-2f1b-4c7a-9e61-0b9d2f4a7c11"] * 2


def test_non_outbox_and_malformed_records_are_passed_over_not_retried(aws: LocalResources) -> None:
    event = sample_event()
    good = event["Records"][0]
    modify = json.loads(json.dumps(good))
    modify["eventName"] = "MODIFY"
    booking = json.loads(json.dumps(good))
    booking["dynamodb"]["NewImage"]["SK"] = {"S": "BOOKING"}
    malformed = json.loads(json.dumps(good))
    malformed["dynamodb"]["NewImage"]["data"] = {"S": "{not json"}
    missing = json.loads(json.dumps(good))
    del missing["dynamodb"]["NewImage"]["booking_id"]
    for number, record in enumerate((modify, booking, malformed, missing, good), start=1):
        record["dynamodb"]["SequenceNumber"] = f"{number:024d}"
    event["Records"] = [modify, booking, malformed, missing, good]

    assert invoke("outbox_relay", event) == {"batchItemFailures": []}
    assert len(queued(aws)) == 1


def test_a_failed_send_is_reported_for_a_retry(aws: LocalResources, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKING_EVENTS_QUEUE_URL", aws.queue_urls["BookingEvents"] + "-missing")
    reset_caches()
    event = sample_event()
    result = invoke("outbox_relay", event)
    sequence = event["Records"][0]["dynamodb"]["SequenceNumber"]
    assert result == {"batchItemFailures": [{"itemIdentifier": sequence}]}


# --- Booking changes on the stream (the event stamped on the booking item) ---------------------------


def test_a_booking_change_becomes_one_event_and_one_timeline_item_however_often_it_is_relayed(
    test_website: Any, aws: LocalResources
) -> None:
    from tests.integration.conftest import outbox_events, post_sync, seed_body, stream_records

    status, synced = post_sync(seed_body())
    assert status == 200
    records = stream_records()
    (change,) = [r for r in records if r["dynamodb"]["NewImage"]["SK"]["S"] == "BOOKING"]
    # Redelivered by the stream (a retried batch): one timeline item, one event id
    for _ in range(2):
        assert invoke("outbox_relay", {"Records": [change]}) == {"batchItemFailures": []}
    (event,) = outbox_events(synced["booking_id"])
    assert (event["event_type"], event["origin"]) == ("booking.created", "website:test-website")
    assert event["relayed"] is True
    assert json.loads(event["data"])["booking_ref"] == "HW-000023"
    assert queued(aws) == []  # the website's own change, and no subscription wants it

    # A write that stamps nothing new (the same stamp in both images: e.g. the PMS path) makes no event
    same = json.loads(json.dumps(change))
    same["eventName"] = "MODIFY"
    same["dynamodb"]["OldImage"] = same["dynamodb"]["NewImage"]
    assert invoke("outbox_relay", {"Records": [same]}) == {"batchItemFailures": []}
    assert len(outbox_events(synced["booking_id"])) == 1


def test_a_websites_own_change_is_queued_when_a_subscription_wants_it(
    test_website: Any, aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.conftest import post_sync, relay_stream, seed_body
    from tests.integration.delivery.conftest import subscription

    monkeypatch.setenv("HUB_ALLOW_INSECURE_WEBHOOKS", "true")
    reset_caches()
    subscription("http://127.0.0.1:9/hooks", event_types=["booking.created"])
    assert post_sync(seed_body())[0] == 200
    relay_stream()
    (message,) = queued(aws)
    assert json.loads(message["Body"])["origin"] == "website:test-website"


def test_an_unreadable_booking_stamp_is_passed_over_not_retried(aws: LocalResources) -> None:
    record = sample_event()["Records"][0]
    record["eventName"] = "MODIFY"
    image = record["dynamodb"]["NewImage"]
    image["SK"] = {"S": "BOOKING"}
    image["event_id"] = {"S": "not-an-id"}
    assert invoke("outbox_relay", {"Records": [record]}) == {"batchItemFailures": []}
    assert queued(aws) == []


def test_the_echo_check_reads_an_organisations_subscriptions_once_per_period(
    test_website: Any, aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Echoes of one organisation cost one subscriptions Query per period; a subscription made in this
    environment counts at once, one made elsewhere (not seen here) once the period is over."""
    from bookinghub.aws.clients import client
    from bookinghub.bookings.logic import outbox
    from bookinghub.delivery.dal import endpoints as endpoint_store
    from tests.integration.conftest import post_sync, relay_stream, seed_body
    from tests.integration.delivery.conftest import subscription

    monkeypatch.setenv("HUB_ALLOW_INSECURE_WEBHOOKS", "true")
    reset_caches()
    queries: list[str] = []
    client("dynamodb").meta.events.register("before-call.dynamodb.Query", lambda **_: queries.append("Query"))

    for n in range(3):  # echoes nobody wants: one read of the subscriptions for the three
        assert post_sync(seed_body(source_booking_id=f"echo-{n}"))[0] == 200
        relay_stream()
    assert (len(queries), queued(aws)) == (1, [])

    subscription("http://127.0.0.1:9/hooks", event_types=["booking.created"])  # made here: seen at once
    assert post_sync(seed_body(source_booking_id="wanted-1"))[0] == 200
    relay_stream()
    assert [json.loads(m["Body"])["source_booking_id"] for m in queued(aws)] == ["wanted-1"]

    # Made in another environment: this one's read is still fresh, so the echo is not queued...
    endpoint_store.forget_recent_endpoints()
    with monkeypatch.context() as patched:
        patched.setattr(endpoint_store, "list_endpoints", lambda organisation_id: [])
        assert post_sync(seed_body(source_booking_id="lagging"))[0] == 200
        relay_stream()
    assert post_sync(seed_body(source_booking_id="still-lagging"))[0] == 200
    relay_stream()
    assert queued(aws) == []
    # ...until the period is over
    monkeypatch.setattr(outbox, "SUBSCRIPTIONS_MAX_AGE_SECONDS", 0.0)
    assert post_sync(seed_body(source_booking_id="wanted-2"))[0] == 200
    relay_stream()
    assert [json.loads(m["Body"])["source_booking_id"] for m in queued(aws)] == ["wanted-2"]
