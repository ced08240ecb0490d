"""Stripe webhooks (`POST /api/webhooks/stripe`): a paid payment becomes a pass, queued for its pincode.

- The Stripe-Signature is verified with Stripe's library over the raw body (300 s tolerance); anything
  else is a 400 INVALID_SIGNATURE and nothing is stored.
- Stripe delivers at least once, in any order, and retries for 3 days. One pass per payment, whichever
  of checkout.session.completed / .async_payment_succeeded / payment_intent.succeeded arrive: the pass id
  derives from the payment intent id and is created with a conditional put. That put is also the
  event's idempotency (no separate record: issue 11): the pass names the event that created (or
  activated) it and when it was queued, so a redelivery of that event answers the same outcome and
  queues nothing, and any other event of the payment finds `pass_exists`.
- The put carries `queued_at` and the pincode's claim before the message is sent: a failed send undoes
  `queued_at` (so Stripe's retry queues it), and a redelivery of the queueing event that finds no lock
  code QUEUE_AGAIN_AFTER_SECONDS after `queued_at` (the first delivery died between put and send, or its
  message is long gone) queues the pass again; the consumer's claim keeps a second message from calling
  Rooms at the same time as the first.
- The pass is created here rather than in the consumer, so the customer's page can read it back as
  "pending" at once, and the queue message carries only the pass id and claim token (no guest data in
  SQS or the DLQ). The Rooms call, which can take seconds or fail for hours, happens in issue_pincodes.
- Missing or invalid metadata: the pass is stored as needs_attention with the reason; Stripe gets 200.
  A later event of the same payment with valid metadata activates it.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from bookinghub.aws.secrets import read_secret
from bookinghub.core.clock import iso_now
from bookinghub.core.errors import (
    InvalidPayload,
    InvalidSignature,
    WebhookNotConfigured,
)
from bookinghub.core.observability import emit_metric, logger
from bookinghub.core.settings import get_settings
from bookinghub.payments.dal import pass_queue
from bookinghub.payments.dal import passes as pass_store
from bookinghub.payments.logic.stripe_events import PAYMENT_EVENTS, PaymentCompletion, event_header, payment_completion
from bookinghub.payments.models import PassMetadata, parse_pass_metadata, raw_metadata

# Past the webhook's own timeout (10 s) with margin: a delivery still alive has sent its message by then
QUEUE_AGAIN_AFTER_SECONDS = 60
# How long the first message (the token it carries) holds the pincode's claim without writing one: ample
# for the queue to hand it to issue_pincodes and for one Rooms call (payments/logic/pincodes.py)
FIRST_CLAIM_SECONDS = 300


# --- Verification --------------------------------------------------------------------------------------


def signing_secret() -> str:
    """Stripe's signing secret: Secrets Manager on AWS (cached), the env var under `make run`."""
    settings = get_settings()
    if settings.stripe_webhook_secret_arn:
        return read_secret(settings.stripe_webhook_secret_arn, max_age=settings.secret_max_age_seconds)
    if settings.stripe_webhook_secret:
        return settings.stripe_webhook_secret
    raise WebhookNotConfigured()


def verify_signature(body: bytes, header: str | None, secret: str, *, tolerance: int) -> None:
    import stripe  # only on this path: importing Stripe's library costs ~0.4 s

    try:
        stripe.Webhook.construct_event(body, header, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError as error:
        reason = signature_problem(str(error.user_message or error))
        raise InvalidSignature(
            f"Invalid Stripe-Signature: {reason}", details=[{"field": "Stripe-Signature", "message": reason}]
        ) from None
    except UnicodeDecodeError:
        raise InvalidPayload("Request body is not UTF-8") from None
    except ValueError:  # signed, but not JSON
        raise InvalidPayload("Request body is not valid JSON") from None


def signature_problem(message: str) -> str:
    """Stripe's verification message -> a short reason that quotes neither the header nor the body."""
    known = (
        ("No Stripe-Signature header", "missing header"),
        ("No webhook secret", "no signing secret configured"),
        ("Unable to extract", "malformed header"),
        ("expected scheme", "malformed header (no v1 signature)"),
        ("matching the expected signature", "signature does not match the payload"),
        ("Timestamp outside the tolerance", "timestamp outside the tolerance window"),
    )
    return next((reason for text, reason in known if text in message), "verification failed")


# --- The webhook --------------------------------------------------------------------------------------


def receive_stripe_event(body: bytes, signature: str | None) -> dict[str, Any]:
    verify_signature(body, signature, signing_secret(), tolerance=get_settings().stripe_tolerance_seconds)
    try:
        event = json.loads(body)
    except ValueError:
        raise InvalidPayload("Request body is not valid JSON") from None
    event_id, event_type = event_header(event)
    if event_type not in PAYMENT_EVENTS:
        logger.info("stripe event ignored", extra={"event_id": event_id, "event_type": event_type})
        emit_metric("StripeEventIgnored", provider="stripe", integration_type="payment")
        return {"outcome": "ignored"}
    payment = payment_completion(event)
    if not payment.paid:
        logger.info(
            "stripe event ignored: payment not completed yet",
            extra={"event_id": event_id, "event_type": event_type, "object_id": payment.object_id},
        )
        return {"outcome": "ignored", "reason": "payment not completed yet"}
    return record_payment(payment)


def record_payment(payment: PaymentCompletion) -> dict[str, Any]:
    """Create (or complete) the payment's pass and queue it for its pincode, once per payment."""
    pass_id = pass_store.pass_id_for(payment.payment_ref)
    metadata, reason = parse_pass_metadata(payment.metadata)
    now = iso_now()
    marks = _queue_marks(now) if metadata else {}
    stored = pass_store.create_pass({**_pass_item(pass_id, payment, metadata, reason, now), **marks})
    if stored is None:
        outcome = "pass_created" if metadata else "pass_needs_attention"
        if metadata:
            _send(pass_id, marks)
    elif stored.get("status") == "needs_attention" and metadata is not None:
        marks["queue_event_id"] = payment.event_id
        activated = pass_store.activate_pass(pass_id, {**metadata.model_dump(), **marks}, now)
        outcome = "pass_activated" if activated else "pass_exists"
        if activated:
            _send(pass_id, marks)
    elif payment.event_id in (stored.get("source_event_id"), stored.get("queue_event_id")):
        outcome = _redelivered(pass_id, payment.event_id, stored)
    else:
        outcome = "pass_exists"
    extra = {"event_id": payment.event_id, "pass_id": pass_id}
    if outcome == "pass_needs_attention":
        logger.warning("pass needs attention: payment metadata unusable", extra={**extra, "reason": reason})
    # The metric's line is the request's record (no log line of its own on the hot path: issue 11)
    metric = f"Stripe{outcome.title().replace('_', '')}"
    emit_metric(metric, provider="stripe", integration_type="payment", metadata=extra)
    return {"outcome": outcome, "pass_id": pass_id}


def _redelivered(pass_id: str, event_id: str, stored: dict[str, Any]) -> str:
    """A redelivery of the event that created or activated the pass: the first delivery's outcome, and
    the pass queued again only if that delivery may have died before its message was sent."""
    emit_metric("StripeEventDuplicate", provider="stripe", integration_type="payment")
    if stored.get("status") != "active":
        return "pass_needs_attention"
    outcome = "pass_activated" if stored.get("queue_event_id") == event_id else "pass_created"
    queued_at = stored.get("queued_at")
    if queued_at and _age_seconds(queued_at) < QUEUE_AGAIN_AFTER_SECONDS:
        return outcome  # queued, or being queued by a delivery still running
    if stored.get("pincode_status") != "pending" or pass_store.get_pass_and_lock_code(pass_id)[1] is not None:
        return outcome  # issued (or given up on after 24 h: an operator redrives it)
    marks = _queue_marks(iso_now())
    if pass_store.requeue(pass_id, marks, queued_at):
        _send(pass_id, marks)
        logger.info("pass queued again: its first delivery may have stopped before queueing it")
    return outcome


def _queue_marks(now: str) -> dict[str, Any]:
    """What the pass carries once queued: when, and the claim its message's token holds (pincodes.py)."""
    return {
        "queued_at": now,
        pass_store.CLAIM: uuid.uuid4().hex,
        pass_store.CLAIM_UNTIL: int(time.time()) + FIRST_CLAIM_SECONDS,
    }


def _send(pass_id: str, marks: dict[str, Any]) -> None:
    try:
        pass_queue.send_pass_issuance(pass_id, marks[pass_store.CLAIM])
    except Exception:
        # Not queued after all: Stripe's retry of this event (we answer 5xx) must queue it
        pass_store.unmark_queued(pass_id, marks["queued_at"])
        raise


def _age_seconds(iso: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(iso.replace("Z", "+00:00"))).total_seconds()


def _pass_item(
    pass_id: str, payment: PaymentCompletion, metadata: PassMetadata | None, reason: str | None, now: str
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": pass_id,
        "payment_intent_id": payment.payment_intent_id,
        "stripe_object_id": payment.object_id,
        "source_event_id": payment.event_id,
        "source_event_type": payment.event_type,
        "livemode": payment.livemode,
        "amount": payment.amount,
        "currency": payment.currency,
        # The payment is never refunded for a lock failure: the pass is active once paid.
        "status": "active" if metadata else "needs_attention",
        "pincode_status": "pending",
        "created_at": now,
        "updated_at": now,
    }
    if metadata is not None:
        item.update(metadata.model_dump())
    else:
        item["attention_reason"] = reason
        item["raw_metadata"] = raw_metadata(payment.metadata)
        # organisation_id as given, if it is usable, so the organisation can still find the pass
        org = payment.metadata.get("organisation_id")
        if isinstance(org, str) and org.strip():
            item["organisation_id"] = org.strip()[:64]
    return item
