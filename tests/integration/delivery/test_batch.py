"""A queue batch handled together (process_batch): parallel sends, one status update and one log write
per batch, the guarantees kept (one attempt per message, stats and consecutive failures, partial
failures, a troubled endpoint's breaker opening mid-batch)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from bookinghub.delivery.dal.queue import AttemptMessage
from bookinghub.delivery.logic.dispatch import Report, process_batch
from bookinghub.delivery.logic.fanout import fan_out
from bookinghub.delivery.models import website_endpoint_id
from infra.local.resources import LocalResources
from tests.conftest import reset_caches
from tests.integration.delivery.conftest import DynamoCalls, Receiver, Reply, admin_event, subscription

WEBSITE = website_endpoint_id("test-website")


def _queued(count: int, endpoint_id: str) -> list[str]:
    """Fan out `count` admin edits; the delivery ids of one endpoint, in order."""
    from bookinghub.delivery.dal import deliveries

    ids = [d for n in range(count) for d in fan_out(admin_event(source_booking_id=f"batch-{n}")).queued]
    found = deliveries.get_many(ids)
    return [d for d in ids if found[d].endpoint_id == endpoint_id]


def _messages(ids: list[str]) -> list[tuple[AttemptMessage, int | None]]:
    return [(AttemptMessage(d, 0), 1) for d in ids]


def _status(endpoint_id: str) -> Any:
    from bookinghub.delivery.dal.endpoints import get_status

    return get_status(endpoint_id)


def _attempt_rows(endpoint_id: str) -> list[Any]:
    from bookinghub.delivery.dal.attempts import list_attempts

    return list_attempts(endpoint_id, since="2000", until="2999")


def test_a_healthy_endpoint_gets_its_batch_in_parallel_with_few_aws_calls(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    ids = _queued(5, WEBSITE)
    receiver.default = Reply(200, delay=0.4)
    with DynamoCalls() as calls:
        outcomes = process_batch(_messages(ids))
    assert [o.outcome for o in outcomes if isinstance(o, Report)] == ["succeeded"] * 5
    # the receiver's waits overlapped (counted at the receiver: a loaded machine's wall clock is no proof)
    assert receiver.most_in_flight >= 2
    # a read of the batch, of the website and the status, a claim and an outcome each, one status update,
    # one log write (attempts and seed 002's sync logs) instead of six calls per attempt
    assert calls["BatchGetItem"] == 1
    assert calls["UpdateItem"] == 2 * 5 + 1
    assert calls["BatchWriteItem"] == 1
    assert calls.total() <= 2 * 5 + 5
    status = _status(WEBSITE)
    assert (status.sent, status.succeeded, status.pending, status.consecutive_failures) == (5, 5, 0, 0)
    assert len(_attempt_rows(WEBSITE)) == 5


def test_partial_failures_in_one_batch_each_counted_on_its_endpoint(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.delivery.dal.endpoints import update_status

    down, _ = subscription(receiver.url("/down"))
    gone, _ = subscription(receiver.url("/gone"))
    receiver.path_defaults["/down"] = Reply(503)
    ids = _queued(2, WEBSITE) + _queued(2, down) + _queued(1, gone)
    update_status(gone, set_fields={"state": "disabled", "state_reason": "by a test"})
    outcomes = process_batch([*_messages(ids), (AttemptMessage("no-such-delivery", 0), 1)])
    assert [o.outcome for o in outcomes if isinstance(o, Report)] == [
        "succeeded",
        "succeeded",
        "retrying",
        "retrying",
        "failed",
        "skipped",
    ]
    # each of the five edits went to all three endpoints; the batch handled two, two and one of them
    assert (_status(WEBSITE).succeeded, _status(WEBSITE).pending) == (2, 3)
    troubled = _status(down)
    assert (troubled.sent, troubled.consecutive_failures, troubled.pending, troubled.succeeded) == (2, 2, 5, 0)
    assert troubled.first_failure_at is not None
    assert (_status(gone).failed, _status(gone).pending, _status(gone).sent) == (1, 4, 0)
    assert {a.status for a in _attempt_rows(down)} == {"retrying"}


def test_a_troubled_endpoint_gets_its_batch_one_by_one_and_its_breaker_opens_mid_batch(
    website: Any, receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DELIVERY_BREAKER_THRESHOLD", "2")
    monkeypatch.setenv("HUB_DELIVERY_BREAKER_COOLDOWN_SECONDS", "100000")
    reset_caches()
    dead, _ = subscription(receiver.url("/dead"))
    receiver.path_defaults["/dead"] = Reply(503)
    first = _queued(1, dead)
    assert [o.outcome for o in process_batch(_messages(first)) if isinstance(o, Report)] == ["retrying"]
    outcomes = process_batch(_messages(_queued(4, dead)))
    # the second failure in a row opens the circuit: the batch's other three wait without a request
    assert [o.outcome for o in outcomes if isinstance(o, Report)] == ["retrying", "deferred", "deferred", "deferred"]
    assert len([r for r in receiver.received if r["path"] == "/dead"]) == 2
    status = _status(dead)
    assert (status.circuit, status.consecutive_failures, status.sent) == ("open", 2, 2)


def test_a_success_inside_a_failing_run_resets_the_consecutive_failures(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    flaky, _ = subscription(receiver.url("/flaky"))
    receiver.by_path["/flaky"] = [Reply(503), Reply(503), Reply(200), Reply(503)]
    process_batch(_messages(_queued(1, flaky)))  # one failure: the endpoint is now in trouble (a lane)
    process_batch(_messages(_queued(3, flaky)))  # failure, success, failure, in that order
    status = _status(flaky)
    assert (status.sent, status.succeeded, status.consecutive_failures) == (4, 1, 1)
    assert status.first_failure_at is not None  # the run that started after the success
    assert status.last_success_at is not None
    assert status.circuit == "closed"


def test_two_messages_for_one_attempt_in_one_batch_send_it_once(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    (delivery,) = _queued(1, WEBSITE)
    outcomes = process_batch(_messages([delivery, delivery]))
    assert sorted(o.outcome for o in outcomes if isinstance(o, Report)) == ["skipped", "succeeded"]
    assert len(receiver.delivered()) == 1
    assert _status(WEBSITE).sent == 1


def test_a_healthy_endpoints_claims_overlap_the_sends(
    website: Any, receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.delivery.dal import deliveries

    ids = _queued(5, WEBSITE)
    receiver.default = Reply(200, delay=0.3)
    claim = deliveries.claim

    claiming = {"now": 0, "most": 0}
    lock = threading.Lock()

    def slow_claim(*args: Any, **kwargs: Any) -> Any:
        with lock:
            claiming["now"] += 1
            claiming["most"] = max(claiming["most"], claiming["now"])
        time.sleep(0.3)  # a claim as slow as a send
        try:
            return claim(*args, **kwargs)
        finally:
            with lock:
                claiming["now"] -= 1

    monkeypatch.setattr(deliveries, "claim", slow_claim)
    outcomes = process_batch(_messages(ids))
    assert [o.outcome for o in outcomes if isinstance(o, Report)] == ["succeeded"] * 5
    # not five claims one after the other before the sends (counted, not timed: a loaded machine's wall
    # clock is no proof): claims ran at once, and the receiver answered more than one send at a time
    assert claiming["most"] >= 2
    assert receiver.most_in_flight >= 2
    assert len(receiver.delivered()) == 5
    assert _status(WEBSITE).sent == 5
