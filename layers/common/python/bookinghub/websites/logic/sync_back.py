"""Booking changes made in the hub go back to their source website's webhook (seed 002 "Sync Back to Source").

Each domain event from the BookingEvents queue becomes at most one successful, signed POST:
- a change that came from the website itself is never echoed back to it; a website that is unknown,
  inactive or has no webhook (or no signing secret) is passed over; each skip is logged with its reason;
- 2xx is delivered; a 3xx or a 4xx other than 408/429 is a permanent refusal (logged failed, not retried);
  a 5xx, 408, 429 or no answer at all raises, so SQS retries the message and, after maxReceiveCount,
  moves it to the dead-letter queue;
- Powertools idempotency keyed on `event_id` turns a redelivered or duplicated message into a replay of
  the first outcome instead of a second POST. Receivers can also dedupe on `X-Webhook-Id`.
Every attempt writes an outbound sync log row with the payload masked.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from bookinghub.aws.idempotency import idempotent
from bookinghub.aws.kms import decrypt_secret
from bookinghub.bookings.dal.logs import put_sync_log
from bookinghub.bookings.models.events import BookingDomainEvent, SyncLog, SyncStatus
from bookinghub.core.clock import iso_now
from bookinghub.core.observability import logger, metrics
from bookinghub.core.security import mask_pii, mask_text, sign_webhook
from bookinghub.core.settings import get_settings
from bookinghub.core.urls import WebhookUrlRejected
from bookinghub.websites.adapters.webhooks import WebhookTransportError, post_webhook
from bookinghub.websites.dal import websites as website_store
from bookinghub.websites.logic.registry import WEBHOOK_SECRET_PURPOSE
from bookinghub.websites.models import Website

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.typing import LambdaContext

WebhookEvent = Literal["booking.updated", "booking.status_changed"]

# A fixed prefix keeps idempotency keys stable when this module or the function is renamed.
IDEMPOTENCY_KEY_PREFIX = "website-webhook"
# Longer than a message can live in the queue (4 days) so no redelivery ever finds the record gone.
IDEMPOTENCY_EXPIRES_AFTER_SECONDS = 7 * 86400
# Time a delivery needs beyond the HTTP timeout (decrypt, log write, idempotency record)
_TIME_MARGIN_MS = 2000


class DeliveryRetry(Exception):
    """The website did not take the event this time; the message must be retried."""


@dataclass(frozen=True)
class SignedWebhook:
    body: bytes  # exactly the bytes that were signed
    headers: dict[str, str]


# --- Pure rules: what to send, to whom, and how it is signed -----------------------------------------


def echo_reason(event: BookingDomainEvent) -> str | None:
    """A website's own change is never sent back to it."""
    if event.origin == f"website:{event.website_id}":
        return "the change came from this website"
    return None


def website_skip_reason(website: Website | None) -> str | None:
    if website is None:
        return "website is not registered"
    if not website.is_active:
        return "website is inactive"
    if not website.webhook_url:
        return "website has no webhook_url"
    if not website.webhook_secret_encrypted:
        return "website has no webhook secret to sign with"
    return None


def webhook_event_type(changed_fields: list[str]) -> WebhookEvent:
    """Seed 002 "Events from OneBooking to Source": a status change has its own event."""
    return "booking.status_changed" if "status" in changed_fields else "booking.updated"


def updated_by(event: BookingDomainEvent) -> str:
    """Who made the change: the actor when known, else the origin's id (`admin:ops@x.com` -> ops@x.com)."""
    if event.actor:
        return event.actor
    return event.origin.split(":", 1)[1] if ":" in event.origin else event.origin


def build_webhook_body(event: BookingDomainEvent) -> dict[str, Any]:
    """Seed 002's webhook body: the changed fields only (a cleared field is sent as null)."""
    changed = list(event.changed_fields)
    return {
        "event": webhook_event_type(changed),
        "source_booking_id": event.source_booking_id,
        "updated_fields": changed,
        "data": {name: event.data.get(name) for name in changed},
        "updated_at": event.occurred_at,
        "updated_by": updated_by(event),
    }


def sign_webhook_request(body: dict[str, Any], *, secret: str, webhook_id: str, timestamp: int) -> SignedWebhook:
    """Serialise once and sign those exact bytes (ASCII JSON: no encoding ambiguity for the receiver)."""
    text = json.dumps(body, separators=(",", ":"))
    stamp = str(timestamp)
    return SignedWebhook(
        body=text.encode("ascii"),
        headers={
            "Content-Type": "application/json",
            "X-Webhook-Signature": sign_webhook(secret, stamp, text),
            "X-Webhook-Timestamp": stamp,
            "X-Webhook-Id": webhook_id,
            "User-Agent": "bookinghub-webhooks/1",
        },
    )


# --- Delivery --------------------------------------------------------------------------------------


def bind_lambda_context(context: LambdaContext) -> None:
    """Let idempotency take over an in-progress record once this invocation's deadline has passed."""
    _idempotency_config().register_lambda_context(context)


def deliver_event_message(body: str, *, attempt: int = 1) -> dict[str, Any]:
    """One BookingEvents message. An unreadable body raises: it is retried, then kept in the DLQ."""
    return deliver_event(BookingDomainEvent.model_validate_json(body), attempt=attempt)


def deliver_event(event: BookingDomainEvent, *, attempt: int = 1) -> dict[str, Any]:
    reason = echo_reason(event)
    website = None if reason else website_store.get_website(event.website_id)
    reason = reason or website_skip_reason(website)
    if reason or website is None:
        logger.info(
            "webhook skipped",
            extra={
                "event_id": event.event_id,
                "website_id": event.website_id,
                "origin": event.origin,
                "reason": reason,
            },
        )
        metrics.add_metric(name="WebhookSkipped", unit="Count", value=1)
        return {"outcome": "skipped", "reason": reason}
    _ensure_time_for_one_delivery()
    result: dict[str, Any] = _idempotent_delivery()(event=event, website=website, attempt=attempt)
    return result


def _deliver(*, event: BookingDomainEvent, website: Website, attempt: int) -> dict[str, Any]:
    """One attempt. Returns (and so completes the idempotency record) when the outcome is final."""
    settings = get_settings()
    body = build_webhook_body(event)
    secret = decrypt_secret(website.webhook_secret_encrypted or "", purpose=WEBHOOK_SECRET_PURPOSE, owner=website.id)
    signed = sign_webhook_request(body, secret=secret, webhook_id=event.event_id, timestamp=int(time.time()))
    attempt_log = _AttemptLog(event, website, body, attempt)
    try:
        response = post_webhook(
            website.webhook_url or "",
            signed.body,
            signed.headers,
            timeout_seconds=settings.webhook_timeout_seconds,
            allow_insecure_loopback=settings.allow_insecure_webhooks,
        )
    except WebhookUrlRejected as error:
        attempt_log.write("failed", error=str(error))
        metrics.add_metric(name="WebhookRejected", unit="Count", value=1)
        return {"outcome": "failed", "error": str(error)}
    except WebhookTransportError as error:
        attempt_log.write("pending", error=f"no answer, will retry: {error}")
        metrics.add_metric(name="WebhookRetry", unit="Count", value=1)
        raise DeliveryRetry(f"no answer from the website: {error}") from error

    excerpt = response.body_excerpt[:200].strip()
    status_detail = f"HTTP {response.status_code}" + (f": {excerpt}" if excerpt else "")
    if response.outcome == "delivered":
        attempt_log.write(
            "success", http_status=response.status_code, duration_ms=response.duration_ms, best_effort=True
        )
        metrics.add_metric(name="WebhookDelivered", unit="Count", value=1)
        return {"outcome": "delivered", "http_status": response.status_code}
    if response.outcome == "rejected":
        attempt_log.write(
            "failed", error=status_detail, http_status=response.status_code, duration_ms=response.duration_ms
        )
        metrics.add_metric(name="WebhookRejected", unit="Count", value=1)
        return {"outcome": "failed", "http_status": response.status_code}
    attempt_log.write(
        "pending",
        error=f"{status_detail} (will retry)",
        http_status=response.status_code,
        duration_ms=response.duration_ms,
    )
    metrics.add_metric(name="WebhookRetry", unit="Count", value=1)
    raise DeliveryRetry(f"website answered HTTP {response.status_code}")


@dataclass(frozen=True)
class _AttemptLog:
    event: BookingDomainEvent
    website: Website
    body: dict[str, Any]
    attempt: int

    def write(
        self,
        status: SyncStatus,
        *,
        error: str | None = None,
        http_status: int | None = None,
        duration_ms: int | None = None,
        best_effort: bool = False,
    ) -> None:
        log = SyncLog(
            id=str(uuid.uuid4()),
            booking_id=self.event.booking_id,
            website_id=self.website.id,
            direction="outbound",
            event_type=str(self.body["event"]),
            payload=mask_pii(self.body),
            status=status,
            error_message=mask_text(error) if error else None,
            created_at=iso_now(),
            http_status_code=http_status,
            duration_ms=duration_ms,
            attempt=self.attempt,
        )
        extra = {
            "event_id": self.event.event_id,
            "website_id": self.website.id,
            "status": status,
            "http_status": http_status,
            "attempt": self.attempt,
            "error": log.error_message,
        }
        logger.info("webhook attempt", extra=extra)
        try:
            put_sync_log(log)
        except Exception:
            if not best_effort:
                raise
            # Delivered already: failing now would only make SQS post the event a second time.
            logger.exception("sync log write failed after a delivered webhook", extra=extra)


def _ensure_time_for_one_delivery() -> None:
    """Start a POST only if this invocation can wait for its answer; otherwise leave it to a retry."""
    context = _idempotency_config().lambda_context
    if context is None:
        return
    needed_ms = int(get_settings().webhook_timeout_seconds * 1000) + _TIME_MARGIN_MS
    if context.get_remaining_time_in_millis() < needed_ms:
        raise DeliveryRetry("not enough time left in this invocation to wait for the website")


# --- Idempotency, built on first use (it needs an AWS client) ---------------------------------------


@cache
def _idempotency_config() -> IdempotencyConfig:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="event_id",
        raise_on_no_idempotency_key=True,  # never deliver without the guard
        expires_after_seconds=IDEMPOTENCY_EXPIRES_AFTER_SECONDS,
        response_hook=_count_replay,
    )


def _count_replay(response: Any, idempotent_data: Any) -> Any:
    """Called when a stored outcome is returned instead of posting: a duplicate was suppressed."""
    logger.info("webhook not posted again: event already handled", extra={"outcome": response})
    metrics.add_metric(name="WebhookDuplicateSuppressed", unit="Count", value=1)
    return response


def _idempotent_delivery() -> Callable[..., dict[str, Any]]:
    return idempotent(
        _deliver, data_keyword_argument="event", key_prefix=IDEMPOTENCY_KEY_PREFIX, config=_idempotency_config()
    )
