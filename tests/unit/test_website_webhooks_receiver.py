"""The sandbox website receiver (infra/local/sandbox): signature, tolerance, dedupe, failure injection."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from werkzeug.test import Client

from infra.local.sandbox.website_receiver import create_app

SECRET = "whsec_receiver_secret"
NOW = 1_771_601_400
HOOK = "/site-a/api/webhooks/onebooking"
BODY = json.dumps({"event": "booking.updated", "source_booking_id": "b-1", "updated_fields": [], "data": {}})


def signature(payload: str, timestamp: str, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def client() -> Client:
    return Client(create_app({"site-a": SECRET}, clock=lambda: NOW))


def post(
    client: Client,
    *,
    body: str = BODY,
    timestamp: int = NOW,
    sig: str | None = None,
    webhook_id: str = "evt-1",
    path: str = HOOK,
) -> Any:
    stamp = str(timestamp)
    headers = {
        "Content-Type": "application/json",
        "X-Webhook-Timestamp": stamp,
        "X-Webhook-Signature": sig if sig is not None else signature(body, stamp),
        "X-Webhook-Id": webhook_id,
    }
    return client.post(path, data=body, headers=headers)


def deliveries(client: Client, website_id: str = "site-a") -> list[dict[str, Any]]:
    response = client.get(f"/{website_id}/deliveries")
    assert response.status_code == 200
    return response.get_json()


def test_a_signed_delivery_gets_the_seed_answer_and_is_kept(client: Client) -> None:
    response = post(client)
    assert response.status_code == 200
    assert response.get_json() == {"success": True, "message": "Booking updated"}
    (delivery,) = deliveries(client)
    assert delivery["webhook_id"] == "evt-1"
    assert delivery["raw_body"] == BODY
    assert delivery["body"]["source_booking_id"] == "b-1"
    assert deliveries(client, "site-b") == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sig": "sha256=" + "0" * 64}, "Invalid signature"),
        ({"sig": ""}, "Invalid signature"),
        ({"sig": signature(BODY, str(NOW), "whsec_wrong")}, "Invalid signature"),
        ({"timestamp": NOW - 301}, "tolerance"),
        ({"timestamp": NOW + 301}, "tolerance"),
    ],
)
def test_bad_signatures_and_stale_timestamps_are_refused_with_401(
    client: Client, change: dict[str, Any], message: str
) -> None:
    response = post(client, **change)
    assert response.status_code == 401
    body = response.get_json()
    assert body["success"] is False
    assert message in body["message"]
    assert deliveries(client) == []


def test_a_body_changed_after_signing_is_refused(client: Client) -> None:
    stamp = str(NOW)
    response = client.post(
        HOOK,
        data=BODY.replace("b-1", "b-2"),
        headers={"X-Webhook-Timestamp": stamp, "X-Webhook-Signature": signature(BODY, stamp), "X-Webhook-Id": "e"},
    )
    assert response.status_code == 401


def test_timestamp_within_tolerance_is_accepted(client: Client) -> None:
    assert post(client, timestamp=NOW - 299).status_code == 200


def test_missing_timestamp_is_refused(client: Client) -> None:
    response = client.post(HOOK, data=BODY, headers={"X-Webhook-Signature": signature(BODY, "")})
    assert response.status_code == 401


def test_the_same_webhook_id_is_kept_once(client: Client) -> None:
    assert post(client).status_code == 200
    again = post(client)
    assert again.status_code == 200
    assert again.get_json()["duplicate"] is True
    assert post(client, webhook_id="evt-2").status_code == 200
    assert [(d["webhook_id"], d["times_received"]) for d in deliveries(client)] == [("evt-1", 2), ("evt-2", 1)]


def test_unknown_website_and_route_are_404(client: Client) -> None:
    assert post(client, path="/nobody/api/webhooks/onebooking").status_code == 404
    assert client.get("/nope").status_code == 404
    assert client.get(HOOK).status_code == 405


def test_secrets_registered_after_creation_are_used() -> None:
    secrets: dict[str, str] = {}
    client = Client(create_app(secrets, clock=lambda: NOW))
    assert post(client).status_code == 404
    secrets["site-a"] = SECRET
    assert post(client).status_code == 200


def test_control_makes_the_next_deliveries_fail_then_recover(client: Client) -> None:
    command = client.post("/_control", json={"website_id": "site-a", "fail_with": 500, "times": 2})
    assert command.status_code == 200
    assert post(client).status_code == 500
    assert post(client).status_code == 500
    assert deliveries(client) == []
    assert post(client).status_code == 200
    assert len(deliveries(client)) == 1


def test_control_times_zero_clears_a_failure(client: Client) -> None:
    client.post("/_control", json={"website_id": "site-a", "fail_with": 503, "times": 5})
    client.post("/_control", json={"website_id": "site-a", "fail_with": 503, "times": 0})
    assert post(client).status_code == 200


@pytest.mark.parametrize(
    "command",
    [
        {},
        {"website_id": 1},
        {"website_id": "site-a", "fail_with": 200},
        {"website_id": "site-a", "times": -1},
        {"website_id": "site-a", "fail_with": "500"},
    ],
)
def test_control_rejects_bad_commands(client: Client, command: dict[str, Any]) -> None:
    response = client.post("/_control", json=command)
    assert response.status_code == 400
    assert response.get_json()["success"] is False


def test_a_signed_body_that_is_not_json_is_400(client: Client) -> None:
    response = post(client, body="not json")
    assert response.status_code == 400


def test_the_receiver_keeps_its_newest_deliveries_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.local.sandbox import receiver_control
    from infra.local.sandbox.receiver_control import Recorder

    monkeypatch.setattr(receiver_control, "MAX_DELIVERIES_KEPT", 3)
    recorder = Recorder(clock=lambda: NOW)
    for n in range(5):
        assert recorder.deliver("site-a", f"msg_{n}", {"body": {"n": n}}) is False
    assert recorder.deliver("site-a", "msg_4", {"body": {"n": 4}}) is True  # a kept one: counted again

    kept = recorder.snapshot("site-a")["deliveries"]
    assert [(d["webhook_id"], d["times_received"]) for d in kept] == [("msg_2", 1), ("msg_3", 1), ("msg_4", 2)]
    assert recorder.deliver("site-a", "msg_0", {"body": {"n": 0}}) is False  # let go: a new delivery now
