"""Sync back to source websites, end to end on moto and a live sandbox receiver on 127.0.0.1.

Outbox item (dal/logs.event_item) -> outbox_relay (stream event) -> BookingEvents queue -> booking_events
(fan-out into deliveries) -> Deliveries queue -> deliver_webhooks -> signed POST to the website's webhook.
The receiver is infra/local/sandbox's app served by werkzeug.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from werkzeug.serving import make_server

from infra.local.invoke import invoke
from infra.local.resources import LocalResources
from infra.local.sandbox.website_receiver import create_app
from tests.conftest import load_event, reset_caches
from tests.integration.conftest import outbox_events
from tests.integration.delivery.conftest import pump

WEBSITE_ID = "test-website"
SECRET = "whsec_integration_secret"
API_KEY = "test_sk_xxxxx"  # the key the sync_bookings sample events carry


@dataclass
class Receiver:
    base_url: str
    secrets: dict[str, str]

    def deliveries(self, website_id: str = WEBSITE_ID) -> list[dict[str, Any]]:
        response = requests.get(f"{self.base_url}/{website_id}/deliveries", timeout=5)
        response.raise_for_status()
        return response.json()

    def fail_next(self, status: int, times: int = 1, website_id: str = WEBSITE_ID) -> None:
        command: dict[str, Any] = {"website_id": website_id, "fail_with": status, "times": times}
        requests.post(f"{self.base_url}/_control", json=command, timeout=5).raise_for_status()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    secrets: dict[str, str] = {}
    server = make_server("127.0.0.1", 0, create_app(secrets), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Receiver(base_url=f"http://127.0.0.1:{server.port}", secrets=secrets)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def hook_website(aws: LocalResources, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Any:
    """test-website with its webhook on the local receiver (plain http on loopback, allowed locally)."""
    from bookinghub.websites.logic.registry import register_website

    monkeypatch.setenv("HUB_ALLOW_INSECURE_WEBHOOKS", "true")
    monkeypatch.setenv("HUB_DELIVERY_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("HUB_DELIVERY_TIME_SCALE", "0.001")  # the retry schedule in milliseconds
    reset_caches()
    receiver.secrets[WEBSITE_ID] = SECRET
    return register_website(
        website_id=WEBSITE_ID,
        organisation_id="demo-org",
        name="Test Website",
        domain="test.example.com",
        webhook_url=f"{receiver.base_url}/{WEBSITE_ID}/api/webhooks/onebooking",
        api_key=API_KEY,
        webhook_secret=SECRET,
    )


# --- the pipeline, step by step ---------------------------------------------------------------------


def store_admin_event(**changes: Any) -> dict[str, Any]:
    """An operator's change, written through the same outbox path as the inbound sync (dal/logs.event_item)."""
    from bookinghub.aws.clients import client
    from bookinghub.aws.codec import to_item
    from bookinghub.aws.keys import booking_id_for
    from bookinghub.bookings.dal.logs import event_item
    from bookinghub.core.clock import iso_now
    from bookinghub.core.settings import get_settings

    event: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "event_type": "booking.status_changed",
        "booking_id": booking_id_for(WEBSITE_ID, "src-booking-0001"),
        "website_id": WEBSITE_ID,
        "organisation_id": "demo-org",
        "source_booking_id": "src-booking-0001",
        "origin": "admin:ops@example.com",
        "changed_fields": ["admin_notes", "customer_email", "status"],
        "data": {
            "status": "cancelled",
            "admin_notes": "Customer requested cancellation due to flight change",
            "customer_email": "jane.doe@example.com",
        },
        "occurred_at": iso_now(),
        "actor": "ops@example.com",
        **changes,
    }
    client("dynamodb").put_item(TableName=get_settings().bookings_table, Item=to_item(event_item(event)))
    return event


def stored_outbox_items(booking_id: str) -> list[dict[str, Any]]:
    """The outbox items beside a booking, as DynamoDB hands them to the stream (typed attribute maps)."""
    from bookinghub.core.settings import get_settings

    response = boto3.client("dynamodb", region_name="us-east-1").query(
        TableName=get_settings().bookings_table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :event)",
        ExpressionAttributeValues={":pk": {"S": f"BOOKING#{booking_id}"}, ":event": {"S": "EVENT#"}},
    )
    return response["Items"]


def stream_event(items: list[dict[str, Any]], aws: LocalResources) -> dict[str, Any]:
    """A DynamoDB stream event carrying INSERTs of the given items (the sample event as template)."""
    template = load_event("outbox_relay/outbox_insert")["Records"][0]
    records = []
    for number, item in enumerate(items, start=1):
        record = json.loads(json.dumps(template))
        record["eventID"] = uuid.uuid4().hex
        record["eventSourceARN"] = aws.stream_arns["Bookings"]
        record["dynamodb"].update(
            Keys={"PK": item["PK"], "SK": item["SK"]}, NewImage=item, SequenceNumber=f"{number:024d}"
        )
        records.append(record)
    return {"Records": records}


def receive_messages(aws: LocalResources) -> list[dict[str, Any]]:
    response = boto3.client("sqs", region_name="us-east-1").receive_message(
        QueueUrl=aws.queue_urls["BookingEvents"],
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
        AttributeNames=["All"],
        WaitTimeSeconds=0,
    )
    return response.get("Messages", [])


def make_visible_again(aws: LocalResources, message: dict[str, Any]) -> None:
    """What the visibility timeout does for a record the consumer reported as failed."""
    boto3.client("sqs", region_name="us-east-1").change_message_visibility(
        QueueUrl=aws.queue_urls["BookingEvents"], ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )


def sqs_event(messages: list[dict[str, Any]], aws: LocalResources) -> dict[str, Any]:
    """Lambda's SQS event for received messages (the sample batch as template)."""
    template = load_event("booking_events/admin_changes")["Records"][0]
    records = []
    for message in messages:
        record = json.loads(json.dumps(template))
        record.update(
            messageId=message["MessageId"],
            receiptHandle=message["ReceiptHandle"],
            body=message["Body"],
            md5OfBody=message["MD5OfBody"],
            attributes=message["Attributes"],
            messageAttributes={
                name: {
                    "stringValue": value["StringValue"],
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
        )
        records.append(record)
    return {"Records": records}


def relay_to_queue(booking_id: str, aws: LocalResources) -> list[dict[str, Any]]:
    """The stream's pending records (booking changes, event items) through outbox_relay, then what it
    queued. (`booking_id`: the booking whose records the caller expects; the stream carries them all.)"""
    from tests.integration.conftest import relay_stream

    relay_stream()
    return receive_messages(aws)


def outbound_logs() -> list[dict[str, Any]]:
    """The outbound sync log rows, oldest first, as their SyncLog's fields (payload decoded)."""
    from tests.integration.conftest import sync_logs

    return [log for log in sync_logs() if log["direction"] == "outbound"]


def verify_like_the_seed(delivery: dict[str, Any], secret: str) -> bool:
    signed = f"{delivery['timestamp']}.{delivery['raw_body']}".encode()
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, delivery["signature"])


# --- tests -----------------------------------------------------------------------------------------


def test_admin_change_is_delivered_signed_exactly_once(
    hook_website: Any, receiver: Receiver, aws: LocalResources
) -> None:
    event = store_admin_event()
    (message,) = relay_to_queue(event["booking_id"], aws)
    assert message["MessageAttributes"]["event_id"]["StringValue"] == event["event_id"]

    batch = sqs_event([message], aws)
    assert invoke("booking_events", batch) == {"batchItemFailures": []}
    # The same record again (a duplicate or redelivered message): no second delivery, not posted again
    assert invoke("booking_events", batch) == {"batchItemFailures": []}
    pump(aws)

    (delivery,) = receiver.deliveries()
    assert delivery["times_received"] == 1
    assert delivery["webhook_id"] == event["event_id"]
    assert verify_like_the_seed(delivery, SECRET)
    assert not verify_like_the_seed(delivery, "whsec_someone_else")
    assert delivery["body"] == {
        "event": "booking.status_changed",
        "source_booking_id": "src-booking-0001",
        "updated_fields": ["admin_notes", "customer_email", "status"],
        "data": {
            "admin_notes": "Customer requested cancellation due to flight change",
            "customer_email": "jane.doe@example.com",
            "status": "cancelled",
        },
        "updated_at": event["occurred_at"],
        "updated_by": "ops@example.com",
        "sequence": delivery["body"]["sequence"],
    }
    assert isinstance(delivery["body"]["sequence"], int)

    (log,) = outbound_logs()
    assert (log["status"], log["http_status_code"], log["attempt"]) == ("success", 200, 1)
    assert log["website_id"] == WEBSITE_ID
    assert log["booking_id"] == event["booking_id"]
    assert log["event_type"] == "booking.status_changed"
    assert isinstance(log["duration_ms"], int)
    payload = log["payload"]
    assert payload["data"]["customer_email"] == "j***@example.com"
    assert "jane.doe" not in json.dumps(payload)


def test_a_websites_own_change_is_not_echoed_back(hook_website: Any, receiver: Receiver, aws: LocalResources) -> None:
    response = invoke("sync_bookings", load_event("sync_bookings/booking_created"))
    assert response["statusCode"] == 200, response
    booking_id = json.loads(response["body"])["booking_id"]
    # Decided before the queue: no subscription wants it, so nothing is queued (its timeline item is written)
    assert relay_to_queue(booking_id, aws) == []
    assert [e["origin"] for e in outbox_events(booking_id)] == [f"website:{WEBSITE_ID}"]
    assert pump(aws) == 0
    assert receiver.deliveries() == []
    assert outbound_logs() == []


def test_a_server_error_is_retried_by_the_queue_then_delivered(
    hook_website: Any, receiver: Receiver, aws: LocalResources
) -> None:
    event = store_admin_event()
    (message,) = relay_to_queue(event["booking_id"], aws)
    receiver.fail_next(500)

    assert invoke("booking_events", sqs_event([message], aws)) == {"batchItemFailures": []}
    pump(aws)  # the 500, then the retry on its (scaled) 1 s timer

    (delivery,) = receiver.deliveries()
    assert delivery["times_received"] == 1
    assert verify_like_the_seed(delivery, SECRET)
    logs = outbound_logs()
    assert [(r["status"], r["http_status_code"], r["attempt"]) for r in logs] == [
        ("pending", 500, 1),
        ("success", 200, 2),
    ]
    assert "HTTP 500" in logs[0]["error_message"]


def test_a_refusal_is_logged_failed_and_never_retried(
    hook_website: Any, receiver: Receiver, aws: LocalResources
) -> None:
    event = store_admin_event(
        event_type="booking.updated", changed_fields=["admin_notes"], data={"admin_notes": "Call +66 81 234 5678 first"}
    )
    (message,) = relay_to_queue(event["booking_id"], aws)
    receiver.fail_next(400)

    batch = sqs_event([message], aws)
    assert invoke("booking_events", batch) == {"batchItemFailures": []}
    pump(aws)
    # Delivered again anyway (e.g. a duplicate message): the refusal is final, nothing is posted
    assert invoke("booking_events", batch) == {"batchItemFailures": []}
    pump(aws)

    assert receiver.deliveries() == []  # the receiver would have accepted a second POST
    (log,) = outbound_logs()
    assert (log["status"], log["http_status_code"], log["event_type"]) == ("failed", 400, "booking.updated")
    assert "HTTP 400" in log["error_message"]


def test_one_failing_record_does_not_hold_back_the_others(
    hook_website: Any, receiver: Receiver, aws: LocalResources
) -> None:
    from bookinghub.websites.logic.registry import register_website

    receiver.secrets["down-website"] = "whsec_down"
    register_website(
        website_id="down-website",
        organisation_id="demo-org",
        name="Down",
        domain="down.example.com",
        webhook_url=f"{receiver.base_url}/down-website/api/webhooks/onebooking",
        webhook_secret="whsec_down",
    )
    receiver.fail_next(503, times=5, website_id="down-website")
    good = store_admin_event()
    bad = store_admin_event(website_id="down-website", booking_id=str(uuid.uuid4()))
    messages = relay_to_queue(good["booking_id"], aws) + relay_to_queue(bad["booking_id"], aws)
    by_event = {json.loads(m["Body"])["event_id"]: m for m in messages}

    result = invoke("booking_events", sqs_event(list(by_event.values()), aws))
    assert result == {"batchItemFailures": []}
    pump(aws, idle_rounds=1)
    # the good website got its event at once; the down one is still being retried on its schedule
    assert [d["webhook_id"] for d in receiver.deliveries()] == [good["event_id"]]
    pump(aws, idle_rounds=60)
    assert sorted(d["webhook_id"] for d in receiver.deliveries() + receiver.deliveries("down-website")) == sorted(
        [good["event_id"], bad["event_id"]]
    )
