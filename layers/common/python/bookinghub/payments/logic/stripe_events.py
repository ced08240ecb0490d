"""Which Stripe events complete a payment, and what a pass is made of (pure rules, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bookinghub.core.errors import InvalidPayload

CHECKOUT_COMPLETED = "checkout.session.completed"
CHECKOUT_ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
PAYMENT_INTENT_SUCCEEDED = "payment_intent.succeeded"
PAYMENT_EVENTS = frozenset({CHECKOUT_COMPLETED, CHECKOUT_ASYNC_SUCCEEDED, PAYMENT_INTENT_SUCCEEDED})


@dataclass(frozen=True)
class PaymentCompletion:
    event_id: str
    event_type: str
    object_id: str  # cs_... or pi_...
    payment_intent_id: str | None
    metadata: dict[str, Any]
    paid: bool
    livemode: bool
    amount: int | None
    currency: str | None

    @property
    def payment_ref(self) -> str:
        """What identifies the payment: its intent, or (a session without one) the session itself."""
        return self.payment_intent_id or self.object_id


def event_header(event: Any) -> tuple[str, str]:
    """(id, type) of a verified event body; InvalidPayload if it is not shaped like a Stripe event."""
    if not isinstance(event, dict):
        raise InvalidPayload("Request body must be a JSON object")
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str) or not event_type:
        raise InvalidPayload(
            "Not a Stripe event",
            details=[{"field": name, "message": "required string"} for name in ("id", "type") if not event.get(name)],
        )
    return event_id, event_type


def payment_completion(event: dict[str, Any]) -> PaymentCompletion:
    """A payment-completion event's payment (PAYMENT_EVENTS only)."""
    event_id, event_type = event_header(event)
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise InvalidPayload(
            "Stripe event has no data.object", details=[{"field": "data.object", "message": "required"}]
        )
    raw_metadata = obj.get("metadata")
    metadata: dict[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
    if event_type == PAYMENT_INTENT_SUCCEEDED:
        intent_id: str | None = obj["id"]
        paid = obj.get("status", "succeeded") == "succeeded"
        amount = obj.get("amount_received", obj.get("amount"))
    else:
        intent = obj.get("payment_intent")
        intent_id = intent.get("id") if isinstance(intent, dict) else intent if isinstance(intent, str) else None
        # A session completed with a delayed payment method is "unpaid" until async_payment_succeeded
        paid = obj.get("payment_status") == "paid"
        amount = obj.get("amount_total")
    return PaymentCompletion(
        event_id=event_id,
        event_type=event_type,
        object_id=obj["id"],
        payment_intent_id=intent_id or None,
        metadata=dict(metadata),
        paid=paid,
        livemode=bool(event.get("livemode", False)),
        amount=amount if isinstance(amount, int) else None,
        currency=obj.get("currency") if isinstance(obj.get("currency"), str) else None,
    )
