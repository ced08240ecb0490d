"""The Beds24Events consumer: a queued webhook event becomes a reservation change (seed 001 handlers for
created, modified, cancelled and deleted bookings).

The webhook is a hint. With `reread_on_webhook` (the default) the booking is read back from Beds24 and
what Beds24 says now is applied: a booking it no longer has is deleted, whatever the webhook said.
Without it, the webhook's own booking is applied. Either way the write refuses anything older than the
stored modification time, so duplicates and reordering leave the same final state.

While a sync run of the property holds its lease, an event that would create a reservation waits
(re-queued, delayed) and is applied after the run: a run writes its new reservations in unconditional
batches, and must have no rival writer for them. A change to a reservation the hub has is written beside
the run (both writes are conditional on the ordering rule).

Failures: Beds24 unreachable -> the message is retried by SQS (then the DLQ); over its credit budget ->
re-queued, delayed until the budget resets; refresh token rejected -> the webhook's own data is applied and the
event flagged, since waiting would not help.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from bookinghub.aws.queues import message_field
from bookinghub.beds24.client.api import Beds24AuthError, Beds24RateLimited
from bookinghub.beds24.dal import properties as property_store
from bookinghub.beds24.dal import runs as event_store
from bookinghub.beds24.dal.queues import send_webhook_event
from bookinghub.beds24.dal.runs import EventRef
from bookinghub.beds24.logic.apply import Outcome, apply_booking, mark_deleted, parse_booking
from bookinghub.beds24.logic.calls import EventCalls
from bookinghub.beds24.logic.properties import client_for
from bookinghub.beds24.logic.rooms import local_today, refresh_rooms
from bookinghub.beds24.models.entities import Beds24Booking, Beds24Property
from bookinghub.core.clock import iso_now
from bookinghub.core.observability import emit_metric, logger

FINAL = ("processed", "failed", "needs_attention")
# While a sync run holds the property's lease its pages write new reservations in unconditional batches:
# an event waits for the run (re-queued, delayed) rather than race it, up to a bound (a stalled run's lease
# could otherwise hold it for the lease's whole length).
DEFER_SECONDS = 10
MAX_DEFERRALS = 60


@dataclass(frozen=True)
class Applied:
    kind: str  # created | modified | cancelled | deleted | unchanged | stale
    outcome: Outcome
    reread: bool


def parse_message(body: str) -> EventRef:
    """The event a message names; a message queued before events moved to their property's partition
    names only its key (its event is found where it was stored then)."""
    key = message_field(body, "event_key")
    data = json.loads(body)
    organisation_id, property_id = data.get("organisation_id"), data.get("property_id")
    if isinstance(organisation_id, str) and isinstance(property_id, str) and organisation_id and property_id:
        return EventRef(organisation_id, property_id, key)
    legacy = event_store.get_legacy_event(key)
    if legacy is None:
        return EventRef("", "", key)  # nothing stored under it: process_event reports it missing
    return EventRef(str(legacy["organisation_id"]), str(legacy["property_id"]), _moved(key, legacy))


def _moved(key: str, legacy: dict[str, Any]) -> str:
    """A legacy event, stored again in the new layout under its own key (applied from there, once)."""
    ref = EventRef(str(legacy["organisation_id"]), str(legacy["property_id"]), f"legacy#{key}")
    fields = {k: legacy.get(k) for k in ("beds24_property_id", "beds24_booking_id", "modified_time", "hint")}
    fields.update(authenticated_by=legacy.get("authenticated_by"), received_at=legacy.get("received_at"))
    fields["status"] = "queued" if legacy.get("status") not in FINAL else legacy["status"]
    with contextlib.suppress(event_store.EventExists):
        event_store.record_event(ref, fields, str(legacy.get("payload") or "{}").encode("utf-8"))
    return ref.event_key


def process_event(ref: EventRef) -> str:
    """Apply one stored webhook event; returns its final status."""
    event = _stored_event(ref) if ref.organisation_id else None
    if event is None:
        logger.warning("beds24 event not found (expired?)", extra={"event_key": ref.event_key})
        return "missing"
    if event.get("status") in FINAL:
        return str(event["status"])  # a redelivered message: already handled
    # For its credentials and settings: read again, consistently, before anything is written (_apply), so
    # this environment's recent read (at most RECENT_PROPERTY_SECONDS old) will do here unless no second
    # read follows
    prop = property_store.recent_property(ref.organisation_id, ref.property_id)
    if prop is None or not prop.reread_on_webhook:
        prop = property_store.get_property(ref.organisation_id, ref.property_id)
    if prop is None:
        event_store.set_event_status(ref, "needs_attention", reason="property no longer configured")
        return "needs_attention"
    payload = json.loads(event["payload"])
    try:
        webhook_booking = parse_booking(payload["booking"])
    except ValidationError:
        webhook_booking = None
    may_defer = int(event.get("deferrals") or 0) < MAX_DEFERRALS
    calls = EventCalls(prop)
    try:
        return _process(ref, prop, payload, webhook_booking, calls, may_defer=may_defer)
    finally:
        calls.flush()  # successes the event's final write did not carry become rows after all


def _stored_event(ref: EventRef) -> dict[str, Any] | None:
    """The event, eventually consistent (half the read): the webhook wrote it before queueing it, so it is
    almost always there; a miss is read again consistently. An older version only ever says less is done
    (`queued` for a final event, fewer deferrals), and applying twice converges."""
    return event_store.get_event(ref, consistent=False) or event_store.get_event(ref)


def _process(
    ref: EventRef,
    prop: Beds24Property,
    payload: dict[str, Any],
    webhook_booking: Beds24Booking | None,
    calls: EventCalls,
    *,
    may_defer: bool,
) -> str:
    try:
        applied = _apply(prop, payload, webhook_booking, calls, may_defer=may_defer)
    except RunInProgress:
        send_webhook_event(ref, delay_seconds=DEFER_SECONDS)
        event_store.count_deferral(ref)
        logger.info("beds24 event waits for the property's sync run", extra={"event_key": ref.event_key})
        return "deferred"
    except Beds24RateLimited as limited:
        # A fresh, delayed message rather than a failed one: waiting for credits never counts towards the DLQ
        send_webhook_event(ref, delay_seconds=int(limited.retry_after_seconds) + 1)
        logger.info("beds24 credits spent: event postponed", extra={"event_key": ref.event_key})
        return "postponed"
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        event_store.set_event_status(
            ref, "failed", reason=f"invalid booking fields: {', '.join(fields)}", calls=calls.for_event()
        )
        calls.written()
        logger.warning("beds24 event failed: invalid booking", extra={"event_key": ref.event_key, "fields": fields})
        return "failed"
    if _may_change_occupancy(prop, applied.outcome):
        refresh_rooms(prop)
    event_store.set_event_status(
        ref,
        "processed",
        processed_at=iso_now(),
        outcome=applied.kind,
        reread=applied.reread,
        needs_attention=applied.outcome.needs_attention or None,  # written only when it is so
        calls=calls.for_event(),  # the re-read's log, on the event: no write of its own
    )
    calls.written()
    # No log line for an applied event: its stored event (outcome) and metric record it
    emit_metric(f"Beds24Booking{applied.kind.title()}", provider="beds24", integration_type="reservation_sync")
    return "processed"


def _may_change_occupancy(prop: Beds24Property, outcome: Outcome) -> bool:
    """Whether the rooms' status must be recomputed after this event: a version of the reservation (before
    or after) covers today, a day either side. A property that is pulled recomputes them after every run
    (every 5 minutes), so a booking for later needs no recomputation now; one that is not pulled has only its
    events to move its rooms to a new day, so every event recomputes them, as before."""
    if not prop.pull_sync_enabled or not outcome.stays:
        return True
    today = local_today(prop)
    low, high = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()
    for arrival, departure in outcome.stays:
        if arrival is None or departure is None:
            continue  # a version without dates occupies no room
        if arrival <= high and departure > low:
            return True
    return False


class RunInProgress(Exception):
    """A sync run of the property holds its lease: apply after it."""


def _run_in_progress(prop: Beds24Property) -> bool:
    return bool(prop.active_run_id) and float(prop.active_run_expires_at or 0) > time.time()


def _apply(
    prop: Beds24Property,
    payload: dict[str, Any],
    webhook_booking: Beds24Booking | None,
    calls: EventCalls,
    *,
    may_defer: bool,
) -> Applied:
    booking_id = int(payload["booking"]["id"])
    # Checked only where a reservation would be created; read again if the property was read from recent
    # reads or a Beds24 call came between
    guard = _no_run_started(prop, read_again=prop.reread_on_webhook) if may_defer else None
    if prop.reread_on_webhook:
        current: dict[str, Any] | None = None
        reread = True
        try:
            beds24 = client_for(prop, on_call=calls, just_read=True)  # read (or recently read) in process_event
            current = beds24.get_booking(prop.beds24_property_id, booking_id)
        except Beds24AuthError:
            reread = False
            logger.error("beds24 refresh token rejected: applying the webhook as sent", extra={"property_id": prop.id})
            emit_metric("Beds24AuthFailed", provider="beds24", integration_type="reservation_sync")
        if reread:
            if current is None:
                outcome = mark_deleted(prop, booking_id, webhook_booking, source="webhook", before_create=guard)
                return Applied("deleted", outcome, True)
            booking = parse_booking(current)
            outcome = apply_booking(prop, booking, source="webhook", before_create=guard, consistent_read=False)
            return _applied(outcome, booking, True)
    if payload.get("deleted") is True:
        outcome = mark_deleted(prop, booking_id, webhook_booking, source="webhook", before_create=guard)
        return Applied("deleted", outcome, False)
    if webhook_booking is None:
        parse_booking(payload["booking"])  # raises the ValidationError that explains it
    assert webhook_booking is not None
    outcome = apply_booking(prop, webhook_booking, source="webhook", before_create=guard, consistent_read=False)
    return _applied(outcome, webhook_booking, False)


def _no_run_started(prop: Beds24Property, *, read_again: bool) -> Callable[[], None]:
    """The check for a sync run of the property, just before a new reservation is written: on the property
    read again, consistently (`read_again`: it came from recent reads, and the Beds24 read can take
    seconds), else on `prop` itself (read consistently a moment ago). Only a new reservation needs it: a run
    blind-writes only the reservations it did not find (dal/reservations.put_new) and writes the others
    conditionally, so a reservation that exists is changed beside a run safely."""

    def check() -> None:
        fresh = property_store.get_property(prop.organisation_id, prop.id) if read_again else prop
        if fresh is not None and _run_in_progress(fresh):
            raise RunInProgress()

    return check


def _applied(outcome: Outcome, booking: Beds24Booking, reread: bool) -> Applied:
    if outcome.kind in ("unchanged", "stale"):
        return Applied(outcome.kind, outcome, reread)
    if booking.status == "cancelled":
        return Applied("cancelled", outcome, reread)
    return Applied("created" if outcome.kind == "created" else "modified", outcome, reread)
