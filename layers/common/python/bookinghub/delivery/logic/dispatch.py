"""One attempt of one delivery: the Deliveries queue's consumer and the manual/replay paths.

In order: the message is checked against the delivery (a stale or duplicate message is dropped); a
disabled endpoint fails the delivery (kept, replayable); an open circuit or a spent rate limit defers it
without an HTTP call; otherwise the attempt is claimed (conditional increment), signed, sent, logged and
classified. A retry waits on an SQS message timer when short, on the due-time index when long; a spent
schedule fails the delivery and sends its message to the DLQ (`SendToDeadLetter`).

A queue batch is handled together (process_batch): its deliveries are read in one BatchGetItem, each
endpoint once (a named website endpoint's items in that same BatchGetItem); then each message is
checked, claimed, signed, sent and settled in parallel (bounded threads, kept across batches: pools.py;
one slow receiver holds back no other message, and one message's claim overlaps another's send), each
writing its own outcome; an endpoint in trouble gets one lane, its messages one after the other. The
endpoints' status and the attempt log rows are written once per batch (logic/ledger.py).
One attempt per message at a time stays the claim's conditional increment.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass
from functools import partial
from typing import Any

from bookinghub.bookings.models.events import SyncLog, SyncStatus
from bookinghub.core.observability import emit_metric, logger
from bookinghub.core.security import mask_pii, mask_text
from bookinghub.core.settings import get_settings
from bookinghub.delivery.adapters.http import DestinationRefused, HttpResult, post
from bookinghub.delivery.dal import deliveries as store
from bookinghub.delivery.dal import endpoints as endpoint_store
from bookinghub.delivery.dal.queue import AttemptMessage, send
from bookinghub.delivery.logic import breaker, endpoints, pools
from bookinghub.delivery.logic.classify import Classification, classify, is_make_endpoint
from bookinghub.delivery.logic.clock import iso
from bookinghub.delivery.logic.ledger import Ledger
from bookinghub.delivery.logic.schedule import next_wait, parse_retry_after
from bookinghub.delivery.logic.signing import sign_request
from bookinghub.delivery.models import (
    WEBSITE_ENDPOINT_PREFIX,
    Attempt,
    Delivery,
    Endpoint,
    EndpointStatus,
    Trigger,
    delivery_dimensions,
    status_class,
)
from bookinghub.delivery.settings import get_delivery_settings


class SendToDeadLetter(Exception):
    """The delivery's schedule is spent: its message must end in the DLQ (the delivery is kept failed)."""


@dataclass(frozen=True)
class Report:
    outcome: str  # succeeded | retrying | failed | deferred | skipped
    delivery_id: str
    status_code: int | None = None
    duration_ms: int | None = None
    error: str | None = None
    next_attempt_at: str | None = None
    attempt: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


Clock = Callable[[], float]
Found = dict[str, Delivery]
Loaded = dict[str, tuple[Endpoint | None, EndpointStatus]]


Outcome = Report | Exception  # an exception: the message is not done (SendToDeadLetter, an AWS error)


@dataclass(frozen=True)
class _Claimed:
    delivery: Delivery
    endpoint: Endpoint
    status: EndpointStatus  # as loaded for this batch
    trigger: Trigger


def process(message: AttemptMessage, *, receive_count: int | None = None, clock: Clock = time.time) -> Report:
    """Handle one queue message (or a manual call shaped like one)."""
    (outcome,) = process_batch([(message, receive_count)], clock=clock)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def process_batch(messages: Sequence[tuple[AttemptMessage, int | None]], *, clock: Clock = time.time) -> list[Outcome]:
    """Handle a queue batch: (message, receive count) each; one outcome per message, in order.

    A healthy endpoint's messages (no failure in its current run, circuit closed) are each checked,
    claimed, sent and settled in a task of their own, in parallel: one message's claim overlaps another's
    send, and each gate reads the endpoint's status as the attempts finished so far left it. An endpoint
    in trouble gets one lane: its messages are checked, claimed and sent one after the other, each gated
    by the results before it (its breaker opens mid-batch as it would across batches). Tasks and lanes
    share one bounded pool, taken in message order."""
    ledger = Ledger()
    outcomes: list[Outcome | None] = [None] * len(messages)
    found, loaded = _read(messages)
    tasks: list[list[int]] = []  # the messages of each task, in the order it takes them
    lanes: dict[str, list[int]] = {}
    for n, (message, _) in enumerate(messages):
        known = found.get(message.delivery_id)
        if known is not None and not _healthy(loaded[known.endpoint_id][1]):
            lanes.setdefault(known.endpoint_id, []).append(n)
            continue
        # its checks, claim, send and outcome in one task: claims overlap the other messages' sends
        tasks.append([n])
    tasks += lanes.values()
    run = partial(_lane_task, messages=messages, found=found, loaded=loaded, ledger=ledger, clock=clock)
    workers = get_delivery_settings().dispatch_workers
    if min(len(tasks), workers) <= 1:
        results = [_finished(lane, run, None) for lane in tasks]
    else:
        # the consumer's pool, kept across batches; its tasks submit nothing to it (pools.py)
        pool = pools.send_pool(workers)
        results = [_finished(lane, run, future) for lane, future in [(lane, pool.submit(run, lane)) for lane in tasks]]
    for n, outcome in (result for done in results for result in done):
        outcomes[n] = outcome
    try:
        ledger.flush()
    except Exception:  # the outcomes are on the deliveries; a redelivered message would be skipped as stale
        logger.exception("endpoint status update failed", extra={"messages": len(messages)})
    return [outcome if outcome is not None else RuntimeError("no outcome") for outcome in outcomes]


def _read(messages: Sequence[tuple[AttemptMessage, int | None]]) -> tuple[Found, Loaded]:
    """The batch's deliveries and their endpoints. A named website endpoint's two items (the website:
    URL and secret; the status) are keys of the deliveries' own BatchGetItem; a named subscription's
    partition (endpoint and status, one Query) is read on the side pool beside it. An endpoint no
    message named (an older message) or named wrongly is read after, from the delivery itself. Any read
    failing fails the batch: process_batch raises, every message is received again."""
    named = list(dict.fromkeys(message.endpoint_id for message, _ in messages if message.endpoint_id))
    websites = [endpoint_id for endpoint_id in named if endpoints.is_website(endpoint_id)]
    subscriptions = [endpoint_id for endpoint_id in named if not endpoints.is_website(endpoint_id)]
    reads = {e: pools.side_pool().submit(endpoints.load, e) for e in subscriptions}
    try:
        batch = store.read_batch(
            [message.delivery_id for message, _ in messages],
            website_ids=[endpoints.website_id_of(endpoint_id) for endpoint_id in websites],
            status_of=websites,
        )
    finally:
        wait(reads.values())  # nothing of this batch's reading outlives it, even when it failed
    loaded: Loaded = {endpoint_id: read.result() for endpoint_id, read in reads.items()}
    for endpoint_id in websites:
        website = batch.websites[endpoints.website_id_of(endpoint_id)]
        loaded[endpoint_id] = endpoints.of_website(website, batch.statuses[endpoint_id])
    for delivery in batch.deliveries.values():
        if delivery.endpoint_id not in loaded:
            loaded[delivery.endpoint_id] = endpoints.load(delivery.endpoint_id)
    return batch.deliveries, loaded


def _healthy(status: EndpointStatus) -> bool:
    return status.state == "enabled" and status.circuit == "closed" and status.consecutive_failures == 0


def _step(
    n: int,
    messages: Sequence[tuple[AttemptMessage, int | None]],
    found: Found,
    loaded: Loaded,
    ledger: Ledger,
    clock: Clock,
) -> Outcome | _Claimed:
    message, receive_count = messages[n]
    try:
        return _prepare(message, found.get(message.delivery_id), receive_count, loaded, ledger, clock)
    except Exception as error:  # this message's outcome; the others go on
        return error


def _send(work: _Claimed, ledger: Ledger, clock: Clock) -> Outcome:
    try:
        return _attempt(work, ledger, clock)
    except Exception as error:  # reported per message (SendToDeadLetter included)
        return error


Done = list[tuple[int, Outcome]]  # a task's (message index, outcome) pairs


def _finished(lane: list[int], run: Callable[[list[int]], Done], future: Future[Done] | None) -> Done:
    """A task's outcomes (run here when `future` is None); a task that raised gives its exception to each of
    its messages (received again; a redelivered message whose attempt was made is skipped as stale), and
    the batch's other tasks go on."""
    try:
        return future.result() if future is not None else run(lane)
    except Exception as error:
        logger.exception("delivery task failed", extra={"messages": len(lane)})
        return [(n, error) for n in lane]


def _lane_task(
    lane: list[int],
    messages: Sequence[tuple[AttemptMessage, int | None]],
    found: Found,
    loaded: Loaded,
    ledger: Ledger,
    clock: Clock,
) -> list[tuple[int, Outcome]]:
    return [(n, _through(n, messages, found, loaded, ledger, clock)) for n in lane]


def _through(
    n: int,
    messages: Sequence[tuple[AttemptMessage, int | None]],
    found: Found,
    loaded: Loaded,
    ledger: Ledger,
    clock: Clock,
) -> Outcome:
    """One message of a lane, from its checks to its outcome."""
    step = _step(n, messages, found, loaded, ledger, clock)
    return _send(step, ledger, clock) if isinstance(step, _Claimed) else step


def _prepare(
    message: AttemptMessage,
    delivery: Delivery | None,
    receive_count: int | None,
    loaded: dict[str, tuple[Endpoint | None, EndpointStatus]],
    ledger: Ledger,
    clock: Clock,
) -> Report | _Claimed:
    """Everything before the HTTP call: checks, gates and the claim (in message order)."""
    if delivery is None:
        logger.warning("delivery message for an unknown delivery", extra={"delivery_id": message.delivery_id})
        return Report("skipped", message.delivery_id, error="unknown delivery")
    if delivery.status == "failed" and delivery.exhausted and delivery.attempts == message.attempt + 1:
        if receive_count == 1:
            # The message that exhausted the delivery was first received while it was pending: a first
            # receive of it now is a DLQ redrive, which means "send it again"
            return _redrive(delivery, clock())
        raise SendToDeadLetter(f"delivery {delivery.id} exhausted its retry schedule")
    if delivery.status != "pending" or delivery.attempts != message.attempt:
        emit_metric("DeliveryDuplicateSuppressed", **delivery_dimensions(delivery.endpoint_id))
        return Report("skipped", delivery.id, error=f"stale message: delivery is {delivery.status}")
    if delivery.endpoint_id not in loaded:
        loaded[delivery.endpoint_id] = endpoints.load(delivery.endpoint_id)
    endpoint, first_status = loaded[delivery.endpoint_id]
    status = ledger.status(delivery.endpoint_id, first_status)
    return _gate_and_claim(message, delivery, endpoint, status, ledger, clock)


def _gate_and_claim(
    message: AttemptMessage,
    delivery: Delivery,
    endpoint: Endpoint | None,
    status: EndpointStatus,
    ledger: Ledger,
    clock: Clock,
) -> Report | _Claimed:
    now = clock()
    if endpoint is None:
        return _fail(delivery, now, None, "the endpoint no longer exists", False, ledger=ledger, status=status)
    if status.state != "enabled":
        reason = f"endpoint {status.state}: {status.state_reason or ''}".strip()
        return _fail(delivery, now, None, reason, False, ledger=ledger, status=status)
    gate = breaker.gate(status, now)
    if not gate.allowed:
        return _defer(delivery, now, gate.wait_seconds, "circuit open")
    if gate.probe and not _take_probe(endpoint.id, status, now):
        return _defer(delivery, now, get_delivery_settings().timeout_seconds, "circuit half-open: probe in flight")
    if endpoint.rate_limit_per_second and not endpoint_store.take_rate_slot(
        endpoint.id, window=int(now), limit=endpoint.rate_limit_per_second
    ):
        return _defer(delivery, now, 1 + random.random(), "rate limit")
    settings = get_delivery_settings()
    claimed = store.claim(
        delivery.id,
        expected_attempts=message.attempt,
        lease_until=iso(now + settings.lease_seconds),
        now=iso(now),
        known=delivery,
    )
    if claimed is None:
        emit_metric("DeliveryDuplicateSuppressed", **delivery_dimensions(delivery.endpoint_id))
        return Report("skipped", delivery.id, error="another message took this attempt")
    return _Claimed(claimed, endpoint, status, message.trigger)


def _attempt(work: _Claimed, ledger: Ledger, clock: Clock) -> Report:
    delivery, endpoint, status, trigger = work.delivery, work.endpoint, work.status, work.trigger
    settings = get_delivery_settings()
    creds = endpoints.credentials(endpoint)
    timestamp = int(clock())
    signed = sign_request(
        delivery.payload,
        webhook_id=delivery.webhook_id,
        timestamp=timestamp,
        secrets_in_use=creds.secrets,
        extra_headers=creds.headers,
    )
    try:
        result = post(
            endpoint.url,
            signed.body,
            signed.headers,
            timeout_seconds=settings.timeout_seconds,
            allow_insecure_loopback=get_settings().allow_insecure_webhooks,
        )
        verdict = classify(result.status_code, result.body_excerpt, make=is_make_endpoint(endpoint.url, endpoint.kind))
    except DestinationRefused as refused:
        result = HttpResult(None, 0, error=f"destination refused: {refused}")
        verdict = Classification("permanent", result.error or "destination refused")
    now = clock()
    emit_metric("DeliveryAttempt", **delivery_dimensions(delivery.endpoint_id))
    emit_metric("DeliveryResponseTime", result.duration_ms, "Milliseconds", **delivery_dimensions(delivery.endpoint_id))
    error = None if verdict.verdict == "success" else mask_text(_error_text(result, verdict))
    if verdict.verdict == "success":
        return _succeeded(delivery, endpoint, status, result, trigger, now, ledger)
    next_at: str | None = None
    outcome: Report
    _record_failure(endpoint, status, now, verdict, ledger)
    if verdict.verdict == "retry":
        schedule = endpoint.retry_schedule_seconds or list(settings.schedule_seconds)
        wait = next_wait(
            schedule,
            delivery.schedule_index,
            scale=settings.time_scale,
            jitter=settings.jitter,
            retry_after=parse_retry_after(result.retry_after),
        )
        if wait is None:
            outcome = _fail(
                delivery,
                now,
                result.status_code,
                f"retries exhausted; last: {error}",
                True,
                exhausted=True,
                ledger=ledger,
                status=status,
            )
        else:
            next_at = iso(now + wait)
            outcome = _reschedule(delivery, now, wait, result.status_code, error)
    else:
        outcome = _fail(delivery, now, result.status_code, error or verdict.reason, True, ledger=ledger, status=status)
    _log_attempt(delivery, endpoint, trigger, "retrying" if next_at else "failed", result, error, next_at, now, ledger)
    if outcome.outcome == "failed" and verdict.verdict == "retry":
        raise SendToDeadLetter(f"delivery {delivery.id} exhausted its retry schedule")
    return Report(
        outcome.outcome, delivery.id, result.status_code, result.duration_ms, error, next_at, delivery.attempts
    )


def _redrive(delivery: Delivery, now: float) -> Report:
    reopened = store.reopen(
        delivery.id, was="failed", now=iso(now), lease_until=iso(now + get_delivery_settings().lease_seconds)
    )
    if reopened is None:
        return Report("skipped", delivery.id, error="changed meanwhile")
    endpoint_store.update_status(delivery.endpoint_id, add={"failed": -1, "pending": 1})
    send([AttemptMessage(reopened.id, reopened.attempts, "replay", reopened.endpoint_id)])
    logger.info("redriven delivery replayed", extra={"delivery_id": delivery.id})
    return Report("retrying", delivery.id, next_attempt_at=iso(now))


def _error_text(result: HttpResult, verdict: Classification) -> str:
    if result.status_code is None:
        return result.error or verdict.reason
    excerpt = result.body_excerpt[:200].strip()
    return verdict.reason + (f": {excerpt}" if excerpt else "")


def _succeeded(
    delivery: Delivery,
    endpoint: Endpoint,
    status: EndpointStatus,
    result: HttpResult,
    trigger: Trigger,
    now: float,
    ledger: Ledger,
) -> Report:
    status_code = result.status_code or 200
    # False: this attempt outlived its lease and another took the delivery over; that one counts it
    settled = store.succeed(delivery.id, attempts=delivery.attempts, now=iso(now), status_code=status_code)
    ledger.succeeded(endpoint.id, status, now, settled=settled)
    _log_attempt(delivery, endpoint, trigger, "succeeded", result, None, None, now, ledger)
    emit_metric("DeliverySucceeded", **delivery_dimensions(delivery.endpoint_id))
    return Report("succeeded", delivery.id, status_code, result.duration_ms, attempt=delivery.attempts)


def _record_failure(
    endpoint: Endpoint, status: EndpointStatus, now: float, verdict: Classification, ledger: Ledger
) -> None:
    """The endpoint's side of a failed attempt: counters, breaker, and disabling or parking it."""
    change = ledger.failed_attempt(endpoint.id, status, now, verdict)
    if change:
        state, reason = change
        level = logger.error if state == "parked" else logger.warning
        level(f"delivery endpoint {state}", extra={"endpoint_id": endpoint.id, "reason": reason})
        emit_metric(f"DeliveryEndpoint{state.capitalize()}", **delivery_dimensions(endpoint.id))


def _take_probe(endpoint_id: str, status: EndpointStatus, now: float) -> bool:
    """Half-open: only one attempt probes; it holds the circuit for one timeout (plus margin)."""
    hold_until = now + get_delivery_settings().timeout_seconds + 5
    return endpoint_store.claim_probe(endpoint_id, seen_open_until=status.circuit_open_until, hold_until=hold_until)


def _defer(delivery: Delivery, now: float, wait: float, reason: str) -> Report:
    """Not now, and no attempt spent: wait on a message timer, with the due index as the fallback."""
    settings = get_delivery_settings()
    wait = max(1.0, wait)
    moved = store.reschedule(
        delivery.id,
        attempts=delivery.attempts,
        now=iso(now),
        next_attempt_at=iso(now + wait),
        due_at=iso(now + wait + (settings.lease_seconds if wait <= settings.max_queue_delay_seconds else 0)),
        schedule_index=delivery.schedule_index,
        status_code=delivery.last_status_code,
        error=delivery.last_error,
    )
    if moved is not None and wait <= settings.max_queue_delay_seconds:
        send(
            [AttemptMessage(delivery.id, delivery.attempts, endpoint_id=delivery.endpoint_id)],
            delay_seconds=round(wait),
        )
    emit_metric("DeliveryDeferred", **delivery_dimensions(delivery.endpoint_id))
    logger.info("delivery deferred", extra={"delivery_id": delivery.id, "reason": reason, "wait_seconds": wait})
    return Report("deferred", delivery.id, error=reason, next_attempt_at=iso(now + wait))


def _reschedule(delivery: Delivery, now: float, wait: float, status_code: int | None, error: str | None) -> Report:
    settings = get_delivery_settings()
    short = wait <= settings.max_queue_delay_seconds
    moved = store.reschedule(
        delivery.id,
        attempts=delivery.attempts,
        now=iso(now),
        next_attempt_at=iso(now + wait),
        due_at=iso(now + wait + (settings.lease_seconds if short else 0)),
        schedule_index=delivery.schedule_index + 1,
        status_code=status_code,
        error=error,
    )
    if moved is not None and short:
        send(
            [AttemptMessage(delivery.id, delivery.attempts, endpoint_id=delivery.endpoint_id)],
            delay_seconds=round(wait),
        )
    emit_metric("DeliveryRetryScheduled", **delivery_dimensions(delivery.endpoint_id))
    return Report("retrying", delivery.id, status_code, error=error, next_attempt_at=iso(now + wait))


def _fail(
    delivery: Delivery,
    now: float,
    status_code: int | None,
    error: str,
    counts_attempt: bool,
    *,
    exhausted: bool = False,
    ledger: Ledger,
    status: EndpointStatus,
) -> Report:
    failed = store.fail(
        delivery.id,
        attempts=delivery.attempts,
        now=iso(now),
        status_code=status_code,
        error=error,
        exhausted=exhausted,
        endpoint_id=delivery.endpoint_id,
    )
    if failed is not None:
        ledger.delivery_failed(delivery.endpoint_id, status)
        emit_metric("DeliveryFailed", **delivery_dimensions(delivery.endpoint_id))
        logger.info(
            "delivery failed",
            extra={
                "delivery_id": delivery.id,
                "endpoint_id": delivery.endpoint_id,
                "error": error,
                "exhausted": exhausted,
                "attempted": counts_attempt,
            },
        )
    return Report("failed", delivery.id, status_code, error=error)


def _log_attempt(
    delivery: Delivery,
    endpoint: Endpoint,
    trigger: Trigger,
    outcome: Any,
    result: HttpResult,
    error: str | None,
    next_at: str | None,
    now: float,
    ledger: Ledger,
) -> None:
    attempt = Attempt(
        endpoint_id=endpoint.id,
        delivery_id=delivery.id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        attempt=delivery.attempts,
        trigger=trigger,
        status=outcome,
        status_class=status_class(result.status_code),
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        error=error,
        next_attempt_at=next_at,
        at=iso(now),
    )
    if logger.log_level <= logging.INFO:  # the dump costs more than the line when it is not written
        logger.info("delivery attempt", extra=attempt.model_dump(exclude_none=True))
    # written with the batch's other rows (logic/ledger.py), best effort: the outcome is on the delivery
    ledger.log(attempt, _sync_log(delivery, endpoint, attempt) if endpoint.kind == "website" else None)


def _sync_log(delivery: Delivery, endpoint: Endpoint, attempt: Attempt) -> SyncLog:
    """Seed 002's `sync_logs` row for a website's sync back, with emails, phones and secrets masked."""
    statuses: dict[str, SyncStatus] = {"succeeded": "success", "failed": "failed", "retrying": "pending"}
    return SyncLog(
        id=str(uuid.uuid4()),
        booking_id=delivery.booking_id,
        website_id=endpoint.id.removeprefix(WEBSITE_ENDPOINT_PREFIX),
        direction="outbound",
        event_type=delivery.event_type,
        payload=mask_pii(json.loads(delivery.payload)),
        status=statuses[attempt.status],
        error_message=attempt.error,
        created_at=attempt.at,
        http_status_code=attempt.status_code,
        duration_ms=attempt.duration_ms,
        attempt=attempt.attempt,
    )
