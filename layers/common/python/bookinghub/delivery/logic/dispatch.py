"""One attempt of one delivery: the Deliveries queue's consumer and the manual/replay paths.

In order: the message is checked against the delivery (a stale or duplicate message is dropped); a
disabled endpoint fails the delivery (kept, replayable); an open circuit or a spent rate limit defers it
without an HTTP call; otherwise the attempt is claimed (conditional increment), signed, sent, logged and
classified. A retry waits on an SQS message timer when short, on the due-time index when long; a spent
schedule fails the delivery and sends its message to the DLQ (`SendToDeadLetter`).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bookinghub.bookings.dal.logs import put_sync_log
from bookinghub.bookings.models.events import SyncLog, SyncStatus
from bookinghub.core.observability import emit_metric, logger
from bookinghub.core.security import mask_pii, mask_text
from bookinghub.core.settings import get_settings
from bookinghub.delivery.adapters.http import DestinationRefused, HttpResult, post
from bookinghub.delivery.dal import attempts as attempt_store
from bookinghub.delivery.dal import deliveries as store
from bookinghub.delivery.dal import endpoints as endpoint_store
from bookinghub.delivery.dal.queue import AttemptMessage, send
from bookinghub.delivery.logic import breaker, endpoints
from bookinghub.delivery.logic.classify import Classification, classify, is_make_endpoint
from bookinghub.delivery.logic.clock import iso
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


def process(message: AttemptMessage, *, receive_count: int | None = None, clock: Clock = time.time) -> Report:
    """Handle one queue message (or a manual call shaped like one)."""
    delivery = store.get(message.delivery_id)
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
    endpoint, status = endpoints.load(delivery.endpoint_id)
    now = clock()
    if endpoint is None:
        return _fail(delivery, now, None, "the endpoint no longer exists", counts_attempt=False)
    if status.state != "enabled":
        return _fail(delivery, now, None, f"endpoint {status.state}: {status.state_reason or ''}".strip(), False)
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
        delivery.id, expected_attempts=message.attempt, lease_until=iso(now + settings.lease_seconds), now=iso(now)
    )
    if claimed is None:
        emit_metric("DeliveryDuplicateSuppressed", **delivery_dimensions(delivery.endpoint_id))
        return Report("skipped", delivery.id, error="another message took this attempt")
    return _attempt(claimed, endpoint, status, message.trigger, clock)


def _attempt(delivery: Delivery, endpoint: Endpoint, status: EndpointStatus, trigger: Trigger, clock: Clock) -> Report:
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
        return _succeeded(delivery, endpoint, result, trigger, now)
    next_at: str | None = None
    outcome: Report
    _record_failure(endpoint, status, now, verdict)
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
                delivery, now, result.status_code, f"retries exhausted; last: {error}", True, exhausted=True
            )
        else:
            next_at = iso(now + wait)
            outcome = _reschedule(delivery, now, wait, result.status_code, error)
    else:
        outcome = _fail(delivery, now, result.status_code, error or verdict.reason, True)
    _log_attempt(delivery, endpoint, trigger, "retrying" if next_at else "failed", result, error, next_at, now)
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
    send([AttemptMessage(reopened.id, reopened.attempts, "replay")])
    logger.info("redriven delivery replayed", extra={"delivery_id": delivery.id})
    return Report("retrying", delivery.id, next_attempt_at=iso(now))


def _error_text(result: HttpResult, verdict: Classification) -> str:
    if result.status_code is None:
        return result.error or verdict.reason
    excerpt = result.body_excerpt[:200].strip()
    return verdict.reason + (f": {excerpt}" if excerpt else "")


def _succeeded(delivery: Delivery, endpoint: Endpoint, result: HttpResult, trigger: Trigger, now: float) -> Report:
    status_code = result.status_code or 200
    store.succeed(delivery.id, attempts=delivery.attempts, now=iso(now), status_code=status_code)
    endpoint_store.update_status(
        endpoint.id,
        set_fields={
            "consecutive_failures": 0,
            "circuit": "closed",
            "circuit_open_until": 0,
            "circuit_opened_count": 0,
            "last_success_at": iso(now),
        },
        add={"sent": 1, "succeeded": 1, "pending": -1},
        remove=("first_failure_at",),
    )
    _log_attempt(delivery, endpoint, trigger, "succeeded", result, None, None, now)
    emit_metric("DeliverySucceeded", **delivery_dimensions(delivery.endpoint_id))
    return Report("succeeded", delivery.id, status_code, result.duration_ms, attempt=delivery.attempts)


def _record_failure(endpoint: Endpoint, status: EndpointStatus, now: float, verdict: Classification) -> None:
    """The endpoint's side of a failed attempt: counters, breaker, and disabling or parking it."""
    settings = get_delivery_settings()
    circuit, open_until, openings = breaker.after_result(
        status,
        success=False,
        now=now,
        threshold=settings.breaker_threshold,
        cooldown=settings.scaled(settings.breaker_cooldown_seconds),
    )
    fields: dict[str, Any] = {
        "circuit": circuit,
        "circuit_open_until": open_until,
        "circuit_opened_count": openings,
        "last_failure_at": iso(now),
    }
    if status.first_failure_at is None:
        fields["first_failure_at"] = now
    state_reason = None
    if verdict.verdict == "disable":
        fields["state"], state_reason = "disabled", verdict.reason
    elif verdict.verdict == "park":
        fields["state"], state_reason = "parked", verdict.reason
    elif breaker.should_disable(
        status,
        now=now,
        after_failures=settings.disable_after_failures,
        after_seconds=settings.scaled(settings.disable_after_seconds),
    ):
        fields["state"] = "disabled"
        state_reason = f"{status.consecutive_failures + 1} consecutive failures"
    if state_reason:
        fields.update(state_reason=state_reason, state_changed_at=iso(now))
    endpoint_store.update_status(endpoint.id, set_fields=fields, add={"sent": 1, "consecutive_failures": 1})
    if state_reason:
        level = logger.error if fields["state"] == "parked" else logger.warning
        level(f"delivery endpoint {fields['state']}", extra={"endpoint_id": endpoint.id, "reason": state_reason})
        emit_metric(f"DeliveryEndpoint{str(fields['state']).capitalize()}", **delivery_dimensions(endpoint.id))


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
        send([AttemptMessage(delivery.id, delivery.attempts)], delay_seconds=round(wait))
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
        send([AttemptMessage(delivery.id, delivery.attempts)], delay_seconds=round(wait))
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
) -> Report:
    failed = store.fail(
        delivery.id,
        attempts=delivery.attempts,
        now=iso(now),
        status_code=status_code,
        error=error,
        exhausted=exhausted,
    )
    if failed is not None:
        endpoint_store.update_status(delivery.endpoint_id, add={"failed": 1, "pending": -1})
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
    logger.info("delivery attempt", extra=attempt.model_dump(exclude_none=True))
    try:
        attempt_store.put_attempt(attempt)
        if endpoint.kind == "website":
            put_sync_log(_sync_log(delivery, endpoint, attempt))
    except Exception:  # the outcome is already recorded on the delivery; the log rows are best effort
        logger.exception("attempt log write failed", extra={"delivery_id": delivery.id})


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
