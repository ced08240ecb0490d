"""Issue 10: a cancelled DynamoDB transaction under `python -m infra.local` changes nothing afterwards.

A website redelivers a booking (`unchanged`), then sends a different `booking.created` for it (409):
both cancel the booking's transaction. Then an operator edits the booking, and that edit reaches the
website's receiver exactly once, and the cancelled writes were never relayed from the outbox.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local import auth
from tests.e2e.conftest import Http, Hub, http, start_hub

pytestmark = pytest.mark.e2e

WEBSITE, API_KEY = "test-website", "test_sk_xxxxx"  # a demo website and its local demo API key
DELIVERY_WAIT_SECONDS = 30.0  # stream poll, queue long-poll and delivery on a loaded 2-core machine
QUIET_SECONDS = 4.0  # then nothing more may arrive
RELAYED = "outbox event relayed"  # bookinghub.bookings.logic.outbox's log line per relayed event


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, Path]]:
    directory = tmp_path_factory.mktemp("transactions-e2e")
    key = directory / "local-jwt-key.pem"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(auth.KEY_ENV, str(key))  # the hub verifies the tokens this test signs
        patch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")  # "outbox event relayed" is a debug line
        hub = start_hub(directory / "hub.log")
    yield hub, key
    hub.stop()


def sync(hub: Hub, body: dict[str, Any]) -> Http:
    headers = {"Content-Type": "application/json", "X-API-Key": API_KEY}
    return http("POST", f"{hub.url}/api/bookings/sync", json.dumps(body).encode(), headers)


def admin(hub: Hub, key: Path, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Http:
    token = auth.issue_token(role="admin", email="ops@demo.example", path=key)
    sent = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", **(headers or {})}
    return http(method, f"{hub.url}{path}", None if body is None else json.dumps(body).encode(), sent)


def booking(source_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "event": "booking.created",
        "source_booking_id": source_id,
        "booking_ref": f"HW-{source_id}",
        "package_name": "World A+",
        "package_price": 3490,
        "activity_date": "2026-04-10",
        "time_slot": "10:00",
        "guest_count": 2,
        "total_amount": 6980,
        "currency": "THB",
        "status": "confirmed",
        "customer": {"name": "Dana Diver", "email": "dana@example.com", "phone": "0812345678", "country_code": "+66"},
        **changes,
    }


def deliveries(hub: Hub, source_id: str) -> list[dict[str, Any]]:
    received = http("GET", f"{hub.sandbox_url}/{WEBSITE}/deliveries").json()
    return [d for d in received if d["body"].get("source_booking_id") == source_id]


def relayed(hub: Hub, booking_id: str) -> list[str]:
    """The event types the outbox relay sent for the booking, from the hub's log."""
    types = []
    for line in hub.log().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and (entry.get("message"), entry.get("booking_id")) == (RELAYED, booking_id):
            types.append(str(entry.get("event_type")))
    return types


def wait_for(condition: Any, timeout: float = DELIVERY_WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(0.2)
    assert condition(), "not reached in time"


def test_a_redelivery_and_a_409_then_an_edit_reach_the_website_exactly_once(stack: tuple[Hub, Path]) -> None:
    hub, key = stack
    source_id = f"tx-{time.time_ns()}"
    created = sync(hub, booking(source_id))
    assert created.status == 200, created.body
    booking_id = created.json()["booking_id"]
    wait_for(lambda: relayed(hub, booking_id) == ["booking.created"])

    again = sync(hub, booking(source_id))  # the website redelivers the very same payload
    assert again.status == 200, again.body
    assert again.json()["outcome"] == "unchanged"
    different = sync(hub, booking(source_id, guest_count=3))  # booking.created again, other content
    assert different.status == 409, different.body

    read = admin(hub, key, "GET", f"/api/bookings/{booking_id}")
    assert read.status == 200, read.body
    assert read.json()["booking"]["guest_count"] == 2  # the cancelled write left nothing behind
    edit = admin(
        hub,
        key,
        "PUT",
        f"/api/bookings/{booking_id}",
        {"time_slot": "14:00"},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert edit.status == 200, edit.body

    wait_for(lambda: len(deliveries(hub, source_id)) >= 1)
    time.sleep(QUIET_SECONDS)
    received = deliveries(hub, source_id)
    assert len(received) == 1, received
    assert (received[0]["times_received"], received[0]["body"]["event"]) == (1, "booking.updated")
    assert received[0]["body"]["data"] == {"time_slot": "14:00"}
    # No phantom event of the cancelled writes: the creation, then the edit, each relayed once
    assert relayed(hub, booking_id) == ["booking.created", "booking.updated"]
