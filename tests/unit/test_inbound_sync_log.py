"""An applied sync's log is its change's timeline item: which stream records are syncs, and the log row
read back from the event (the payload's shape, masked)."""

from __future__ import annotations

import json
from typing import Any

from bookinghub.aws.codec import to_item
from bookinghub.bookings.dal.bookings import made_by_sync
from bookinghub.bookings.dal.logs import INBOUND_SYNC, event_from_outbox_item, event_item, inbound_sync_log
from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.bookings.models.payload_shape import sync_payload
from bookinghub.bookings.models.sync import parse_sync_request
from tests.conftest import load_event

SEED = load_event("sync_bookings/seed_booking_created.body")


def _event(data: dict[str, Any], event_type: str = "booking.created") -> BookingDomainEvent:
    return BookingDomainEvent(
        event_id="3875dc5f-353a-49ba-a2c6-59a3ef7b29f3",
        event_type=event_type,  # type: ignore[arg-type]
        booking_id="b-1",
        website_id="hanuman-world",
        organisation_id="org-1",
        source_booking_id=SEED["source_booking_id"],
        origin="website:hanuman-world",
        changed_fields=sorted(data),
        data=data,
        occurred_at="2026-02-20T10:30:01.000Z",
    )


def test_the_seed_payload_comes_back_from_its_columns() -> None:
    request = parse_sync_request(json.dumps(SEED).encode())
    payload = sync_payload(request.event, request.source_booking_id, request.booking_fields())
    assert payload == request.model_dump(mode="json", exclude_none=True) | {"created_at": payload["created_at"]}
    assert payload["created_at"].startswith("2026-02-20T10:30:00")


def test_a_partial_change_logs_only_what_it_applied_in_the_payloads_shape() -> None:
    payload = sync_payload("booking.cancelled", "s-1", {"status": "cancelled", "cancellation_reason": "flight"})
    assert payload == {"event": "booking.cancelled", "source_booking_id": "s-1", "status": "cancelled"} | {
        "reason": "flight"
    }
    payload = sync_payload("booking.updated", "s-1", {"customer_phone": "0815550199", "transport_cost": 300})
    assert payload["customer"] == {"phone": "0815550199"}
    assert payload["transport"] == {"cost": 300}


def test_the_log_row_read_from_the_event_is_masked_and_keyed_by_the_event() -> None:
    request = parse_sync_request(json.dumps(SEED).encode())
    log = inbound_sync_log(_event(request.booking_fields()))
    assert (log.id, log.booking_id, log.website_id) == ("3875dc5f-353a-49ba-a2c6-59a3ef7b29f3", "b-1", "hanuman-world")
    assert (log.direction, log.status, log.event_type) == ("inbound", "success", "booking.created")
    assert log.created_at == "2026-02-20T10:30:01.000Z"
    assert log.payload is not None
    assert log.payload["customer"]["email"] == "j***@example.com"
    assert log.payload["customer"]["phone"] == "***90"
    text = json.dumps(log.payload)
    assert "john@example.com" not in text
    assert "1234567890" not in text


def test_the_inbound_mark_is_storage_not_part_of_the_event() -> None:
    event = _event({"guest_count": 3}, "booking.updated")
    item = event_item(event, relayed=True, inbound_sync=True)
    assert item[INBOUND_SYNC] is True
    assert event_from_outbox_item(item) == event
    assert INBOUND_SYNC not in event_item(event, relayed=True)


def test_only_a_sync_write_is_a_sync() -> None:
    booking = {"PK": "BOOKING#b-1", "SK": "BOOKING", "event_id": "e1", "guest_count": 2}
    created = to_item({**booking, "created_payload_hash": "h1"})
    assert made_by_sync(created, None)  # a creation
    upserted = to_item({**booking, "last_payload_hash": "h1"})
    assert made_by_sync(upserted, None)  # an update that created the booking
    updated = to_item({**booking, "created_payload_hash": "h1", "last_payload_hash": "h2", "event_id": "e2"})
    assert made_by_sync(updated, created)
    # An operator's edit (or any other writer) leaves the payload hashes as they were
    edited = to_item({**booking, "created_payload_hash": "h1", "last_payload_hash": "h2", "event_id": "e3"})
    assert not made_by_sync(edited, updated)
    assert not made_by_sync(to_item(booking), None)  # a booking written by another path (PMS, Beds24)
