"""The hub side of the Beds24 tests: demo-org's property, webhooks posted through the beds24_webhook handler,
the Beds24Events / Beds24Sync queues drained through their consumers (as Lambda's event source mapping
does), and what the hub stored."""

from __future__ import annotations

import json
import time
from typing import Any

from infra import topology
from infra.local.invoke import LocalLambdaContext, invoke, load_handler
from infra.local.resources import LocalResources, queue_name
from infra.local.workers import failed_message_ids, sqs_record
from tests.conftest import load_event
from tests.integration.beds24.sandbox import Sent
from tests.integration.conftest import DEMO_ORG

PROPERTY = "beach-hotel"
SECRET = "beds24-webhook-secret-for-tests"
OTHER_SECRET = "another-beds24-webhook-secret"
ROOM_MAPPING = {"501": "Deluxe Double", "502": "Family Suite", "503": "Garden Bungalow"}
WEBHOOK_PATH = "/api/integrations/beds24/webhook"
HOOK_URL = f"https://hub.example.com{WEBHOOK_PATH}?token={SECRET}"
MAX_WAIT_SECONDS = 2  # HUB_BEDS24_MAX_WAIT_SECONDS: credit waits up to this long happen in-process


def current_property() -> Any:
    from bookinghub.beds24.dal.properties import get_property

    found = get_property(DEMO_ORG, PROPERTY)
    assert found is not None
    return found


def set_property(**changes: Any) -> Any:
    """An operator's edit of the property (bookinghub.beds24.logic.properties.update_property)."""
    from bookinghub.beds24.logic.properties import update_property

    return update_property(current_property(), changes)


# --- Webhooks into the hub -------------------------------------------------------------------------------


def webhook_event(body: bytes, *, query: dict[str, str] | None, headers: dict[str, str]) -> dict[str, Any]:
    """The sample API Gateway event of POST /api/integrations/beds24/webhook with this request (a body
    that is not UTF-8 is passed base64-encoded, as API Gateway does)."""
    import base64

    event = load_event("beds24_webhook/booking_modified")
    try:
        event["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        event.update(body=base64.b64encode(body).decode("ascii"), isBase64Encoded=True)
    event["queryStringParameters"] = dict(query) if query else None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    for name, value in headers.items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    return event


def post_webhook(
    body: bytes | dict[str, Any],
    *,
    token: str | None = None,
    header_token: str | None = None,
    signature: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """POST a webhook through the beds24_webhook handler; returns (status, JSON body)."""
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    headers = {}
    if header_token is not None:
        headers["X-Beds24-Token"] = header_token
    if signature is not None:
        headers["X-Beds24-Signature"] = signature
    query = {"token": token} if token is not None else None
    response = invoke("beds24_webhook", webhook_event(raw, query=query, headers=headers))
    return response["statusCode"], json.loads(response["body"])


def deliver(sent: Sent) -> tuple[int, dict[str, Any]]:
    """A captured sandbox webhook, delivered to the hub as Beds24 would (URL token, headers, body)."""
    event = webhook_event(sent.body, query=sent.query, headers=sent.headers)
    response = invoke("beds24_webhook", event)
    return response["statusCode"], json.loads(response["body"])


def sign(body: bytes, secret: str = SECRET) -> str:
    import hashlib
    import hmac

    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(booking_id: int = 40000001, **booking: Any) -> dict[str, Any]:
    """The sample event's webhook payload with booking fields replaced."""
    payload = json.loads(load_event("beds24_webhook/booking_modified")["body"])
    payload["booking"].update(id=booking_id, **booking)
    return dict(payload)


# --- The queues and their consumers ----------------------------------------------------------------------


def _sqs() -> Any:
    from bookinghub.aws.clients import client

    return client("sqs")


class ShortOfTime(LocalLambdaContext):
    """A Lambda context whose invocation is always about to end."""

    def get_remaining_time_in_millis(self) -> int:
        return 1_000


def run_consumer(aws: LocalResources, queue: str, function: str, *, short_of_time: bool = False) -> tuple[int, int]:
    """One receive from `queue` handed to `function` (as Lambda's event source mapping does: successes
    deleted, failures left in flight). Returns (messages, failures)."""
    fn = topology.function(function)
    assert fn.queue is not None
    url = aws.queue_urls[queue]
    received = (
        _sqs()
        .receive_message(
            QueueUrl=url, MaxNumberOfMessages=fn.queue.batch_size, AttributeNames=["All"], WaitTimeSeconds=0
        )
        .get("Messages", [])
    )
    if not received:
        return 0, 0
    arn = _sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    event = {"Records": [sqs_record(message, arn, "us-east-1") for message in received]}
    context_type = ShortOfTime if short_of_time else LocalLambdaContext
    context = context_type(function_name=fn.name, timeout_seconds=fn.timeout_seconds)
    response = load_handler(fn)(event, context)
    failed = failed_message_ids(response, [m["MessageId"] for m in received])
    for message in received:
        if message["MessageId"] not in failed:
            _sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return len(received), len(failed)


def drain(aws: LocalResources, queue: str, function: str, *, short_of_time: bool = False) -> tuple[int, int]:
    """Run the consumer until nothing is visible on the queue; returns (messages, failures) in total."""
    messages = failures = 0
    for _ in range(50):
        received, failed = run_consumer(aws, queue, function, short_of_time=short_of_time)
        if not received:
            return messages, failures
        messages, failures = messages + received, failures + failed
    raise AssertionError(f"{queue} did not drain")


def drain_events(aws: LocalResources) -> tuple[int, int]:
    return drain(aws, "Beds24Events", "beds24_events")


def drain_sync(aws: LocalResources, *, short_of_time: bool = False) -> tuple[int, int]:
    return drain(aws, "Beds24Sync", "beds24_sync", short_of_time=short_of_time)


def _moto_queue(queue: str) -> Any:
    from moto.sqs.models import sqs_backends

    name = queue_name(next(q for q in topology.QUEUES if q.name == queue))
    return sqs_backends["123456789012"]["us-east-1"].queues[name]


def waiting_seconds(queue: str) -> list[float]:
    """For each message of the queue: how long until it can be received (delay or visibility)."""
    now_ms = time.time() * 1000
    return [max(m.visible_at, m.delayed_until, now_ms) / 1000 - now_ms / 1000 for m in _moto_queue(queue)._messages]


def queued_bodies(queue: str) -> list[str]:
    """The bodies of the queue's messages (delayed and in flight ones too), left where they are."""
    return [m.body for m in _moto_queue(queue)._messages]


def let_time_pass(queue: str) -> None:
    """What the passing of time does for delayed and postponed messages: make them receivable now."""
    for message in _moto_queue(queue)._messages:
        message.visible_at = 0.0
        message.delayed_until = 0.0


def queued(aws: LocalResources, queue: str) -> int:
    attributes = _sqs().get_queue_attributes(
        QueueUrl=aws.queue_urls[queue],
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


# --- What the hub stored ---------------------------------------------------------------------------------


def reservation(beds24_booking_id: int) -> dict[str, Any] | None:
    from bookinghub.beds24.dal.reservations import get_reservations
    from bookinghub.beds24.logic.mapping import reservation_id_for

    reservation_id = reservation_id_for(DEMO_ORG, beds24_booking_id)
    return get_reservations([reservation_id]).get(reservation_id)


def guest(guest_id: str) -> Any:
    from bookinghub.guests.dal.guests import get_guests

    return get_guests([guest_id])[guest_id]


def stored_event(event_key: str, property_id: str = PROPERTY) -> dict[str, Any] | None:
    from bookinghub.beds24.dal.runs import EventRef, get_event

    return get_event(EventRef(DEMO_ORG, property_id, event_key))


def get_run(run_id: str) -> Any:
    from bookinghub.beds24.dal.runs import get_run as load

    run = load(run_id)
    assert run is not None
    return run


def start_run(mode: str, **options: Any) -> Any:
    from bookinghub.beds24.logic.sync import start_run as start

    return start(current_property(), mode, trigger="test", **options)  # type: ignore[arg-type]


def sync(aws: LocalResources, mode: str, **options: Any) -> Any:
    """Start a run and drain Beds24Sync; returns the finished run."""
    run = start_run(mode, **options)
    drain_sync(aws)
    return get_run(run.run_id)
