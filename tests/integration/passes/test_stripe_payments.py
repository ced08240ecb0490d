"""Stripe payment events -> one pass per payment, queued once for its pincode."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bookinghub.aws.keys import pass_id_for
from bookinghub.payments.dal import passes as pass_store
from infra.local.resources import LocalResources
from tests.integration.conftest import snapshot_tables
from tests.integration.passes.conftest import (
    PAYMENT_INTENT,
    RoomsSandbox,
    metadata,
    post_stripe,
    receive,
    run_consumer,
    stripe_event,
)

PASS_ID = pass_id_for(PAYMENT_INTENT)


def passes_stored() -> list[str]:
    return [item for item in snapshot_tables()["Bookings"] if '"PASS"' in item]


def test_paid_checkout_creates_an_active_pending_pass_and_queues_it(hub: Any, aws: LocalResources) -> None:
    status, body = post_stripe(stripe_event())

    assert (status, body) == (200, {"received": True, "outcome": "pass_created", "pass_id": PASS_ID})
    stored = pass_store.get_pass(PASS_ID)
    assert stored is not None
    assert stored["status"] == "active"
    assert stored["pincode_status"] == "pending"
    assert stored["organisation_id"] == "demo-org"
    assert stored["lock_id"] == "access-point-uuid-or-identifier"
    assert (stored["arrival_date"], stored["departure_date"]) == ("2026-03-01", "2026-03-02")
    assert stored["payment_intent_id"] == PAYMENT_INTENT
    assert stored["queued_at"]
    (message,) = receive(aws)
    # ids only (no guest data in SQS): the pass and the token of the claim stored on it
    assert json.loads(message["Body"]) == {"pass_id": PASS_ID, "claim": stored["pincode_claim"]}


def test_same_event_three_times_at_once_makes_one_pass_and_one_rooms_call(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox, atomic_dynamodb: None
) -> None:
    event = stripe_event()
    start = threading.Barrier(3, timeout=30)

    def deliver(_: int) -> tuple[int, dict[str, Any]]:
        start.wait()
        return post_stripe(event)

    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(deliver, range(3), timeout=60))

    # A delivery that races the first gets 409 (Stripe retries it); the others see the stored outcome
    assert {status for status, _ in answers} <= {200, 409}
    assert any(status == 200 for status, _ in answers)
    assert {body["pass_id"] for status, body in answers if status == 200} == {PASS_ID}
    assert len(passes_stored()) == 1
    # The late retry of a 409 replays the outcome without queueing again
    assert post_stripe(event) == (200, {"received": True, "outcome": "pass_created", "pass_id": PASS_ID})

    messages, _ = run_consumer(aws)
    assert len(messages) == 1
    assert len(rooms.calls()) == 1
    assert run_consumer(aws) == ([], None)


def test_checkout_and_payment_intent_events_of_one_payment_make_one_pass(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox
) -> None:
    first = post_stripe(stripe_event("payment_intent_succeeded"))
    second = post_stripe(stripe_event("checkout_session_completed"))
    third = post_stripe(stripe_event("checkout_session_completed", type="checkout.session.async_payment_succeeded"))

    assert first[1]["outcome"] == "pass_created"
    assert second[1] == {"received": True, "outcome": "pass_exists", "pass_id": PASS_ID}
    assert third[1]["outcome"] == "pass_exists"
    assert len(passes_stored()) == 1
    messages, _ = run_consumer(aws)
    assert len(messages) == 1
    assert len(rooms.calls()) == 1


def test_unpaid_checkout_is_acknowledged_and_ignored(hub: Any, aws: LocalResources) -> None:
    before = snapshot_tables()
    status, body = post_stripe(stripe_event(object={"payment_status": "unpaid"}))
    assert (status, body["outcome"]) == (200, "ignored")
    assert snapshot_tables() == before
    assert receive(aws) == []

    # ... until its delayed payment succeeds
    event = stripe_event(type="checkout.session.async_payment_succeeded", id="evt_async_1")
    status, body = post_stripe(event)
    assert (status, body["outcome"]) == (200, "pass_created")


def test_other_event_types_are_acknowledged_and_ignored(hub: Any, aws: LocalResources) -> None:
    before = snapshot_tables()
    status, body = post_stripe(stripe_event("customer_created"))
    assert (status, body) == (200, {"received": True, "outcome": "ignored"})
    assert snapshot_tables() == before
    assert receive(aws) == []


def test_invalid_metadata_records_a_pass_that_needs_attention(
    hub: Any, aws: LocalResources, captured_logs: Any
) -> None:
    event = stripe_event(metadata=metadata(guest_email="not-an-email", arrival_date="2026-02-30", lock_id=None))

    status, body = post_stripe(event)

    assert (status, body["outcome"]) == (200, "pass_needs_attention")
    stored = pass_store.get_pass(PASS_ID)
    assert stored is not None
    assert stored["status"] == "needs_attention"
    reason = stored["attention_reason"]
    assert "lock_id: missing" in reason
    assert "guest_email" in reason
    assert "arrival_date" in reason
    assert "not-an-email" not in reason
    assert stored["raw_metadata"]["guest_email"] == "not-an-email"  # for an operator to fix
    assert receive(aws) == []
    assert "pass needs attention" in captured_logs()


def test_missing_metadata_needs_attention_and_a_later_valid_event_activates_the_pass(
    hub: Any, aws: LocalResources
) -> None:
    status, body = post_stripe(stripe_event("payment_intent_succeeded", metadata={}))
    assert (status, body["outcome"]) == (200, "pass_needs_attention")
    assert pass_store.get_pass(PASS_ID)["attention_reason"] == "payment has no metadata"  # type: ignore[index]

    status, body = post_stripe(stripe_event("checkout_session_completed"))

    assert (status, body["outcome"]) == (200, "pass_activated")
    stored = pass_store.get_pass(PASS_ID)
    assert stored is not None
    assert stored["status"] == "active"
    assert "attention_reason" not in stored
    assert len(receive(aws)) == 1
