"""What receivers get: seed 002's sync-back body and seed 003's MakeWebhookPayload (pure rules)."""

from __future__ import annotations

import json
from typing import Any

from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.delivery.logic import payloads
from bookinghub.delivery.logic.fanout import echo_reason
from tests.conftest import load_event


def sample_events() -> list[BookingDomainEvent]:
    return [
        BookingDomainEvent.model_validate_json(r["body"]) for r in load_event("booking_events/admin_changes")["Records"]
    ]


def test_status_change_becomes_status_changed_with_only_the_changed_fields() -> None:
    status_event, _ = sample_events()
    body = payloads.sync_back_body(status_event)
    assert body == {
        "event": "booking.status_changed",
        "source_booking_id": "src-booking-0001",
        "updated_fields": ["admin_notes", "customer_email", "status"],
        "data": {
            "admin_notes": "Customer requested cancellation due to flight change",
            "customer_email": "jane.doe@example.com",
            "status": "cancelled",
        },
        "updated_at": "2026-02-20T15:30:00.000000Z",
        "updated_by": "ops@example.com",
        "sequence": payloads.sequence_of(status_event),
    }


def test_other_changes_are_booking_updated_and_updated_by_falls_back_to_the_origin() -> None:
    _, notes_event = sample_events()
    assert notes_event.actor is None
    body = payloads.sync_back_body(notes_event)
    assert body["event"] == "booking.updated"
    assert body["updated_by"] == "ops@example.com"  # from origin admin:ops@example.com
    assert set(body["data"]) == {"admin_notes", "customer_phone"}


def test_the_named_event_is_sent_and_other_types_follow_the_seed_rule() -> None:
    event = sample_events()[0]
    asked: dict[str, Any] = {"event_type": "booking.updated"}  # a test webhook asking for booking.updated
    assert payloads.sync_back_event(event.model_copy(update=asked)) == "booking.updated"
    created = event.model_copy(update={"event_type": "booking.created"})
    assert payloads.sync_back_event(created) == "booking.status_changed"  # status among the fields
    created_notes = created.model_copy(update={"changed_fields": ["admin_notes"]})
    assert payloads.sync_back_event(created_notes) == "booking.updated"


def test_data_carries_changed_fields_only_and_a_cleared_field_as_null() -> None:
    event = sample_events()[1].model_copy(
        update={"changed_fields": ["admin_notes"], "data": {"status": "cancelled", "unrelated": 1}}
    )
    assert payloads.sync_back_body(event)["data"] == {"admin_notes": None}


def test_non_ascii_is_serialised_as_ascii_json() -> None:
    event = sample_events()[0].model_copy(
        update={"changed_fields": ["admin_notes"], "data": {"admin_notes": "Señora Nguyễn"}}
    )
    text = payloads.serialise(payloads.sync_back_body(event))
    assert text.isascii()
    assert json.loads(text)["data"]["admin_notes"] == "Señora Nguyễn"


def test_sequence_increases_with_the_change_time_and_is_stable() -> None:
    first, _ = sample_events()
    later = first.model_copy(update={"occurred_at": "2026-02-20T15:30:00.000001Z"})
    assert payloads.sequence_of(later) == payloads.sequence_of(first) + 1
    assert payloads.sequence_of(first) == payloads.sequence_of(first.model_copy())


def test_a_websites_own_change_is_never_echoed_back() -> None:
    event = sample_events()[0]
    assert (
        echo_reason(event.model_copy(update={"origin": "website:test-website"})) == "the change came from this website"
    )
    assert echo_reason(event) is None
    assert echo_reason(event.model_copy(update={"origin": "website:other-website"})) is None


def test_make_payload_has_the_seed_fields() -> None:
    event = sample_events()[0]
    booking = {
        "booking_ref": "HW-1",
        "status": "cancelled",
        "total_amount": 8500,
        "currency": "THB",
        "customer_name": "John",
        "customer_email": "john@example.com",
    }
    payload = payloads.make_payload(
        event, booking=booking, website_name="Test Website", environment="local", now="t", user_agent="ua"
    )
    assert list(payload)[:4] == ["event_id", "event_type", "event_time", "source"]
    assert payload["booking_details"]["booking_number"] == "HW-1"
    assert payload["booking_details"]["total_price"] == 8500
    assert payload["client_info"] == {"id": "john@example.com", "name": "John", "email": "john@example.com"}
    assert payload["provider_info"]["name"] == "Test Website"
    assert payload["system"] == {"environment": "local", "timestamp": "t", "user_agent": "ua"}
    without = payloads.make_payload(event, booking=None, website_name=None, environment="e", now="t", user_agent="u")
    assert "booking_details" not in without
    assert "client_info" not in without


def test_conflict_events_are_not_synced_back_as_booking_changes() -> None:
    event = _conflict_event()
    assert echo_reason(event) == "booking.conflict_detected is not a booking change"
    assert echo_reason(event.model_copy(update={"event_type": "booking.updated"})) is None


def _conflict_event() -> BookingDomainEvent:
    return BookingDomainEvent(
        event_id="e-1",
        event_type="booking.conflict_detected",
        booking_id="b-1",
        website_id="test-website",
        organisation_id="demo-org",
        source_booking_id="src-1",
        origin="hub:conflicts",
        changed_fields=["activity_date"],
        data={"field": "activity_date"},
        occurred_at="2026-03-01T10:00:00.000000Z",
    )
