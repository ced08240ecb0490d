"""When to try the Rooms Event Hub again after a failed pincode request (the seed's "future enhancement").

Exponential backoff from 30 s, doubling up to one attempt an hour, with +-20 % jitter so passes that
failed together do not retry together. The attempts span 24 h: MAX_ATTEMPTS is the number of receives
that schedule needs, and the PassIssuance queue's maxReceiveCount equals it (tests/unit keeps them
equal), so the message reaches the DLQ right after the last attempt.
"""

from __future__ import annotations

import random
from collections.abc import Callable

BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 3600
RETRY_WINDOW_SECONDS = 24 * 3600
JITTER = 0.2


def nominal_delay(attempt: int) -> int:
    """Seconds to wait after failed attempt number `attempt` (1-based), before jitter."""
    return int(min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** min(attempt - 1, 30)))


def nominal_schedule() -> list[int]:
    """The waits between attempts, until together they cover the retry window."""
    delays: list[int] = []
    while sum(delays) < RETRY_WINDOW_SECONDS:
        delays.append(nominal_delay(len(delays) + 1))
    return delays


MAX_ATTEMPTS = len(nominal_schedule()) + 1


def retry_delay(attempt: int, rand: Callable[[], float] = random.random) -> int:
    """The jittered wait after failed attempt `attempt`: nominal * [0.8, 1.2)."""
    return max(1, round(nominal_delay(attempt) * (1 - JITTER + 2 * JITTER * rand())))


def is_last_attempt(attempt: int) -> bool:
    return attempt >= MAX_ATTEMPTS
