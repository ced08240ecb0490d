"""Placing booking domain events in the watched keys' timelines, and reading a booking's timeline back.

A booking's order is its event items (Bookings table), numbered by the writes that made them: the event
is in it before the broadcaster runs. It then takes its position in the order of each watched shared
filter key (dal/timeline.py): the order that cursors, replays and the live handoff follow, since ids
minted by concurrent writers need not be stored in id order.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bookinghub.core.errors import BookingNotFound
from bookinghub.realtime.dal import timeline as store
from bookinghub.realtime.logic.scope import Scope
from bookinghub.realtime.models import TimelineEvent

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_ANSWER = 500


def is_booking_id(value: str) -> bool:
    """Booking ids are UUIDs: anything else is never looked up (and reads as absent)."""
    return bool(_UUID.match(value))


def place(event: TimelineEvent, event_sk: str, watched: set[str]) -> TimelineEvent:
    """The event with its position in each watched key's order: a booking's is its sequence (its event
    item is its place, written already); each watched shared key's is taken here, once however often the
    event is delivered (a redelivery also finishes the keys its first delivery recorded)."""
    positions: dict[str, int] = {}
    if f"booking_id:{event.booking_id}" in watched:
        positions[f"booking_id:{event.booking_id}"] = event.sequence
    if any(key in watched for key in event.filter_keys()[1:]):
        positions.update(store.put_copies(event, event_sk, watched))
    return replace(event, positions=positions)


def booking_timeline(scope: Scope, booking_id: str, after_sequence: int = 0) -> list[TimelineEvent]:
    """A booking's kept events after `after_sequence`, oldest first; 404 if the caller may not read it."""
    from bookinghub.bookings.dal.bookings import get_booking

    booking = get_booking(booking_id) if is_booking_id(booking_id) else None
    if booking is None or not scope.sees(str(booking.get("organisation_id")), str(booking.get("website_id"))):
        raise BookingNotFound()
    return store.booking_events(booking_id, after_sequence)[:MAX_ANSWER]
