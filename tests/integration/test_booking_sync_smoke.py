from __future__ import annotations

import json
from typing import Any

from infra.local.invoke import invoke
from tests.conftest import load_event


def test_seed_request_creates_booking_then_redelivery_is_idempotent(test_website: Any) -> None:
    event = load_event("sync_bookings/booking_created")
    first = invoke("sync_bookings", event)
    assert first["statusCode"] == 200, first
    body = json.loads(first["body"])
    assert body["success"] is True
    assert body["outcome"] == "created"
    again = json.loads(invoke("sync_bookings", load_event("sync_bookings/booking_created"))["body"])
    assert again["booking_id"] == body["booking_id"]
    assert again["outcome"] == "unchanged"
    cancelled = json.loads(invoke("sync_bookings", load_event("sync_bookings/booking_cancelled"))["body"])
    assert cancelled["outcome"] == "updated", cancelled
