"""Stripe webhooks (`POST /api/webhooks/stripe`): a paid payment becomes a pass, queued for its pincode.

- The Stripe-Signature is verified with Stripe's library over the raw body (300 s tolerance); anything
  else is a 400 INVALID_SIGNATURE and nothing is stored.
- Stripe delivers at least once, in any order, and retries for 3 days: each event is handled once,
  keyed on its id with Powertools idempotency (records kept 4 days); a delivery racing the first one
  gets 409 and Stripe's retry then finds the stored outcome.
- One pass per payment, whichever of checkout.session.completed / .async_payment_succeeded /
  payment_intent.succeeded arrive: the pass id derives from the payment intent id and is created with
  a conditional put. The pass is created here (one conditional write) rather than in the consumer, so
  the customer's page can read it back as "pending" at once, and the queue message carries only the
  pass id (no guest data in SQS or the DLQ). The Rooms call, which can take seconds or fail for hours,
  happens in the issue_pincodes consumer.
- Missing or invalid metadata: the pass is stored as needs_attention with the reason; Stripe gets 200.
  A later event of the same payment with valid metadata activates it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from bookinghub.aws.idempotency import idempotent
from bookinghub.aws.secrets import read_secret
from bookinghub.core.clock import iso_now
from bookinghub.core.errors import (
    EventInProgress,
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

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

IDEMPOTENCY_KEY_PREFIX = "stripe-event"
# Stripe retries a delivery for up to 3 days; a day more so no retry ever finds the record gone.
IDEMPOTENCY_EXPIRES_AFTER_SECONDS = 4 * 86400


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
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    try:
        result: dict[str, Any] = _idempotent_record()(event=payment.idempotency_data())
    except IdempotencyAlreadyInProgressError:
        raise EventInProgress() from None
    return result


def _record_payment(*, event: dict[str, Any]) -> dict[str, Any]:
    """Create (or complete) the payment's pass and queue it for its pincode. Runs once per event id."""
    payment = PaymentCompletion(paid=True, event_id=event["id"], event_type=event["type"], **_fields(event))
    pass_id = pass_store.pass_id_for(payment.payment_ref)
    metadata, reason = parse_pass_metadata(payment.metadata)
    now = iso_now()
    stored = pass_store.create_pass(_pass_item(pass_id, payment, metadata, reason, now))
    if stored is None:
        outcome = "pass_created" if metadata else "pass_needs_attention"
        if metadata:
            _queue(pass_id, now)
    elif stored.get("status") == "needs_attention" and metadata is not None:
        activated = pass_store.activate_pass(pass_id, metadata.model_dump(), now)
        outcome = "pass_activated" if activated else "pass_exists"
        if activated:
            _queue(pass_id, now)
    elif stored.get("status") == "active" and stored.get("pincode_status") == "pending" and not stored.get("queued_at"):
        # An earlier delivery stored the pass but failed before queueing it
        _queue(pass_id, now)
        outcome = "pass_queued"
    else:
        outcome = "pass_exists"
    extra = {"event_id": payment.event_id, "event_type": payment.event_type, "pass_id": pass_id, "outcome": outcome}
    if outcome == "pass_needs_attention":
        logger.warning("pass needs attention: payment metadata unusable", extra={**extra, "reason": reason})
    else:
        logger.info("stripe payment recorded", extra=extra)
    emit_metric(f"Stripe{outcome.title().replace('_', '')}", provider="stripe", integration_type="payment")
    return {"outcome": outcome, "pass_id": pass_id}


def _fields(event: dict[str, Any]) -> dict[str, Any]:
    return {
        name: event.get(name)
        for name in ("object_id", "payment_intent_id", "metadata", "livemode", "amount", "currency")
    }


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


def _queue(pass_id: str, now: str) -> None:
    pass_queue.send_pass_issuance(pass_id)
    pass_store.mark_queued(pass_id, now)


# --- Idempotency, built on first use (it needs an AWS client) ---------------------------------------------


@cache
def _idempotency_config() -> IdempotencyConfig:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="id",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_EXPIRES_AFTER_SECONDS,
        response_hook=_count_replay,
    )


def bind_lambda_context(context: Any) -> None:
    """Let idempotency take over an in-progress record once this invocation's deadline has passed."""
    _idempotency_config().register_lambda_context(context)


def _count_replay(response: Any, idempotent_data: Any) -> Any:
    logger.info("stripe event already handled: stored outcome returned", extra={"outcome": response})
    emit_metric("StripeEventDuplicate", provider="stripe", integration_type="payment")
    return response


def _idempotent_record() -> Callable[..., dict[str, Any]]:
    return idempotent(
        _record_payment, data_keyword_argument="event", key_prefix=IDEMPOTENCY_KEY_PREFIX, config=_idempotency_config()
    )
