"""The hub's one timestamp format: UTC, microseconds, `Z` (sortable as text, so it orders sort keys)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def to_iso(value: datetime) -> str:
    # isoformat of a UTC time ends "+00:00"; it is what strftime("%Y-%m-%dT%H:%M:%S.%fZ") writes, faster
    if value.tzinfo is not UTC:  # (a validated payload's times are UTC already: no copy to make)
        value = value.astimezone(UTC)
    # isoformat's own choice of fraction (none when the microseconds are 0) and the zero fraction added:
    # isoformat(timespec="microseconds")'s text, without parsing its keyword on every call
    text = value.isoformat()
    return f"{text[:-6]}Z" if value.microsecond else f"{text[:-6]}.000000Z"


# The current second's text ("2026-02-20T10:30:00"), written once per second rather than on every call
_second: tuple[int, str] = (-1, "")


def iso_now() -> str:
    """to_iso(datetime.now(UTC)): the same clock (the system clock, floored to the microsecond, as
    datetime.now reads it), its date and time of day written once per second."""
    global _second
    seconds, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
    second = _second
    if second[0] != seconds:
        second = (seconds, datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")[:-6])
        _second = second  # (one tuple: a thread reading it meanwhile sees the old second or the new)
    return f"{second[1]}.{nanoseconds // 1000:06d}Z"
