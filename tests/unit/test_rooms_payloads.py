"""Rooms Event Hub: request building, answer interpretation and what a log may keep (no PII, no pincode)."""

from __future__ import annotations

import json

import pytest

from bookinghub.payments.logic.pincodes import parse_message, reservation_id
from bookinghub.rooms.adapters.rooms_event_hub import (
    RoomsCall,
    interpret_answer,
    reservation_body,
    reservation_url,
)
from bookinghub.rooms.logic.calls import mask_free_text, mask_name, mask_payload

RES_ID = "SAMPLEabc123"


def answer(status: int, body: object) -> RoomsCall:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return interpret_answer(status, raw, 12, RES_ID)


def test_reservation_id_is_the_prefix_and_the_pass_id() -> None:
    pass_id = "5ae111be-00b1-5aaa-b7fb-60a293e0d552"
    assert reservation_id("SAMPLE", pass_id) == "SAMPLE5ae111be00b15aaab7fb60a293e0d552"
    assert reservation_id("SAMPLE", pass_id) == reservation_id("SAMPLE", pass_id)
    assert reservation_id("", pass_id) == "5ae111be00b15aaab7fb60a293e0d552"


def test_url_joins_base_path_and_quoted_id() -> None:
    assert (
        reservation_url("https://sender.rooms.zezamii.com/v1/webhooks/", "/zezamiiPass/reservation/", RES_ID)
        == "https://sender.rooms.zezamii.com/v1/webhooks/zezamiiPass/reservation/SAMPLEabc123"
    )
    assert reservation_url("https://x.test", "p", "a/b c").endswith("/p/a%2Fb%20c")


def test_body_is_the_seeds() -> None:
    body = reservation_body(
        property_id="z71",
        arrival_date="2025-01-15",
        departure_date="2025-01-16",
        lock_id="lock",
        guest_name="John Smith",
        guest_phone=None,
        guest_email="john@example.com",
    )
    assert list(body) == [
        "propertyId",
        "arrivalDate",
        "departureDate",
        "lockId",
        "guestName",
        "guestPhone",
        "guestEmail",
    ]
    assert body["guestPhone"] == ""


def test_success_answer() -> None:
    call = answer(200, {"success": True, "pincode": "123456", "reservationId": RES_ID})
    assert (call.status, call.pincode, call.http_status_code, call.error_message) == ("success", "123456", 200, None)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, {"success": False, "error": "Database down"}, "HTTP 500: Database down"),
        (503, b"<html>Service Unavailable</html>", "HTTP 503"),
        (200, b"not json", "without a JSON object"),
        (200, {"success": False, "error": "Unknown lock"}, "refused the reservation: Unknown lock"),
        (200, {"success": True}, "without a valid pincode"),
        (200, {"success": True, "pincode": 123456}, "without a valid pincode"),
        (200, {"success": True, "pincode": "12ab56"}, "without a valid pincode"),
        (200, {"success": True, "pincode": "123456", "reservationId": "OTHER"}, "another reservationId"),
    ],
)
def test_failed_answers(status: int, body: object, message: str) -> None:
    call = answer(status, body)
    assert call.status == "error"
    assert call.pincode is None
    assert call.error_message is not None
    assert message in call.error_message


def test_masking_keeps_what_operators_need_and_hides_pii_and_pincode() -> None:
    request = reservation_body(
        property_id="z71owzgoNUxJtxOC",
        arrival_date="2025-01-15",
        departure_date="2025-01-16",
        lock_id="lock-2025",
        guest_name="John Smith",
        guest_phone="+61412345678",
        guest_email="john@example.com",
    )
    masked = mask_payload(request)
    assert masked == {
        "propertyId": "z71owzgoNUxJtxOC",
        "arrivalDate": "2025-01-15",
        "departureDate": "2025-01-16",
        "lockId": "lock-2025",
        "guestName": "J*** S***",
        "guestPhone": "***78",
        "guestEmail": "j***@example.com",
    }
    assert mask_payload({"success": True, "pincode": "123456", "reservationId": RES_ID})["pincode"] == "***"
    assert mask_payload({"error": "pin 123456 already used by john@example.com"}) == {
        "error": "pin *** already used by j***@example.com"
    }


def test_free_text_and_names() -> None:
    assert mask_free_text("Your pincode is 987654") == "Your pincode is ***"
    assert mask_name("  ") == "***"
    assert mask_name("Cher") == "C***"


def test_queue_message() -> None:
    assert parse_message('{"pass_id": "p-1"}') == "p-1"
    for bad in ('{"pass": 1}', "[]", '{"pass_id": ""}'):
        with pytest.raises(ValueError, match="pass_id"):
            parse_message(bad)
