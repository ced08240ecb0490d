"""The Beds24Events consumer: a queued webhook event becomes a reservation change (seed 001 handlers for
created, modified, cancelled and deleted bookings).

The webhook is a hint. With `reread_on_webhook` (the default) the booking is read back from Beds24 and
what Beds24 says now is applied: a booking it no longer has is deleted, whatever the webhook said.
Without it, the webhook's own booking is applied. Either way the write refuses anything older than the
stored modification time, so duplicates and reordering leave the same final state.

While a sync run of the property holds its lease, an event waits (re-queued, delayed) and is applied after
the run: a run writes its new reservations in unconditional batches, and must have no rival writer.

Failures: Beds24 unreachable -> the message is retried by SQS (then the DLQ); over its credit budget ->
re-queued, delayed until the budget resets; refresh token rejected -> the webhook's own data is applied and the
event flagged, since waiting would not help.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bookinghub.aws.queues import message_field
from bookinghub.beds24.client.api import Beds24AuthError, Beds24RateLimited
from bookinghub.beds24.dal import properties as property_store
from bookinghub.beds24.dal import runs as event_store
from bookinghub.beds24.dal.queues import send_webhook_event
from bookinghub.beds24.logic.apply import Outcome, apply_booking, mark_deleted, parse_booking
from bookinghub.beds24.logic.calls import call_logger
from bookinghub.beds24.logic.properties import client_for
from bookinghub.beds24.logic.rooms import refresh_rooms
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


def parse_message(body: str) -> str:
    return message_field(body, "event_key")


def process_event(event_key: str) -> str:
    """Apply one stored webhook event; returns its final status."""
    event = event_store.get_event(event_key)
    if event is None:
        logger.warning("beds24 event not found (expired?)", extra={"event_key": event_key})
        return "missing"
    if event.get("status") in FINAL:
        return str(event["status"])  # a redelivered message: already handled
    prop = property_store.get_property(str(event["organisation_id"]), str(event["property_id"]))
    if prop is None:
        event_store.set_event_status(event_key, "needs_attention", reason="property no longer configured")
        return "needs_attention"
    payload = json.loads(event["payload"])
    try:
        webhook_booking = parse_booking(payload["booking"])
    except ValidationError:
        webhook_booking = None
    may_defer = int(event.get("deferrals") or 0) < MAX_DEFERRALS
    try:
        if may_defer and _run_in_progress(prop):
            raise RunInProgress()
        applied = _apply(prop, payload, webhook_booking, may_defer=may_defer)
    except RunInProgress:
        send_webhook_event(event_key, delay_seconds=DEFER_SECONDS)
        event_store.count_deferral(event_key)
        logger.info("beds24 event waits for the property's sync run", extra={"event_key": event_key})
        return "deferred"
    except Beds24RateLimited as limited:
        # A fresh, delayed message rather than a failed one: waiting for credits never counts towards the DLQ
        send_webhook_event(event_key, delay_seconds=int(limited.retry_after_seconds) + 1)
        logger.info("beds24 credits spent: event postponed", extra={"event_key": event_key})
        return "postponed"
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        event_store.set_event_status(event_key, "failed", reason=f"invalid booking fields: {', '.join(fields)}")
        logger.warning("beds24 event failed: invalid booking", extra={"event_key": event_key, "fields": fields})
        return "failed"
    refresh_rooms(prop)
    event_store.set_event_status(
        event_key,
        "processed",
        processed_at=iso_now(),
        outcome=applied.kind,
        reservation_id=applied.outcome.reservation_id,
        reread=applied.reread,
        needs_attention=applied.outcome.needs_attention,
    )
    logger.info(
        "beds24 event applied",
        extra={"event_key": event_key, "outcome": applied.kind, "reservation_id": applied.outcome.reservation_id},
    )
    emit_metric(f"Beds24Booking{applied.kind.title()}", provider="beds24", integration_type="reservation_sync")
    return "processed"


class RunInProgress(Exception):
    """A sync run of the property holds its lease: apply after it."""


def _run_in_progress(prop: Beds24Property) -> bool:
    return bool(prop.active_run_id) and float(prop.active_run_expires_at or 0) > time.time()


def _apply(
    prop: Beds24Property, payload: dict[str, Any], webhook_booking: Beds24Booking | None, *, may_defer: bool
) -> Applied:
    booking_id = int(payload["booking"]["id"])
    if prop.reread_on_webhook:
        try:
            beds24 = client_for(prop, on_call=call_logger(prop), just_read=True)  # read in process_event
            current = beds24.get_booking(prop.beds24_property_id, booking_id)
        except Beds24AuthError:
            logger.error("beds24 refresh token rejected: applying the webhook as sent", extra={"property_id": prop.id})
            emit_metric("Beds24AuthFailed", provider="beds24", integration_type="reservation_sync")
        else:
            # The read can take seconds: look again, just before writing, for a run that started meanwhile
            fresh = property_store.get_property(prop.organisation_id, prop.id)
            if may_defer and fresh is not None and _run_in_progress(fresh):
                raise RunInProgress()
            if current is None:
                return Applied("deleted", mark_deleted(prop, booking_id, webhook_booking, source="webhook"), True)
            return _applied(apply_booking(prop, parse_booking(current), source="webhook"), parse_booking(current), True)
    if payload.get("deleted") is True:
        return Applied("deleted", mark_deleted(prop, booking_id, webhook_booking, source="webhook"), False)
    if webhook_booking is None:
        parse_booking(payload["booking"])  # raises the ValidationError that explains it
    assert webhook_booking is not None
    return _applied(apply_booking(prop, webhook_booking, source="webhook"), webhook_booking, False)


def _applied(outcome: Outcome, booking: Beds24Booking, reread: bool) -> Applied:
    if outcome.kind in ("unchanged", "stale"):
        return Applied(outcome.kind, outcome, reread)
    if booking.status == "cancelled":
        return Applied("cancelled", outcome, reread)
    return Applied("created" if outcome.kind == "created" else "modified", outcome, reread)
