"""The sandbox Rooms Event Hub (infra/local/sandbox/rooms_event_hub.py), through werkzeug's test client."""

from __future__ import annotations

from typing import Any

from werkzeug.test import Client

from infra.local.sandbox.rooms_event_hub import create_app

PATH = "/v1/webhooks/zezamiiPass/reservation"
BODY = {
    "propertyId": "z71owzgoNUxJtxOC",
    "arrivalDate": "2025-01-15",
    "departureDate": "2025-01-16",
    "lockId": "lock-1",
    "guestName": "John Smith",
    "guestPhone": "+61412345678",
    "guestEmail": "john@example.com",
}


def reserve(client: Client, reservation_id: str, body: Any = BODY) -> tuple[int, dict[str, Any]]:
    response = client.post(f"{PATH}/{reservation_id}", json=body)
    return response.status_code, response.get_json()


def test_same_reservation_same_pincode_other_reservation_other_pincode() -> None:
    client = Client(create_app())
    status, first = reserve(client, "SAMPLE1")
    assert status == 200
    assert first["success"] is True
    assert first["reservationId"] == "SAMPLE1"
    assert len(first["pincode"]) == 6
    assert first["pincode"].isdigit()
    assert reserve(client, "SAMPLE1")[1]["pincode"] == first["pincode"]
    others = {reserve(client, f"SAMPLE{n}")[1]["pincode"] for n in range(2, 12)}
    assert others - {first["pincode"]}  # not one fixed pincode for everybody


def test_incomplete_body_is_400() -> None:
    client = Client(create_app())
    status, body = reserve(client, "R1", {**BODY, "lockId": ""})
    assert (status, body["success"]) == (400, False)
    assert "lockId" in body["error"]
    assert reserve(client, "R1", ["not", "an", "object"])[0] == 400


def test_control_makes_the_next_calls_fail_then_recovers() -> None:
    client = Client(create_app())
    assert client.post("/_control", json={"fail_with": 503, "times": 2}).status_code == 200
    assert [reserve(client, "R1")[0] for _ in range(3)] == [503, 503, 200]
    calls = client.get("/_calls").get_json()
    assert [call["status"] for call in calls] == [503, 503, 200]
    assert calls[-1]["pincode"] is not None


def test_control_delay_and_validation() -> None:
    app = create_app()
    client = Client(app)
    assert client.post("/_control", json={"delay_seconds": 0.05, "times": 1}).status_code == 200
    assert reserve(client, "R1")[0] == 200
    for bad in ({"times": -1}, {"fail_with": 200}, {"delay_seconds": 1000}, ["x"]):
        assert client.post("/_control", json=bad).status_code == 400
    assert client.get("/nope").status_code == 404
