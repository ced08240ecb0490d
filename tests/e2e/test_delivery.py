"""Issue 12 as a new user tries it, on `make run`'s local stack: an admin edit of a test-website booking
reaches the sandbox receiver signed within seconds; a filtered subscription gets the enriched event
signed both ways; a receiver outage loses nothing; the failed list, stats and replay answer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from infra.local import auth
from tests.e2e.conftest import Hub, http, start_hub
from tests.unit.delivery.test_signing import verify_webhook_signature

DEMO_KEY = "test_sk_xxxxx"
TEST_WEBSITE_SECRET = "whsec_local_demo_test-website"  # make run's demo secret for test-website
SETTLE_SECONDS = 20


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, str]]:
    directory = tmp_path_factory.mktemp("delivery")
    key_file = directory / "local-jwt-key.pem"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(auth.KEY_ENV, str(key_file))
        hub = start_hub(directory / "hub.log")
    try:
        yield hub, auth.issue_token(role="admin", organisation_id="demo-org", path=Path(key_file))
    finally:
        hub.stop()


class Recorder:
    """A subscriber on loopback that answers `status` (settable) and records what it was sent."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                status = recorder.status
                recorder.received.append({"headers": dict(self.headers), "body": body, "answered": status})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self) -> list[dict[str, Any]]:
        return [r for r in self.received if r["answered"] == 200]


def call(hub: Hub, method: str, path: str, token: str, body: Any = None, **headers: str) -> Any:
    sent = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", **headers}
    return http(method, f"{hub.url}{path}", None if body is None else json.dumps(body).encode(), sent)


def wait_for(check: Any, seconds: float = SETTLE_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError("not within the time allowed")


def sync_booking(hub: Hub, source_id: str) -> str:
    body = {
        "event": "booking.created",
        "source_booking_id": source_id,
        "booking_ref": "HW-900001",
        "package_name": "World A+",
        "package_price": 3490,
        "activity_date": "2026-03-01",
        "time_slot": "10:00",
        "guest_count": 2,
        "total_amount": 6980,
        "currency": "THB",
        "status": "confirmed",
        "customer": {"name": "E2E Guest", "email": "guest@example.com"},
    }
    headers = {"Content-Type": "application/json", "X-API-Key": DEMO_KEY}
    synced = http("POST", f"{hub.url}/api/bookings/sync", json.dumps(body).encode(), headers)
    assert synced.status == 200, synced.body
    return str(synced.json()["booking_id"])


def test_sync_back_subscription_outage_and_replay(stack: tuple[Hub, str]) -> None:
    hub, token = stack
    subscriber = Recorder()
    created = call(
        hub,
        "POST",
        "/api/webhooks/endpoints",
        token,
        {"url": subscriber.url, "event_types": ["booking.status_changed"]},
    )
    assert created.status == 201, created.body
    endpoint, secret = created.json()["endpoint"]["id"], created.json()["secret"]

    booking = sync_booking(hub, "e2e-delivery-1")
    started = time.monotonic()
    edited = call(hub, "PUT", f"/api/bookings/{booking}", token, {"status": "cancelled"}, **{"If-Match": '"1"'})
    assert edited.status == 200, edited.body

    # the website gets the sync back (its own create is not echoed), signed as the seed says
    def website_got() -> list[dict[str, Any]]:
        return http("GET", f"{hub.sandbox_url}/test-website/deliveries").json()

    (delivered,) = wait_for(website_got)
    assert verify_webhook_signature(
        delivered["raw_body"], delivered["signature"], TEST_WEBSITE_SECRET, delivered["timestamp"]
    )
    assert delivered["body"]["event"] == "booking.status_changed"
    # and the subscriber the enriched event, verifiable both ways
    (got,) = wait_for(subscriber.delivered)
    print(f"admin edit -> website and subscriber: {time.monotonic() - started:.2f} s")
    assert Webhook(secret).verify(got["body"], got["headers"])
    stamp = got["headers"]["X-Webhook-Timestamp"]
    assert verify_webhook_signature(got["body"], got["headers"]["X-Webhook-Signature"], secret, stamp)
    payload = json.loads(got["body"])
    assert payload["booking_details"]["booking_number"] == "HW-900001"

    # an outage: every event arrives once the subscriber is back, none twice
    subscriber.status = 503
    ids = []
    for n in range(3):
        other = sync_booking(hub, f"e2e-delivery-outage-{n}")
        answer = call(hub, "PUT", f"/api/bookings/{other}", token, {"status": "cancelled"}, **{"If-Match": '"1"'})
        ids.append(answer.json()["event_id"])
    wait_for(lambda: len([r for r in subscriber.received if r["answered"] == 503]) >= 3)
    subscriber.status = 200
    wait_for(lambda: len(subscriber.delivered()) == 4, seconds=60)
    delivered_ids = [r["headers"]["webhook-id"] for r in subscriber.delivered()[1:]]
    assert sorted(delivered_ids) == sorted(ids)

    stats = call(hub, "GET", f"/api/webhooks/endpoints/{endpoint}/stats", token).json()["stats"]
    assert (stats["succeeded"], stats["failed"], stats["pending"]) == (4, 0, 0)
    assert stats["sent"] >= 7

    # a refusal is failed for good, listed, and replayed on demand
    subscriber.status = 404
    refused = sync_booking(hub, "e2e-delivery-refused")
    call(hub, "PUT", f"/api/bookings/{refused}", token, {"status": "cancelled"}, **{"If-Match": '"1"'})

    def failed() -> list[dict[str, Any]]:
        path = f"/api/webhooks/endpoints/{endpoint}/failed?since=2020-01-01T00:00:00Z"
        return call(hub, "GET", path, token).json()["deliveries"]

    (failed_delivery,) = wait_for(failed)
    subscriber.status = 200
    replayed = call(hub, "POST", f"/api/webhooks/deliveries/{failed_delivery['id']}/replay", token)
    assert replayed.status == 202, replayed.body
    wait_for(lambda: len(subscriber.delivered()) == 5)
    assert failed() == []
    subscriber.server.shutdown()
