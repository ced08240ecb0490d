"""Provider webhooks: `POST /api/pms/{provider}/bookings`, acknowledged fast and applied by a consumer.

The edge checks, in order (and stores nothing when one fails): the provider is known (404
UNKNOWN_PROVIDER), the hotel is named (400) and configured for that provider (404 HOTEL_NOT_FOUND), the
token is the hotel's (401, constant-time compare of hashes), the integration is enabled (409), the body
is a JSON object of the provider's shape (400). Then the event is stored once, keyed by the provider's
own event key, and queued; a redelivery is acknowledged as a duplicate without a second write.
Cloudbeds cannot add headers to its webhooks, so the hotel and token may come in the URL instead
(?hotel=...&token=...), as the issue's per-hotel secret in the URL.

The consumer re-reads the stored event, asks the provider for the booking (Cloudbeds and Beds24 re-fetch
it: their webhooks are unsigned; the mock's body is the booking), applies it, and records a WEBHOOK
sync log. A provider that is down raises (SQS retries, then the DLQ); a booking that does not map is
recorded as FAILED and not retried.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from bookinghub.core.clock import iso_now
from bookinghub.core.errors import InvalidPayload, PayloadTooLarge
from bookinghub.core.observability import logger
from bookinghub.core.settings import get_settings
from bookinghub.pms import keys
from bookinghub.pms.dal import configs, logs, store, webhooks
from bookinghub.pms.errors import MappingError, PMSDisabled, ProviderError
from bookinghub.pms.logic import apply, events, hotels
from bookinghub.pms.logic.sync import new_log
from bookinghub.pms.models import FetchOptions
from bookinghub.pms.providers.registry import get_provider, require_known


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def receive(
    provider_key: str,
    body: bytes,
    headers: Mapping[str, str] | None,
    query: Mapping[str, str] | None,
    correlation_id: str,
) -> dict[str, Any]:
    require_known(provider_key)
    query = query or {}
    slug = (_header(headers, "x-hotel-slug") or query.get("hotel") or "").strip()
    if not slug:
        raise InvalidPayload("Missing x-hotel-slug", details=[{"field": "x-hotel-slug", "message": "required"}])
    token = _header(headers, "x-provider-token") or query.get("token")
    config = hotels.authenticate_webhook(slug, provider_key, token)
    if not config.enabled:
        raise PMSDisabled()
    if len(body) > get_settings().max_body_bytes:
        raise PayloadTooLarge()
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidPayload("Body is not JSON", details=[{"field": "body", "message": "invalid JSON"}]) from None
    if not isinstance(payload, dict):
        raise InvalidPayload("Body must be a JSON object", details=[{"field": "body", "message": "not an object"}])
    provider = get_provider(hotels.hotel_context_without_secrets(config))
    reference = provider.webhook_reference(payload)
    pk, stored = webhooks.put_new(
        slug=slug,
        provider=provider_key,
        event_key=reference.event_key,
        payload=payload,
        correlation_id=correlation_id,
        received_at=iso_now(),
    )
    duplicate = stored is not None
    if stored is not None and stored.get("status") != "queued" and _older_change_again(config, reference):
        # Seen before but not the booking's latest change (A, B, then A again): apply it again
        webhooks.mark(pk, "queued", at=iso_now())
        duplicate = False
    if not duplicate or (stored is not None and stored.get("status") == "queued"):
        webhooks.send(
            get_settings().pms_events_queue_url, {"kind": "webhook", "event": pk, "correlation_id": correlation_id}
        )
    logger.info(
        "pms webhook received",
        extra={
            "hotel_slug": slug,
            "provider": provider_key,
            "external_id": reference.external_id,
            "duplicate": duplicate,
        },
    )
    return {"status": "duplicate" if duplicate else "queued", "externalId": reference.external_id}


def _older_change_again(config: Any, reference: Any) -> bool:
    """True when the hub booking's latest applied webhook is another one (one GetItem, redeliveries only)."""
    booking = store.get_booking(keys.booking_id(config.slug, config.provider, reference.external_id))
    return booking is not None and booking.get("pms_last_event") not in (None, reference.event_key)


def process(body: str) -> str:
    """One PMSEvents message; returns the outcome (raises when SQS should retry it)."""
    message = json.loads(body)
    if message.get("correlation_id"):
        logger.set_correlation_id(str(message["correlation_id"]))
    event = webhooks.get(str(message["event"]))
    if event is None or event.get("status") == "applied":
        return "skipped"
    config = configs.get(str(event["hotel_slug"]))
    if config is None or config.provider != event["provider"]:
        webhooks.mark(str(message["event"]), "failed", error="configuration gone", at=iso_now())
        return "failed"
    started = time.monotonic()
    log = new_log(config, "BOOKING", "WEBHOOK", FetchOptions(limit=1), correlation_id=event.get("correlation_id"))
    provider = get_provider(hotels.hotel_context(config))
    try:
        booking = provider.booking_from_webhook(event["payload"])
    except ProviderError as error:
        if error.retryable:
            raise  # SQS redelivers after the visibility timeout; the DLQ keeps what keeps failing
        return _failed(message["event"], log, started, f"provider: {error}")
    except MappingError as error:
        events.mapping_error(config.provider, str(error))
        return _failed(message["event"], log, started, f"mapping: {error}")
    if booking is None:
        return _failed(message["event"], log, started, "the provider no longer has this booking")
    applied = apply.apply_bookings(config, [booking], event_key=str(event["event_key"]))[0]
    final = log.model_copy(
        update={
            "status": "COMPLETED",
            "items_processed": 1,
            "finished_at": iso_now(),
            "duration_ms": int((time.monotonic() - started) * 1000),
        }
    )
    logs.put(final)
    events.sync_completed(final)
    webhooks.mark(str(message["event"]), "applied", booking_id=applied.booking_id, at=iso_now())
    logger.info("pms webhook applied", extra={"booking_id": applied.booking_id, "outcome": applied.outcome})
    return applied.outcome


def _failed(event_pk: str, log: Any, started: float, error: str) -> str:
    final = log.model_copy(
        update={
            "status": "FAILED",
            "items_failed": 1,
            "finished_at": iso_now(),
            "duration_ms": int((time.monotonic() - started) * 1000),
            "error": error[:500],
        }
    )
    logs.put(final)
    events.sync_completed(final)
    webhooks.mark(event_pk, "failed", error=error, at=iso_now())
    logger.warning("pms webhook not applied", extra={"reason": error[:200]})
    return "failed"
