"""Which Stripe events complete a payment, and how a signature failure is explained."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import stripe

from bookinghub.core.errors import InvalidPayload, InvalidSignature
from bookinghub.payments.logic.stripe_events import event_header, payment_completion
from bookinghub.payments.logic.stripe_webhook import signature_problem, verify_signature
from tests.conftest import load_event

SECRET = "whsec_unit"


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads(load_event(f"stripe_webhook/{name}")["body"]))


def test_checkout_session_completed() -> None:
    payment = payment_completion(sample("checkout_session_completed"))
    assert payment.paid
    assert (payment.object_id, payment.payment_intent_id) == ("cs_test_a1SampleSession", "pi_3SampleIntent0001")
    assert payment.payment_ref == "pi_3SampleIntent0001"
    assert (payment.amount, payment.currency) == (8500, "thb")
    assert payment.metadata["lock_id"] == "access-point-uuid-or-identifier"


def test_payment_intent_succeeded_refers_to_the_same_payment() -> None:
    intent = payment_completion(sample("payment_intent_succeeded"))
    session = payment_completion(sample("checkout_session_completed"))
    assert intent.paid
    assert intent.payment_ref == session.payment_ref


def test_unpaid_session_and_expanded_intent() -> None:
    event = sample("checkout_session_completed")
    event["data"]["object"]["payment_status"] = "unpaid"
    event["data"]["object"]["payment_intent"] = {"id": "pi_expanded", "object": "payment_intent"}
    payment = payment_completion(event)
    assert not payment.paid
    assert payment.payment_intent_id == "pi_expanded"


def test_session_without_intent_is_identified_by_itself() -> None:
    event = sample("checkout_session_completed")
    event["data"]["object"]["payment_intent"] = None
    assert payment_completion(event).payment_ref == "cs_test_a1SampleSession"


@pytest.mark.parametrize("event", [[], {"id": "evt_1"}, {"type": "x"}, {"id": 1, "type": "x"}])
def test_not_an_event(event: Any) -> None:
    with pytest.raises(InvalidPayload):
        event_header(event)


def test_event_without_object() -> None:
    with pytest.raises(InvalidPayload, match=r"data\.object"):
        payment_completion({"id": "evt_1", "type": "payment_intent.succeeded", "data": {}})


def test_valid_signature_passes() -> None:
    body = json.dumps(sample("payment_intent_succeeded"))
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET, int(time.time()))
    verify_signature(body.encode(), header, SECRET, tolerance=300)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing header"),
        ("garbage", "malformed header"),
        ("t=1,v0=abc", "malformed header (no v1 signature)"),
        ("t=1,v1=abc", "signature does not match the payload"),
    ],
)
def test_signature_failures_explained_without_quoting_them(header: str | None, reason: str) -> None:
    with pytest.raises(InvalidSignature) as raised:
        verify_signature(b'{"id": "evt_1"}', header, SECRET, tolerance=300)
    assert raised.value.details == [{"field": "Stripe-Signature", "message": reason}]
    assert "evt_1" not in raised.value.message


def test_expired_signature() -> None:
    body = '{"id": "evt_1"}'
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET, int(time.time()) - 301)
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify_signature(body.encode(), header, SECRET, tolerance=300)


def test_unknown_message() -> None:
    assert signature_problem("something new") == "verification failed"
