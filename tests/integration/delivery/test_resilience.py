"""Faults: a receiver down for a while gets everything once back (none lost, none twice by webhook-id);
the circuit breaker keeps a dead receiver from costing the others; exhaustion ends in the failed list and
the DLQ; long waits and lost messages come back through the swept due-time index; auto-disable, 410,
Make.com parking, re-enable with replay."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import boto3
import pytest

from bookinghub.delivery.logic.fanout import fan_out
from bookinghub.delivery.models import website_endpoint_id
from infra.local.resources import LocalResources
from tests.conftest import reset_caches
from tests.integration.delivery.conftest import (
    Receiver,
    Reply,
    admin_event,
    deliveries_of,
    pump,
    pump_until,
    settled,
    subscription,
    sweep_now,
)

WEBSITE = website_endpoint_id("test-website")


def _set(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_caches()


def _back_up_after(receiver: Receiver, seconds: float) -> None:
    """Answer 200 again `seconds` after the receiver first refused a request (or after 60 s at most)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(r["answered"] == 503 for r in list(receiver.received)):
        time.sleep(0.05)
    time.sleep(seconds)
    receiver.default = Reply(200)


def test_a_receiver_down_for_a_while_gets_every_event_once(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    receiver.default = Reply(503)
    # Down for 1.5 s counted from its first refusal, not from now: a loaded machine may take longer than
    # that to make the first attempt, and the outage must be seen whatever the speed
    threading.Thread(target=_back_up_after, args=(receiver, 1.5), daemon=True).start()
    events = [admin_event(source_booking_id=f"b-{n}") for n in range(8)]
    for event in events:
        fan_out(event)
    pump_until(delivery_env, settled(WEBSITE), timeout=60)
    ids = Counter(r["headers"]["webhook-id"] for r in receiver.delivered())
    assert set(ids) == {e.event_id for e in events}  # none lost
    assert set(ids.values()) == {1}  # none twice
    assert any(r["answered"] == 503 for r in receiver.received)
    assert all(d.status == "succeeded" for d in deliveries_of(WEBSITE))


def test_a_dead_receiver_opens_its_circuit_and_the_others_go_on(
    website: Any, receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set(monkeypatch, HUB_DELIVERY_BREAKER_THRESHOLD="2", HUB_DELIVERY_BREAKER_COOLDOWN_SECONDS="100000")
    dead, _ = subscription(receiver.url("/dead"))
    receiver.path_defaults["/dead"] = Reply(503)
    for n in range(5):
        fan_out(admin_event(source_booking_id=f"b-{n}"))
    pump(delivery_env, idle_rounds=2)
    # two failures opened the circuit: the other attempts were deferred without a request
    assert len([r for r in receiver.received if r["path"] == "/dead"]) == 2
    assert len(receiver.delivered()) == 5  # the website got all of its events meanwhile
    from bookinghub.delivery.dal.endpoints import get_status

    assert get_status(dead).circuit == "open"
    waiting = [d for d in deliveries_of(dead) if d.status == "pending"]
    assert len(waiting) == 5
    assert sum(d.attempts for d in waiting) == 2


def test_exhausted_delivery_is_kept_failed_and_its_message_goes_to_the_dlq(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    endpoint, _ = subscription(receiver.url("/down"), retry_schedule_seconds=[0, 0])
    receiver.path_defaults["/down"] = Reply(500)
    fan_out(admin_event())
    pump_until(delivery_env, settled(endpoint))
    pump(delivery_env, idle_rounds=3)
    (delivery,) = deliveries_of(endpoint)
    assert (delivery.status, delivery.exhausted, delivery.attempts) == ("failed", True, 3)
    assert len([r for r in receiver.received if r["path"] == "/down"]) == 3
    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = sqs.receive_message(QueueUrl=delivery_env.dlq_urls["Deliveries"], MaxNumberOfMessages=10)
    assert len(dlq.get("Messages", [])) == 1
    assert delivery.id in dlq["Messages"][0]["Body"]

    # The receiver is fixed and the DLQ redriven (a message move: a new message with the same body)
    receiver.path_defaults["/down"] = Reply(200)
    sqs.send_message(QueueUrl=delivery_env.queue_urls["Deliveries"], MessageBody=dlq["Messages"][0]["Body"])
    pump_until(delivery_env, lambda: deliveries_of(endpoint)[0].status == "succeeded")
    (delivery,) = deliveries_of(endpoint)
    assert (delivery.status, delivery.replays) == ("succeeded", 1)
    assert [r["answered"] for r in receiver.received if r["path"] == "/down"] == [500, 500, 500, 200]


def test_long_waits_ride_on_the_due_index_swept_every_minute(
    website: Any, receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set(monkeypatch, HUB_DELIVERY_MAX_QUEUE_DELAY_SECONDS="0")  # every wait is a "long" one here
    receiver.script = [Reply(502)]
    fan_out(admin_event())
    pump(delivery_env)
    (delivery,) = deliveries_of(WEBSITE)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert pump(delivery_env) == 0  # nothing on the queue: the retry waits on the index
    assert sweep_now(offset_seconds=5) == 1
    assert sweep_now(offset_seconds=5) == 0  # leased: not re-queued at every sweep
    pump(delivery_env)
    assert [r["answered"] for r in receiver.received] == [502, 200]


def test_a_lost_message_or_a_crashed_attempt_is_recovered_by_the_sweeper(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.delivery.dal import deliveries as store
    from bookinghub.delivery.logic.clock import iso

    fan_out(admin_event())
    boto3.client("sqs", region_name="us-east-1").purge_queue(QueueUrl=delivery_env.queue_urls["Deliveries"])
    (delivery,) = deliveries_of(WEBSITE)
    # and a consumer that claimed the attempt then died before posting
    assert store.claim(delivery.id, expected_attempts=0, lease_until=iso(time.time() + 300), now=iso(time.time()))
    assert sweep_now() == 0  # within its lease
    assert sweep_now(offset_seconds=301) == 1
    pump(delivery_env)
    assert len(receiver.delivered()) == 1
    assert deliveries_of(WEBSITE)[0].status == "succeeded"


def test_auto_disable_then_enable_replays_what_failed_meanwhile(
    website: Any, receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.core.auth import principal_from_claims
    from bookinghub.delivery.dal.endpoints import get_status
    from bookinghub.delivery.logic.admin import enable_endpoint
    from bookinghub.delivery.models.api import EnableRequest

    _set(monkeypatch, HUB_DELIVERY_DISABLE_AFTER_FAILURES="3", HUB_DELIVERY_DISABLE_AFTER_SECONDS="0")
    receiver.default = Reply(503)
    first = admin_event(source_booking_id="b-1")
    fan_out(first)
    pump_until(delivery_env, settled(WEBSITE))
    status = get_status(WEBSITE)
    assert (status.state, status.state_reason) == ("disabled", "3 consecutive failures")
    assert len(receiver.received) == 3
    later = admin_event(source_booking_id="b-2")
    fan_out(later)  # recorded failed at once, never dropped
    assert {d.status for d in deliveries_of(WEBSITE)} == {"failed"}
    pump(delivery_env)
    assert len(receiver.received) == 3

    receiver.default = Reply(200)
    principal = principal_from_claims(
        {
            "sub": "s",
            "email": "ops@demo.example",
            "token_use": "id",
            "cognito:groups": "admin",
            "custom:organisation_id": "demo-org",
        }
    )
    answer = enable_endpoint(principal, WEBSITE, EnableRequest(replay_failed=True))
    assert answer["replayed"] == 2
    pump_until(delivery_env, settled(WEBSITE))
    assert sorted(r["headers"]["webhook-id"] for r in receiver.delivered()) == sorted([first.event_id, later.event_id])


def test_410_disables_and_make_410_parks_with_an_alert(
    website: Any, receiver: Receiver, delivery_env: LocalResources, captured_logs: Any
) -> None:
    from bookinghub.delivery.dal.endpoints import get_status

    make, _ = subscription(receiver.url("/make"), kind="make")
    receiver.path_defaults["/make"] = Reply(410, body="There is no scenario listening for this webhook.")
    receiver.path_defaults["/api/webhooks/onebooking"] = Reply(410)
    fan_out(admin_event())
    pump(delivery_env)
    assert get_status(WEBSITE).state == "disabled"
    assert get_status(make).state == "parked"
    assert len(receiver.received) == 2  # neither retried
    assert '"level":"ERROR","location"' in captured_logs()
    assert "delivery endpoint parked" in captured_logs()
    assert {d.status for d in deliveries_of(make) + deliveries_of(WEBSITE)} == {"failed"}


def test_make_queue_full_and_429_are_retried_honouring_retry_after(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    make, _ = subscription(receiver.url("/make"), kind="make")
    receiver.by_path["/make"] = [Reply(400, body="Queue is full."), Reply(429, headers={"Retry-After": "1"})]
    fan_out(admin_event())
    started = time.monotonic()
    pump_until(delivery_env, settled(make))
    assert [r["answered"] for r in receiver.received if r["path"] == "/make"] == [400, 429, 200]
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 outweighs the scaled schedule


def test_a_timeout_is_retried(
    website: Any, receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set(monkeypatch, HUB_DELIVERY_TIMEOUT_SECONDS="0.3")
    receiver.script = [Reply(200, delay=1.0)]
    fan_out(admin_event())
    pump_until(delivery_env, settled(WEBSITE))
    (delivery,) = deliveries_of(WEBSITE)
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)


def test_rate_limit_spreads_sends(website: Any, receiver: Receiver, delivery_env: LocalResources) -> None:
    limited, _ = subscription(receiver.url("/limited"), rate_limit_per_second=1)
    for n in range(3):
        fan_out(admin_event(source_booking_id=f"b-{n}"))
    started = time.time()
    pump_until(delivery_env, settled(limited), timeout=30)
    assert len([r for r in receiver.delivered() if r["path"] == "/limited"]) == 3
    assert time.time() - started >= 1.0
