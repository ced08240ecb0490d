"""What each kind of endpoint receives (pure): seed 002's sync-back body and seed 003's MakeWebhookPayload.

Both carry `sequence`, per booking and increasing with the change's time, so a receiver can discard an
event older than one it has already applied (deliveries are retried independently and may cross).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bookinghub.bookings.models.events import BookingDomainEvent

SYNC_BACK_EVENTS = ("booking.updated", "booking.status_changed")
# The domain events a website is told of (as one of SYNC_BACK_EVENTS); conflicts are not among them
SYNC_BACK_SOURCES = ("booking.created", "booking.updated", "booking.cancelled", "booking.refunded", *SYNC_BACK_EVENTS)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Seed 003's fixed `source`, kept so Make.com scenarios built against the seed keep matching
MAKE_SOURCE = "contract-management-system"


def sequence_of(event: BookingDomainEvent) -> int:
    """Microseconds of the change's own time: increasing per booking (its changes are serialised by
    version), the same on every redelivery of the event, and needing no counter."""
    moment = datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)  # exact: no float rounding


def sync_back_event(event: BookingDomainEvent) -> str:
    """The event the website receives: the one named (an operator's test webhook asks for either), else
    seed 002's rule, a status change has its own event."""
    if event.event_type in SYNC_BACK_EVENTS:
        return event.event_type
    return "booking.status_changed" if "status" in event.changed_fields else "booking.updated"


def updated_by(event: BookingDomainEvent) -> str:
    if event.actor:
        return event.actor
    return event.origin.split(":", 1)[1] if ":" in event.origin else event.origin


def sync_back_body(event: BookingDomainEvent) -> dict[str, Any]:
    changed = list(event.changed_fields)
    return {
        "event": sync_back_event(event),
        "source_booking_id": event.source_booking_id,
        "updated_fields": changed,
        "data": {name: event.data.get(name) for name in changed},
        "updated_at": event.occurred_at,
        "updated_by": updated_by(event),
        "sequence": sequence_of(event),
    }


def make_payload(
    event: BookingDomainEvent,
    *,
    booking: dict[str, Any] | None,
    website_name: str | None,
    environment: str,
    now: str,
    user_agent: str,
) -> dict[str, Any]:
    """Seed 003's `MakeWebhookPayload`, filled from the hub's booking and website."""
    booking = booking or {}
    payload: dict[str, Any] = {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "event_time": event.occurred_at,
        "source": MAKE_SOURCE,
        "booking_event": {
            "id": event.event_id,
            "booking_id": event.booking_id,
            "event_type": event.event_type,
            "changed_fields": list(event.changed_fields),
            "data": event.data,
            "origin": event.origin,
            "actor": event.actor,
            "occurred_at": event.occurred_at,
            "sequence": sequence_of(event),
        },
        "system": {"environment": environment, "timestamp": now, "user_agent": user_agent},
    }
    if booking:
        payload["booking_details"] = {
            "id": event.booking_id,
            "booking_number": booking.get("booking_ref"),
            "client_id": booking.get("guest_id") or booking.get("customer_email"),
            "provider_id": event.website_id,
            "status": booking.get("status"),
            "total_price": booking.get("total_amount"),
            "currency": booking.get("currency"),
            "package_name": booking.get("package_name"),
            "activity_date": booking.get("activity_date"),
            "time_slot": booking.get("time_slot"),
            "guest_count": booking.get("guest_count"),
            "source_booking_id": event.source_booking_id,
            "website_id": event.website_id,
        }
        payload["client_info"] = {
            "id": booking.get("guest_id") or booking.get("customer_email"),
            "name": booking.get("customer_name"),
            "email": booking.get("customer_email"),
        }
    payload["provider_info"] = {
        "id": event.website_id,
        "name": website_name or event.website_id,
        "email": None,
        "company_name": event.organisation_id,
    }
    return payload


def serialise(body: dict[str, Any]) -> str:
    """Once, compact and ASCII: the bytes signed are the bytes sent, on every attempt."""
    return json.dumps(body, separators=(",", ":"), default=str)
