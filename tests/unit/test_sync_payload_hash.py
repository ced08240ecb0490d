"""The sync's canonical payload JSON and its hash, pinned byte for byte.

Stored bookings carry these hashes (`created_payload_hash`, `last_payload_hash`): a redelivery is told
apart by hashing it again, so a change of the canonical text (key order, spacing, escaping, how a time or
date is written) would make every redelivery of a stored change look new. The values below were computed
by the code as it was when they were pinned; they must never change.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bookinghub.bookings.logic.sync import canonical_payload, hash_payload
from bookinghub.bookings.models.sync import parse_sync_request
from tests.conftest import load_event

SEED: dict[str, Any] = load_event("sync_bookings/seed_booking_created.body")
SEED_CANONICAL = (
    '{"event":"booking.created","source_booking_id":"uuid-from-source-database","booking_ref":"HW-000023",'
    '"package_name":"World A+","package_price":3490,"activity_date":"2026-03-01","time_slot":"10:00",'
    '"guest_count":2,"total_amount":8500,"discount_amount":0,"currency":"THB","status":"confirmed",'
    '"customer":{"name":"John Doe","email":"john@example.com","phone":"1234567890","country_code":"+66",'
    '"special_requests":"Vegetarian lunch please"},"transport":{"type":"hotel_pickup",'
    '"hotel_name":"Marriott Phuket","room_number":"1205","non_players":1,"private_passengers":0,"cost":0},'
    '"addons":[{"name":"Photo Package","quantity":1,"unit_price":500},{"name":"Souvenir T-Shirt",'
    '"quantity":2,"unit_price":350}],"stripe_payment_intent_id":"pi_xxxxxxxxxxxxx",'
    '"created_at":"2026-02-20T10:30:00Z"}'
)
UPDATE = {
    "event": "booking.updated",
    "source_booking_id": " s-1 ",
    "updated_at": "2026-02-21T18:00:00.123456+07:00",
    "version": 7,
    "guest_count": 3,
    "currency": "thb",
    "customer": {"name": 'Zoë "Z" Ünal', "email": "Zoe@Example.COM"},
}
UPDATE_CANONICAL = (
    '{"event":"booking.updated","source_booking_id":"s-1","guest_count":3,"currency":"THB",'
    '"customer":{"name":"Zoë \\"Z\\" Ünal","email":"Zoe@example.com"},'
    '"updated_at":"2026-02-21T11:00:00.123456Z","version":7}'
)
CANCELLED = {
    "event": "booking.cancelled",
    "source_booking_id": "s-2",
    "status": "refunded",
    "reason": "line1\nline2 \u00e9 \u2603 </script>",
    "refund_amount": 100,
    "created_at": "2026-02-20T10:30:00.5-03:30",
}
CANCELLED_CANONICAL = (
    '{"event":"booking.cancelled","source_booking_id":"s-2","status":"refunded",'
    '"created_at":"2026-02-20T14:00:00.500000Z","reason":"line1\\nline2 é ☃ </script>","refund_amount":100}'
)
WITH_NULLS = {**SEED, "transport": None, "addons": [], "stripe_payment_intent_id": None}
WITH_NULLS_CANONICAL = (
    SEED_CANONICAL.replace(
        ',"transport":{"type":"hotel_pickup","hotel_name":"Marriott Phuket","room_number":"1205",'
        '"non_players":1,"private_passengers":0,"cost":0}',
        "",
    )
    .replace(
        '"addons":[{"name":"Photo Package","quantity":1,"unit_price":500},{"name":"Souvenir T-Shirt",'
        '"quantity":2,"unit_price":350}]',
        '"addons":[]',
    )
    .replace(',"stripe_payment_intent_id":"pi_xxxxxxxxxxxxx"', "")
)


@pytest.mark.parametrize(
    ("raw", "canonical", "digest"),
    [
        (json.dumps(SEED).encode(), SEED_CANONICAL, "zOUvNtiTlI2xIpmJ"),
        # another key order and spacing: the same text
        (json.dumps(dict(reversed(list(SEED.items()))), indent=3).encode(), SEED_CANONICAL, "zOUvNtiTlI2xIpmJ"),
        (json.dumps(UPDATE, ensure_ascii=False).encode(), UPDATE_CANONICAL, "KoLR04p9xQKBORxl"),
        (json.dumps(UPDATE).encode(), UPDATE_CANONICAL, "KoLR04p9xQKBORxl"),  # \u escapes in, UTF-8 out
        (json.dumps(CANCELLED, ensure_ascii=False).encode(), CANCELLED_CANONICAL, "TJiklGL1UufR2ZBZ"),
        (
            json.dumps({**WITH_NULLS, "created_at": "2026-02-20T10:30:00+00:00"}).encode(),
            WITH_NULLS_CANONICAL,
            "0LUXFyc0TsoyekWq",
        ),
    ],
    ids=["seed", "seed-reordered", "update-times", "update-escaped", "cancelled", "nulls"],
)
def test_canonical_payload_and_hash_are_pinned(raw: bytes, canonical: str, digest: str) -> None:
    request = parse_sync_request(raw)
    assert canonical_payload(request) == canonical.encode()
    assert hash_payload(canonical.encode()) == digest
