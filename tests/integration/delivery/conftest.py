"""Delivery tests: moto (mock_aws) plus a loopback receiver started per test (http.server on 127.0.0.1:0)
that records what it gets and can be told to fail, be slow, answer 410 or 429, or be down."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from infra.local.resources import LocalResources
from tests.conftest import reset_caches

ORG = "demo-org"
WEBSITE_ID = "test-website"
SECRET = "whsec_local_demo_only"


@dataclass
class Reply:
    status: int = 200
    delay: float = 0.0
    body: str = '{"success":true}'
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Receiver:
    base_url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    script: list[Reply] = field(default_factory=list)  # replies to give next, then `default`
    default: Reply = field(default_factory=Reply)
    by_path: dict[str, list[Reply]] = field(default_factory=dict)  # the same, for one path only
    path_defaults: dict[str, Reply] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    most_in_flight: int = 0  # requests being answered at once, at most: overlap without a wall clock

    def url(self, path: str = "/hook") -> str:
        return f"{self.base_url}{path}"

    def next_reply(self, path: str) -> Reply:
        with self.lock:
            if self.by_path.get(path):
                return self.by_path[path].pop(0)
            if path in self.path_defaults:
                return self.path_defaults[path]
            return self.script.pop(0) if self.script else self.default

    def delivered(self) -> list[dict[str, Any]]:
        """What the receiver accepted (answered 2xx)."""
        return [r for r in self.received if 200 <= r["answered"] < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rec = state["r"]
            reply = rec.next_reply(self.path)
            with rec.lock:
                rec.in_flight += 1
                rec.most_in_flight = max(rec.most_in_flight, rec.in_flight)
            if reply.delay:
                time.sleep(reply.delay)
            with rec.lock:
                rec.in_flight -= 1
                rec.received.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body.decode(), "answered": reply.status}
                )
            payload = reply.body.encode()
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["r"] = Receiver(base_url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state["r"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def delivery_env(aws: LocalResources, monkeypatch: pytest.MonkeyPatch) -> LocalResources:
    """Loopback http allowed (as under `make run`), the schedule scaled to milliseconds, short timeouts."""
    for name, value in {
        "HUB_ALLOW_INSECURE_WEBHOOKS": "true",
        "HUB_DELIVERY_TIME_SCALE": "0.001",
        "HUB_DELIVERY_TIMEOUT_SECONDS": "2",
        "HUB_DELIVERY_JITTER": "0",
        "HUB_DELIVERY_BREAKER_THRESHOLD": "1000",
        "DELIVERY_PRODUCER_SECRET": "producer-secret-for-tests",
    }.items():
        monkeypatch.setenv(name, value)
    clear_delivery_caches()
    return aws


def clear_delivery_caches() -> None:
    reset_caches()  # includes the delivery settings and decrypted secrets


@pytest.fixture
def website(delivery_env: LocalResources, receiver: Receiver) -> Any:
    from bookinghub.websites.logic.registry import register_website

    return register_website(
        website_id=WEBSITE_ID,
        organisation_id=ORG,
        name="Test Website",
        domain="test.example.com",
        webhook_url=receiver.url("/api/webhooks/onebooking"),
        api_key="test_sk_xxxxx",
        webhook_secret=SECRET,
    )


def admin_event(**changes: Any) -> Any:
    """An operator's edit of test-website's booking, as the outbox carries it."""
    import uuid

    from bookinghub.aws.keys import booking_id_for
    from bookinghub.bookings.models.events import BookingDomainEvent
    from bookinghub.core.clock import iso_now

    fields: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "event_type": "booking.status_changed",
        "booking_id": booking_id_for(WEBSITE_ID, "src-booking-0001"),
        "website_id": WEBSITE_ID,
        "organisation_id": ORG,
        "source_booking_id": "src-booking-0001",
        "origin": "admin:ops@example.com",
        "actor": "ops@example.com",
        "changed_fields": ["admin_notes", "status"],
        "data": {"status": "cancelled", "admin_notes": "flight changed"},
        "occurred_at": iso_now(),
        **changes,
    }
    return BookingDomainEvent.model_validate(fields)


def pump(aws: LocalResources, *, rounds: int = 200, idle_rounds: int = 3, sweep_every: int = 0) -> int:
    """Lambda's SQS event source, in the test: receive, invoke deliver_webhooks, delete what succeeded.
    Stops after `idle_rounds` empty receives. Returns how many messages were handled."""
    from infra.local.invoke import invoke
    from infra.local.workers import failed_message_ids, sqs_record

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = aws.queue_urls["Deliveries"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    handled, idle = 0, 0
    for n in range(rounds):
        if sweep_every and n % sweep_every == 0:
            sweep_now()
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=5, WaitTimeSeconds=0, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            idle += 1
            if idle >= idle_rounds:
                return handled
            time.sleep(0.05)
            continue
        idle = 0
        response = invoke("deliver_webhooks", {"Records": [sqs_record(m, arn, "us-east-1") for m in messages]})
        failed = failed_message_ids(response, [m["MessageId"] for m in messages])
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            )
        handled += len(messages)
    return handled


def sweep_now(offset_seconds: float = 0.0) -> int:
    from bookinghub.delivery.logic.sweep import sweep

    return sweep(now=time.time() + offset_seconds)


def deliveries_of(endpoint_id: str) -> list[Any]:
    """Every delivery of an endpoint (tests only: a scan of small data)."""
    from bookinghub.aws.clients import client
    from bookinghub.aws.codec import from_item
    from bookinghub.core.settings import get_settings
    from bookinghub.delivery.models import Delivery

    items = client("dynamodb").scan(TableName=get_settings().bookings_table)["Items"]
    rows = [from_item(i) for i in items]
    return [
        Delivery.model_validate({k: v for k, v in r.items() if k in Delivery.model_fields})
        for r in rows
        if r.get("entity") == "delivery" and r.get("endpoint_id") == endpoint_id
    ]


def bodies(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r["body"]) for r in receiver.delivered()]


def pump_until(aws: LocalResources, done: Any, *, timeout: float = 30.0) -> None:
    """Pump (and sweep) until `done()` holds; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("deliveries did not settle in time")
        pump(aws, idle_rounds=1)
        time.sleep(0.1)


def settled(endpoint_id: str) -> Any:
    return lambda: bool(deliveries_of(endpoint_id)) and all(d.status != "pending" for d in deliveries_of(endpoint_id))


def subscription(url: str, **fields: Any) -> tuple[str, str]:
    """A subscription of demo-org, created through the service (id, secret)."""
    from bookinghub.core.auth import principal_from_claims
    from bookinghub.delivery.logic.admin import create_endpoint
    from bookinghub.delivery.models.api import EndpointCreate

    principal = principal_from_claims(
        {
            "sub": "s",
            "email": "ops@demo.example",
            "token_use": "id",
            "cognito:groups": "admin",
            "custom:organisation_id": ORG,
        }
    )
    created = create_endpoint(principal, EndpointCreate(url=url, **fields))
    return str(created["endpoint"]["id"]), str(created["secret"])


class DynamoCalls:
    """Every DynamoDB call made inside the block (botocore's before-call event), by operation:
    `with DynamoCalls() as counts: ...`, then `counts["BatchGetItem"]`."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, event_name: str, **_: Any) -> None:
        with self._lock:
            self.names.append(event_name.rsplit(".", 1)[-1])

    def __enter__(self) -> Counter[str]:
        from bookinghub.aws.clients import client

        client("dynamodb").meta.events.register("before-call.dynamodb", self)
        self.counts: Counter[str] = Counter()
        return self.counts

    def __exit__(self, *_: Any) -> None:
        from bookinghub.aws.clients import client

        client("dynamodb").meta.events.unregister("before-call.dynamodb", self)
        self.counts.update(self.names)
