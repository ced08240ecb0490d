"""When to try again (pure): the retry schedule with jitter, `Retry-After`, and short vs long waits."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# A receiver's Retry-After is honoured up to this long (Svix caps it similarly); beyond, the schedule rules
MAX_RETRY_AFTER_SECONDS = 6 * 3600


def next_wait(
    schedule: Sequence[int],
    index: int,
    *,
    scale: float = 1.0,
    jitter: float = 0.0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before retry number `index` (0 = the first retry); None when the schedule is spent.

    The wait is the schedule's step (scaled for tests) with +/- `jitter` of it at random, or the
    receiver's Retry-After when that is longer: a receiver that asks for time gets at least that.
    """
    if index >= len(schedule):
        return None
    base = schedule[index] * scale
    if jitter:
        base *= 1 + (rng or random).uniform(-jitter, jitter)
    if retry_after is not None:
        base = max(base, min(retry_after, MAX_RETRY_AFTER_SECONDS * scale))
    return max(0.0, base)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After: 120` or an HTTP date -> seconds from now; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())
