"""Seed 003's /api/webhooks/booking-events: a trusted producer posts booking events (Bearer secret) that
fan out like the hub's own, and reads the delivery system's health and configuration."""

from __future__ import annotations

import hmac
import json
import time
import uuid
from typing import Any

from pydantic import ValidationError

from bookinghub.aws.secrets import read_secret
from bookinghub.bookings.dal import bookings as booking_store
from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.core.errors import AuthFailed, BookingNotFound, InvalidPayload, ServerError
from bookinghub.core.settings import get_settings
from bookinghub.delivery.dal import endpoints as endpoint_store
from bookinghub.delivery.logic.clock import iso
from bookinghub.delivery.logic.fanout import fan_out
from bookinghub.delivery.models import public_endpoint
from bookinghub.delivery.models.api import ProducerEvent
from bookinghub.delivery.settings import get_delivery_settings


def _secret() -> str:
    settings = get_settings()
    if settings.delivery_producer_secret_arn:
        return read_secret(settings.delivery_producer_secret_arn, max_age=settings.secret_max_age_seconds)
    if settings.delivery_producer_secret:
        return settings.delivery_producer_secret
    raise ServerError("The producer secret is not configured")


def check_bearer(authorization: str | None) -> None:
    """`Authorization: Bearer <secret>`, compared in constant time."""
    scheme, _, token = (authorization or "").partition(" ")
    expected = _secret()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise AuthFailed("Invalid or missing bearer token")


def parse_event(raw: bytes) -> ProducerEvent:
    try:
        return ProducerEvent.model_validate(json.loads(raw or b"null"))
    except (ValueError, UnicodeDecodeError) as error:
        details = (
            [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]} for e in error.errors()]
            if isinstance(error, ValidationError)
            else [{"field": "body", "message": "not a JSON object"}]
        )
        raise InvalidPayload(details=details) from None


def accept(event: ProducerEvent) -> dict[str, Any]:
    booking = booking_store.get_booking(event.booking_id)
    if booking is None:
        raise BookingNotFound()
    domain_event = BookingDomainEvent(
        event_id=event.event_id or str(uuid.uuid4()),
        event_type=event.event_type,
        booking_id=event.booking_id,
        website_id=str(booking["website_id"]),
        organisation_id=str(booking["organisation_id"]),
        source_booking_id=str(booking["source_booking_id"]),
        origin="producer",
        actor=event.actor,
        changed_fields=list(event.changed_fields),
        data=dict(event.data),
        occurred_at=iso(time.time()),
    )
    result = fan_out(domain_event)
    return {
        "event_id": domain_event.event_id,
        "queued": len(result.queued),
        "failed_endpoint_disabled": len(result.failed_disabled),
        "skipped": result.skipped,
    }


def health(organisation_id: str | None) -> dict[str, Any]:
    """Configuration status: is the queue configured, and how each of the organisation's endpoints is."""
    settings = get_delivery_settings()
    listed: list[dict[str, Any]] = []
    if organisation_id:
        for endpoint in endpoint_store.list_endpoints(organisation_id):
            view = public_endpoint(endpoint, endpoint_store.get_status(endpoint.id))
            listed.append(
                {
                    k: view[k]
                    for k in (
                        "id",
                        "kind",
                        "url",
                        "event_types",
                        "state",
                        "state_reason",
                        "circuit",
                        "consecutive_failures",
                        "last_success_at",
                        "last_failure_at",
                    )
                }
            )
    degraded = [e["id"] for e in listed if e["state"] != "enabled" or e["circuit"] != "closed"]
    return {
        "status": "degraded" if degraded or not get_settings().deliveries_queue_url else "healthy",
        "configured": bool(get_settings().deliveries_queue_url),
        "signing": ["X-Webhook-Signature (sha256)", "webhook-signature (Standard Webhooks v1)"],
        "retry_schedule_seconds": list(settings.schedule_seconds),
        "timeout_seconds": settings.timeout_seconds,
        "endpoints": listed,
        "degraded_endpoints": degraded,
    }
