"""PMS as a new user tries it with `make run` up (issue 13's "done when"), over real HTTP on loopback: the
seed's webhook curl stores a booking listed by GET /api/bookings, each manual sync answers the seed's summary
with a log to read back, and the Cloudbeds sandbox hotel syncs its reservations, rooms and guests and has its
webhooks applied."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from infra.local.auth import issue_token
from tests.e2e.conftest import Hub

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 30.0
SEED_JSON = """{
  "booking": {
    "id": "test-booking-001",
    "status": "confirmed",
    "guest": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+1-555-9999"},
    "stay": {"checkIn": "2025-12-20", "checkOut": "2025-12-23", "room": "305"},
    "totals": {"amount": 750.00, "currency": "USD"},
    "channel": "OTA"
  }
}"""


def wait_for(what: str, probe: Callable[[], Any], timeout: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def operator() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(role='admin')}"}


def bookings(hub: Hub) -> dict[str, dict[str, Any]]:
    answer = requests.get(f"{hub.url}/api/bookings", params={"limit": 100}, headers=operator(), timeout=30)
    assert answer.status_code == 200, answer.text
    return {b["source_booking_id"]: b for b in answer.json()["bookings"] if b.get("hotel_slug")}


def sync(hub: Hub, entity: str, **body: Any) -> dict[str, Any]:
    answer = requests.post(f"{hub.url}/api/pms/sync/{entity}", json=body, headers=operator(), timeout=60)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_the_seeds_curl_stores_a_booking_listed_by_get_api_bookings(hub: Hub) -> None:
    curl = [
        "curl",
        "-sS",
        "-X",
        "POST",
        f"{hub.url}/api/pms/mock/bookings",
        "-H",
        "x-provider-token: mock_dev_token_123",
        "-H",
        "x-hotel-slug: demo-hotel",
        "-H",
        "x-correlation-id: e2e-seed-curl",
        "-H",
        "Content-Type: application/json",
        "-d",
        SEED_JSON,
    ]
    answer = json.loads(subprocess.run(curl, check=True, capture_output=True, timeout=30).stdout)
    assert answer == {"success": True, "status": "queued", "externalId": "test-booking-001"}
    booking = wait_for("the webhook's booking", lambda: bookings(hub).get("test-booking-001"))
    assert (booking["total_amount_cents"], booking["currency"], booking["status"]) == (75000, "USD", "confirmed")
    assert "e2e-seed-curl" in hub.log()


def test_a_wrong_token_is_refused(hub: Hub) -> None:
    answer = requests.post(
        f"{hub.url}/api/pms/mock/bookings",
        data=SEED_JSON,
        headers={"x-provider-token": "wrong", "x-hotel-slug": "demo-hotel", "Content-Type": "application/json"},
        timeout=30,
    )
    assert (answer.status_code, answer.json()["code"]) == (401, "INVALID_PROVIDER_TOKEN")


@pytest.mark.parametrize(("entity", "expected"), [("bookings", 30), ("rooms", 12), ("guests", 20)])
def test_each_manual_sync_answers_the_seeds_summary_with_a_log(hub: Hub, entity: str, expected: int) -> None:
    body = sync(hub, entity, provider="mock", hotel_slug="demo-hotel", limit=500)
    assert body["success"] is True
    assert body["summary"]["processed"] == expected
    assert body["summary"]["failed"] == 0
    log = requests.get(f"{hub.url}/api/pms/sync-logs/{body['syncLogId']}", headers=operator(), timeout=30)
    assert log.status_code == 200
    assert (log.json()["syncLog"]["status"], log.json()["syncLog"]["items_processed"]) == ("COMPLETED", expected)


def test_the_cloudbeds_sandbox_hotel_syncs_and_gets_its_webhooks(hub: Hub) -> None:
    slug = "cloudbeds-demo-hotel"
    counts = [sync(hub, entity, hotel_slug=slug)["summary"]["processed"] for entity in ("bookings", "rooms", "guests")]
    assert counts == [12, 25, 12]
    assert bookings(hub)["CB880001"]["pms_status"] == "CONFIRMED"
    change = requests.post(
        f"{hub.cloudbeds_url}/_control/reservation",
        json={"reservationID": "CB880001", "status": "checked_in"},
        timeout=30,
    )
    assert change.json()["webhooks"] == [200, 200, 200]  # one per subscribed action, all acknowledged
    wait_for("the Cloudbeds webhook applied", lambda: bookings(hub)["CB880001"]["pms_status"] == "CHECKED_IN")
