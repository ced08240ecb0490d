"""The domain events of conflicts, and the booking change a resolution syncs back to its source."""

from __future__ import annotations

import uuid
from typing import Any

from bookinghub.bookings.models.events import BookingDomainEvent, BookingEventType
from bookinghub.conflicts.logic.detect import BookingRef
from bookinghub.conflicts.models import ConflictRecord, public_conflict

CONFLICT_EVENTS: tuple[BookingEventType, ...] = ("booking.conflict_detected", "booking.conflict_resolved")


def _event(
    ref: BookingRef, event_type: BookingEventType, data: dict[str, Any], *, origin: str, now: str, actor: str | None
) -> BookingDomainEvent:
    return BookingDomainEvent(
        event_id=str(uuid.uuid4()),
        event_type=event_type,
        booking_id=ref.booking_id,
        website_id=ref.website_id,
        organisation_id=ref.organisation_id,
        source_booking_id=ref.source_booking_id,
        origin=origin,
        actor=actor,
        changed_fields=sorted(data) if event_type not in CONFLICT_EVENTS else [str(data["field"])],
        data=data,
        occurred_at=now,
    )


def conflict_events(ref: BookingRef, record: ConflictRecord, *, now: str, new: bool = True) -> list[BookingDomainEvent]:
    """conflict_detected (when first seen), then conflict_resolved when a rule settled it at once."""
    body = public_conflict(record)
    events = []
    if new:
        events.append(_event(ref, "booking.conflict_detected", body, origin="hub:conflicts", now=now, actor=None))
    if record.status == "resolved":
        events.append(
            _event(ref, "booking.conflict_resolved", body, origin="hub:conflicts", now=now, actor=record.resolved_by)
        )
    return events


def correction_event(ref: BookingRef, values: dict[str, Any], *, now: str, actor: str | None) -> BookingDomainEvent:
    """The hub's values a source must take (the hub's side won): an ordinary booking change from the hub,
    so the delivery system syncs it back like an operator's edit (seed 002 sync-back body)."""
    event_type: BookingEventType = "booking.status_changed" if "status" in values else "booking.updated"
    return _event(ref, event_type, dict(values), origin=f"admin:{actor or 'conflicts'}", now=now, actor=actor)
