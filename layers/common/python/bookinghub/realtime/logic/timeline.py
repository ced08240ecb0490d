"""Appending booking domain events to the timeline, and reading a booking's timeline back.

A booking's events reach the broadcaster in order (its outbox items share a partition, so one stream
shard carries them) and a failed one holds back the later ones (functions/realtime_broadcaster), so
"the booking's counter + 1" is the next sequence, which is also the event's position in the booking's
order; the marker makes a redelivery reuse what it was given. The event then takes its position in the
order of each shared filter key (dal/timeline.py): the order that cursors, replays and the live handoff
follow, since ids minted by concurrent writers need not be stored in id order.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.core.errors import BookingNotFound
from bookinghub.realtime.dal import timeline as store
from bookinghub.realtime.logic.ids import new_event_id
from bookinghub.realtime.logic.scope import Scope
from bookinghub.realtime.models import TimelineEvent

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_ANSWER = 500
APPEND_ATTEMPTS = 5


def is_booking_id(value: str) -> bool:
    """Booking ids are UUIDs: anything else is never looked up (and reads as absent)."""
    return bool(_UUID.match(value))


def append(event: BookingDomainEvent, user_id: str | None, watched: set[str] | None = None) -> TimelineEvent:
    """The event's timeline entry, appended once however often the event is delivered: in its booking's
    order and in each of its other keys' that is `watched` (all when None). The broadcaster does not
    call it when none of the event's keys is watched."""
    booking_key = f"booking_id:{event.booking_id}"
    marker = store.get_marker(event.event_id)
    for _ in range(APPEND_ATTEMPTS):
        if marker is None:
            last, last_id = store.counter(booking_key)
            entry = _entry(event, user_id, new_event_id(last + 1, last_id), last + 1)
            if not store.put_marker(event.event_id, entry):
                marker = store.get_marker(event.event_id)  # another delivery claimed it first
                continue
            fresh = True
        else:
            entry = _entry(event, user_id, str(marker["id"]), int(marker["sequence"]))
            fresh = False  # a delivery that died part-way placed some of it (placed ones keep their position)
        try:
            return replace(entry, positions=store.put_copies(entry, fresh=fresh, only=watched))
        except store.SequenceTaken:
            # Another event of the booking took this sequence (this one was given up on, then sent again):
            # it takes the next one, under a new id (no client can hold the old one: it was never placed)
            last, last_id = store.counter(booking_key)
            moved = _entry(event, user_id, new_event_id(last + 1, last_id), last + 1)
            store.move_marker(event.event_id, entry.id, moved)
            marker = store.get_marker(event.event_id)
    raise RuntimeError(f"could not claim a timeline entry for event {event.event_id}")


def _entry(event: BookingDomainEvent, user_id: str | None, event_id: str, sequence: int) -> TimelineEvent:
    return TimelineEvent(
        id=event_id,
        booking_id=event.booking_id,
        sequence=sequence,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        data=event.data,
        website_id=event.website_id,
        organisation_id=event.organisation_id,
        user_id=user_id.lower() if user_id else None,
    )


def booking_timeline(scope: Scope, booking_id: str, after_sequence: int = 0) -> list[TimelineEvent]:
    """A booking's kept events after `after_sequence`, oldest first; 404 if the caller may not read it."""
    from bookinghub.bookings.dal.bookings import get_booking

    booking = get_booking(booking_id) if is_booking_id(booking_id) else None
    if booking is None or not scope.sees(str(booking.get("organisation_id")), str(booking.get("website_id"))):
        raise BookingNotFound()
    found: list[TimelineEvent] = []
    for entry in store.after(f"booking_id:{booking_id}"):
        if entry.sequence > after_sequence:
            found.append(entry)
            if len(found) >= MAX_ANSWER:
                break
    return found
