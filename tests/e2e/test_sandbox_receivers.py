"""The website client and the sandbox receivers under `python -m infra.local`, as a website developer meets
them: push a booking with clients/onebooking_client (twice: one booking), edit it as an admin, and find the
signed sync-back in the demo website's receiver, verified and applied; the Make.com-style receiver is up on
its own port and misbehaves on command."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from clients.onebooking_client import BookingRejected, OneBookingClient
from infra.local import auth
from infra.local.sandbox.make_receiver import DEMO_HOOK, LOCAL_DEMO_API_KEY
from tests.e2e.conftest import ROOT, Hub, start_hub

pytestmark = pytest.mark.e2e

SEED_BODY = json.loads((ROOT / "events/sync_bookings/seed_booking_created.body.json").read_text())
DELIVERY_TIMEOUT_SECONDS = 60.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, Path]]:
    directory = tmp_path_factory.mktemp("receivers-e2e")
    key = directory / "local-jwt-key.pem"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(auth.KEY_ENV, str(key))  # the hub process verifies tokens signed with this key
        hub = start_hub(directory / "hub.log")
    yield hub, key
    hub.stop()


def wait_for(url: str, predicate: Any) -> Any:
    deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
    while True:
        answer = requests.get(url, timeout=10).json()
        if predicate(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


def test_receiver_gets_the_admin_edit_of_a_booking_the_client_pushed(stack: tuple[Hub, Path]) -> None:
    hub, key = stack
    body = {**SEED_BODY, "source_booking_id": "client-e2e-1", "booking_ref": "HW-900001"}
    client = OneBookingClient(hub.url, "test_sk_xxxxx", sleep=lambda _: None)
    first = client.push_booking(body)
    assert first.attempts == 1
    with pytest.raises(BookingRejected) as refused:
        client.push_booking({**body, "guest_count": "two"})
    assert (refused.value.status_code, refused.value.code) == (400, "INVALID_PAYLOAD")

    token = auth.issue_token(role="admin", email="ops@demo.example", path=key)
    edited = requests.put(
        f"{hub.url}/api/bookings/{first.booking_id}",
        json={"status": "cancelled", "admin_notes": "Guest called to cancel"},
        headers={"Authorization": f"Bearer {token}", "If-Match": '"1"'},
        timeout=30,
    )
    assert edited.status_code == 200, edited.text

    deliveries = wait_for(f"{hub.sandbox_url}/test-website/deliveries", lambda found: len(found) >= 1)
    assert len(deliveries) == 1, hub.log()
    (delivery,) = deliveries
    assert delivery["schemes"]  # verified by clients.onebooking_client.verify_webhook
    assert delivery["times_received"] == 1
    assert delivery["body"]["source_booking_id"] == "client-e2e-1"
    assert set(delivery["body"]["updated_fields"]) == {"status", "admin_notes"}
    applied = requests.get(f"{hub.sandbox_url}/test-website/bookings", timeout=10).json()
    assert applied["client-e2e-1"]["status"] == "cancelled"
    attempts = requests.get(f"{hub.sandbox_url}/_received", timeout=10).json()["attempts"]
    assert [a["status"] for a in attempts] == [200]

    # A redelivery of the pushed booking: the same id, nothing new. (It comes last: under moto a
    # redelivery's cancelled transaction can cut the stream poller off from later edits, FACTS.md.)
    assert client.push_booking(body).booking_id == first.booking_id
    client.close()


def test_make_receiver_runs_on_its_own_port_and_is_in_the_banner(stack: tuple[Hub, Path]) -> None:
    hub, _ = stack
    assert f"{hub.make_url}   make-receiver" in hub.log()
    hook = f"{hub.make_url}/{DEMO_HOOK}"
    event = json.dumps({"event_id": "ev-e2e", "event_type": "booking.created"})
    sent = requests.post(hook, data=event, headers={"x-make-apikey": LOCAL_DEMO_API_KEY}, timeout=10)
    assert (sent.status_code, sent.text) == (200, "Accepted")
    assert requests.post(hook, data=event, timeout=10).status_code == 401
    assert requests.post(f"{hub.make_url}/_control", json={"mode": "gone"}, timeout=10).status_code == 200
    gone = requests.post(hook, data=event, headers={"x-make-apikey": LOCAL_DEMO_API_KEY}, timeout=10)
    assert gone.status_code == 410
    (kept,) = requests.get(f"{hub.make_url}/_received", timeout=10).json()["deliveries"]
    assert (kept["webhook_id"], kept["times_received"]) == ("ev-e2e", 1)
