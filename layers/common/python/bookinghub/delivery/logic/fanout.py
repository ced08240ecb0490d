"""A domain event becomes deliveries: the booking's website sync back (seed 002) and every matching
subscription (seed 003). Echoes are decided here, before anything is queued.

Creation is idempotent (one delivery per event and endpoint, by key): a re-run after a partial failure
creates only what is missing and re-queues what never got its first attempt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bookinghub.bookings.dal import bookings as booking_store
from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.core.observability import emit_metric, logger, metrics
from bookinghub.core.settings import get_settings
from bookinghub.delivery.dal import deliveries as store
from bookinghub.delivery.dal import endpoints as endpoint_store
from bookinghub.delivery.dal.keys import delivery_id_for
from bookinghub.delivery.dal.queue import AttemptMessage, send
from bookinghub.delivery.logic import payloads
from bookinghub.delivery.logic.clock import iso
from bookinghub.delivery.logic.endpoints import website_endpoint
from bookinghub.delivery.logic.signing import USER_AGENT
from bookinghub.delivery.models import Delivery, Endpoint
from bookinghub.delivery.settings import get_delivery_settings
from bookinghub.websites.dal import websites as website_store
from bookinghub.websites.models import Website


@dataclass
class FanOut:
    queued: list[str] = field(default_factory=list)  # delivery ids
    failed_disabled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # reasons


def echo_reason(event: BookingDomainEvent) -> str | None:
    if event.origin == f"website:{event.website_id}":
        return "the change came from this website"
    if event.event_type not in payloads.SYNC_BACK_SOURCES:
        # A conflict's record is news for subscribers and operators; the website gets only the booking
        # change a resolution makes (seed 002's booking.updated / status_changed)
        return f"{event.event_type} is not a booking change"
    return None


def fan_out(event: BookingDomainEvent, *, now: float | None = None) -> FanOut:
    now = time.time() if now is None else now
    result = FanOut()
    website = website_store.get_website(event.website_id)
    targets: list[tuple[Endpoint, str]] = []
    sync_back = _sync_back_target(event, website, result)
    if sync_back is not None:
        targets.append((sync_back, payloads.serialise(payloads.sync_back_body(event))))
    subscriptions = [
        e for e in endpoint_store.list_endpoints(event.organisation_id) if e.matches(event.event_type, event.website_id)
    ]
    if subscriptions:
        booking = booking_store.get_booking(event.booking_id)
        body = payloads.serialise(
            payloads.make_payload(
                event,
                booking=booking,
                website_name=website.name if website else None,
                environment=get_settings().stage,
                now=iso(now),
                user_agent=USER_AGENT,
            )
        )
        targets += [(endpoint, body) for endpoint in subscriptions]
    messages = [m for endpoint, body in targets if (m := _create(event, endpoint, body, now, result)) is not None]
    send(messages)
    metrics.add_metric(name="DeliveriesCreated", unit="Count", value=len(result.queued) + len(result.failed_disabled))
    return result


def _sync_back_target(event: BookingDomainEvent, website: Website | None, result: FanOut) -> Endpoint | None:
    reason = echo_reason(event)
    endpoint = website_endpoint(website) if website is not None and reason is None else None
    if reason is None and endpoint is None:
        reason = "the website is unknown, inactive, or has no webhook URL or secret"
    if reason:
        result.skipped.append(f"sync back: {reason}")
        logger.info(
            "sync back skipped",
            extra={
                "event_id": event.event_id,
                "website_id": event.website_id,
                "origin": event.origin,
                "reason": reason,
            },
        )
        emit_metric("WebhookSkipped", provider="website", integration_type="sync_back")
    return endpoint


def _create(
    event: BookingDomainEvent, endpoint: Endpoint, body: str, now: float, result: FanOut
) -> AttemptMessage | None:
    status = endpoint_store.get_status(endpoint.id)
    delivery = Delivery(
        id=delivery_id_for(event.event_id, endpoint.id),
        endpoint_id=endpoint.id,
        organisation_id=event.organisation_id,
        event_id=event.event_id,
        event_type=payloads.sync_back_event(event) if endpoint.kind == "website" else event.event_type,
        booking_id=event.booking_id,
        sequence=payloads.sequence_of(event),
        payload=body,
        created_at=iso(now),
        updated_at=iso(now),
        next_attempt_at=iso(now + get_delivery_settings().lease_seconds),
    )
    if status.state != "enabled":
        # Never dropped: kept failed with the reason, replayed when the endpoint is enabled again
        failed = delivery.model_copy(
            update={
                "status": "failed",
                "failed_at": iso(now),
                "next_attempt_at": None,
                "last_error": f"endpoint {status.state}: {status.state_reason or ''}".strip(),
            }
        )
        if store.create_failed(failed):
            endpoint_store.update_status(endpoint.id, add={"failed": 1})
        result.failed_disabled.append(delivery.id)
        return None
    if store.create(delivery):
        endpoint_store.update_status(endpoint.id, add={"pending": 1})
    else:
        existing = store.get(delivery.id)
        if existing is None or existing.status != "pending" or existing.attempts != 0:
            return None  # already under way: its own messages and the sweeper carry it
    result.queued.append(delivery.id)
    return AttemptMessage(delivery.id, 0, endpoint_id=endpoint.id)


def fan_out_message(body: str) -> FanOut:
    """One BookingEvents message (a domain event). An unreadable body raises: retried, then the DLQ."""
    return fan_out(BookingDomainEvent.model_validate_json(body))
