"""The Beds24Events consumer: a queued webhook event becomes a reservation change (seed 001 handlers for
created, modified, cancelled and deleted bookings).

The webhook is a hint. With `reread_on_webhook` (the default) the booking is read back from Beds24 and
what Beds24 says now is applied: a booking it no longer has is deleted, whatever the webhook said.
Without it, the webhook's own booking is applied. Either way the write refuses anything older than the
stored modification time, so duplicates and reordering leave the same final state.

The message is the event (its receipt: the body sealed, dal/queues.QueuedEvent) and the event's one record
is written here when it is done, by a conditional put: a redelivery is applied again (changing nothing) and
leaves the first record. Events queued before messages carried them are read from their stored item.

While a sync run of the property holds its lease, an event that would create a reservation waits
(re-queued, delayed) and is applied after the run: a run writes its new reservations in unconditional
batches, and must have no rival writer for them. A change to a reservation the hub has is written beside
the run (both writes are conditional on the ordering rule).

Failures: Beds24 unreachable -> the message is retried by SQS, its last receive records the event `failed`
(seen on the property), then the DLQ (replayed with `bookinghub dlq redrive Beds24Events`); over its credit budget ->
re-queued, delayed until the budget resets; refresh token rejected -> the webhook's own data is applied and the
event flagged, since waiting would not help.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from bookinghub.aws.queues import message_field
from bookinghub.beds24.client.api import Beds24AuthError, Beds24RateLimited
from bookinghub.beds24.client.http import Beds24Error
from bookinghub.beds24.dal import properties as property_store
from bookinghub.beds24.dal import runs as event_store
from bookinghub.beds24.dal.queues import QueuedEvent, send_webhook_event
from bookinghub.beds24.dal.runs import EventRef
from bookinghub.beds24.logic.apply import Outcome, apply_booking, mark_deleted, parse_booking
from bookinghub.beds24.logic.calls import EventCalls
from bookinghub.beds24.logic.properties import client_for
from bookinghub.beds24.logic.rooms import local_today, refresh_rooms
from bookinghub.beds24.logic.webhooks import open_body
from bookinghub.beds24.models.entities import Beds24Booking, Beds24Property
from bookinghub.core.clock import iso_now
from bookinghub.core.observability import emit_metric, logger

FINAL = ("processed", "failed", "needs_attention")
# While a sync run holds the property's lease its pages write new reservations in unconditional batches:
# an event waits for the run (re-queued, delayed) rather than race it, up to a bound (a stalled run's lease
# could otherwise hold it for the lease's whole length).
DEFER_SECONDS = 10
MAX_DEFERRALS = 60
MAX_RECEIVES = 5  # the Beds24Events queue's maxReceiveCount: the last receive records the failure


@dataclass(frozen=True)
class Applied:
    kind: str  # created | modified | cancelled | deleted | unchanged | stale
    outcome: Outcome
    reread: bool


@dataclass(frozen=True)
class Event:
    """A webhook event to apply: carried by its message (`queued`: the consumer writes its one record), or
    stored by the webhook before messages carried their event (`stored`: its record is updated)."""

    ref: EventRef
    body: bytes
    fields: dict[str, Any]  # what the record says of the delivery: received_at, authenticated_by, hint
    deferrals: int
    queued: QueuedEvent | None = None

    @property
    def stored(self) -> bool:
        return self.queued is None


def parse_message(body: str) -> EventRef | QueuedEvent:
    """The event a message carries; a message queued before messages carried their event names its stored
    event (and one queued before events moved to their property's partition, only its key)."""
    data = json.loads(body)
    queued = QueuedEvent.from_message(data) if isinstance(data, dict) else None
    if queued is not None:
        return queued
    key = message_field(body, "event_key")
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


def process_message(message: EventRef | QueuedEvent, *, receive_count: int = 1) -> str:
    """Apply one queued webhook event; returns its final status. Raises to be retried (Beds24 down): the
    last receive records the event `failed` first (an operator sees it on the property and replays the
    DLQ's message: `bookinghub dlq redrive Beds24Events`)."""
    if isinstance(message, QueuedEvent):
        body = open_body(message.ref, message.sealed)
        event = Event(message.ref, body, _delivery(message), message.deferrals, message)
    else:
        found = _stored_event(message) if message.organisation_id else None
        if found is None:
            logger.warning("beds24 event not found (expired?)", extra={"event_key": message.event_key})
            return "missing"
        if found.get("status") in FINAL:
            return str(found["status"])  # a redelivered message: already handled
        body = str(found["payload"]).encode("utf-8")
        event = Event(message, body, {}, int(found.get("deferrals") or 0))
    try:
        return process_event(event)
    except Exception as error:
        if event.queued is not None and receive_count >= MAX_RECEIVES:
            _finish(event, "failed", reason=_failure(error))  # before the DLQ: seen on the property page
        raise


def _delivery(queued: QueuedEvent) -> dict[str, Any]:
    return {"received_at": queued.received_at, "authenticated_by": queued.authenticated_by, "hint": queued.hint}


def _failure(error: Exception) -> str:
    """What the record says of a failure: Beds24's errors carry no token or guest data; others, their kind."""
    if isinstance(error, Beds24Error):
        return f"Beds24 unavailable after {MAX_RECEIVES} attempts: {error}"
    return f"{type(error).__name__} after {MAX_RECEIVES} attempts"


def process_event(event: Event) -> str:
    """Apply one webhook event; returns its final status."""
    ref = event.ref
    # For its credentials and settings: read again, consistently, before anything is written (_apply), so
    # this environment's recent read (at most RECENT_PROPERTY_SECONDS old) will do here unless no second
    # read follows
    prop = property_store.recent_property(ref.organisation_id, ref.property_id)
    if prop is None or not prop.reread_on_webhook:
        prop = property_store.get_property(ref.organisation_id, ref.property_id)
    if prop is None:
        _finish(event, "needs_attention", reason="property no longer configured")
        return "needs_attention"
    payload = json.loads(event.body)
    try:
        webhook_booking = parse_booking(payload["booking"])
    except ValidationError:
        webhook_booking = None
    calls = EventCalls(prop)
    try:
        return _process(event, prop, payload, webhook_booking, calls)
    finally:
        calls.flush()  # successes the event's final write did not carry become rows after all


def _stored_event(ref: EventRef) -> dict[str, Any] | None:
    """An event the webhook stored, eventually consistent (half the read): the webhook wrote it before
    queueing it, so it is almost always there; a miss is read again consistently. An older version only
    ever says less is done (`queued` for a final event, fewer deferrals), and applying twice converges."""
    return event_store.get_event(ref, consistent=False) or event_store.get_event(ref)


def _finish(event: Event, status: str, **fields: Any) -> bool:
    """The event's final write: its one record (a queued event), or its stored record updated. False when
    the event was recorded already (a redelivery of a queued event)."""
    if event.stored:
        event_store.set_event_status(event.ref, status, **fields)
        return True
    record = {**event.fields, "status": status, **fields}
    if event.deferrals:
        record["deferrals"] = event.deferrals
    return event_store.put_event_record(event.ref, record, event.body)


def _requeue(event: Event, delay_seconds: int, *, deferred: bool = False) -> None:
    """The event queued again, delayed (a fresh message: never counts towards the DLQ)."""
    if event.queued is None:
        send_webhook_event(event.ref, delay_seconds=delay_seconds)
        if deferred:
            event_store.count_deferral(event.ref)
        return
    again = replace(event.queued, deferrals=event.deferrals + 1) if deferred else event.queued
    send_webhook_event(again, delay_seconds=delay_seconds)


def _process(
    event: Event,
    prop: Beds24Property,
    payload: dict[str, Any],
    webhook_booking: Beds24Booking | None,
    calls: EventCalls,
) -> str:
    ref = event.ref
    try:
        applied = _apply(prop, payload, webhook_booking, calls, may_defer=event.deferrals < MAX_DEFERRALS)
    except RunInProgress:
        _requeue(event, DEFER_SECONDS, deferred=True)
        logger.info("beds24 event waits for the property's sync run", extra={"event_key": ref.event_key})
        return "deferred"
    except Beds24RateLimited as limited:
        # A fresh, delayed message rather than a failed one: waiting for credits never counts towards the DLQ
        _requeue(event, int(limited.retry_after_seconds) + 1)
        logger.info("beds24 credits spent: event postponed", extra={"event_key": ref.event_key})
        return "postponed"
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        _finish(event, "failed", reason=f"invalid booking fields: {', '.join(fields)}", calls=calls.for_event())
        calls.written()
        logger.warning("beds24 event failed: invalid booking", extra={"event_key": ref.event_key, "fields": fields})
        return "failed"
    if _may_change_occupancy(prop, applied.outcome):
        refresh_rooms(prop)
    recorded = _finish(
        event,
        "processed",
        processed_at=iso_now(),
        outcome=applied.kind,
        reread=applied.reread,
        needs_attention=applied.outcome.needs_attention or None,  # written only when it is so
        calls=calls.for_event(),  # the re-read's log, on the event: no write of its own
    )
    if not recorded:
        # A redelivery of an event already recorded: applying it again changed nothing older (the ordering
        # rule), and its first record stays; its re-read's log becomes a row (flush)
        logger.info("beds24 event already recorded", extra={"event_key": ref.event_key, "outcome": applied.kind})
        return "duplicate"
    calls.written()
    # No log line for an applied event: its record (outcome) and metric record it
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
