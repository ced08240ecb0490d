"""The retry and pacing policy shared by the REST and GraphQL adapters.

Retries (seed 004): 3 retries after the first attempt, exponential backoff from 1 s doubling to at most
30 s, a provider's Retry-After honoured (never waiting less than it asks, still capped at 30 s so a Lambda
never sleeps past its budget). tenacity runs the loop (stop, wait, retry predicate); the adapters only
say which failures are worth another attempt.

Pacing: a token bucket per provider key (e.g. one Cloudbeds property key: 5 requests/s), shared by every
adapter in the process, so requests are spread out before the provider has to answer 429. Cloudbeds may
suspend a key that keeps exceeding its limit, so a 429 alone is not a pacing strategy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bookinghub.core.observability import emit_metric, logger

T = TypeVar("T")


class RetryableFailure(Exception):
    """One attempt failed in a way another attempt may fix (429, 5xx, timeout, GraphQL throttle)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    initial_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 30.0
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    def delay(self, state: RetryCallState) -> float:
        """Exponential backoff, or the provider's Retry-After when it asks for longer; capped."""
        backoff = wait_exponential(multiplier=self.initial_delay, exp_base=self.multiplier, max=self.max_delay)(state)
        failure = state.outcome.exception() if state.outcome else None
        asked = failure.retry_after if isinstance(failure, RetryableFailure) else None
        return min(max(backoff, asked or 0.0), self.max_delay)

    def run(self, attempt: Callable[[], T], *, provider: str, operation: str) -> T:
        """Call `attempt` until it succeeds, raises something not retryable, or the retries are spent
        (then the last RetryableFailure propagates)."""

        def before_sleep(state: RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome else None
            logger.warning(
                "provider call retried",
                extra={
                    "provider": provider,
                    "operation": operation,
                    "attempt": state.attempt_number,
                    "status": getattr(failure, "status", None),
                    "wait_seconds": round(state.upcoming_sleep, 3),
                },
            )

        retrying = Retrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=self.delay,
            retry=retry_if_exception_type(RetryableFailure),
            before_sleep=before_sleep,
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(attempt)


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, moment - (time.time() if now is None else now))


class TokenBucket:
    """`rate` tokens per second, at most `capacity` banked; `acquire` waits for a token (thread-safe)."""

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.capacity = capacity if capacity is not None else rate
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def _reserve(self) -> float:
        """Take a token (possibly going into debt) and say how long to wait before using it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        wait = self._reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


_BUCKETS: dict[str, TokenBucket] = {}
_BUCKETS_LOCK = threading.Lock()


def bucket_for(key: str, rate: float, capacity: float | None = None) -> TokenBucket:
    """The process-wide bucket of one provider key (e.g. "cloudbeds:<sha256 of the API key>")."""
    with _BUCKETS_LOCK:
        bucket = _BUCKETS.get(key)
        if bucket is None or bucket.rate != rate:
            bucket = _BUCKETS[key] = TokenBucket(rate, capacity)
        return bucket


def count_rate_limited(provider: str) -> None:
    emit_metric("PMSRateLimitHits", provider=provider, integration_type="pms_sync")
    logger.info("provider rate limited", extra={"provider": provider})
