"""The hub's one timestamp format: UTC, microseconds, `Z` (sortable as text, so it orders sort keys)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime


def to_iso(value: datetime) -> str:
    """isoformat(timespec="microseconds") in UTC, its "+00:00" written "Z"."""
    if value.tzinfo is not UTC:  # (a validated payload's times are UTC already: no copy to make)
        value = value.astimezone(UTC)
    year, micro = value.year, value.microsecond
    if year < 1000:  # (isoformat pads the year to four digits)
        return f"{value.isoformat(timespec='microseconds')[:-6]}Z"
    # Two-digit parts from a table: isoformat's C formatting (PyUnicode_FromFormat, then the offset's) costs
    # twice this, on every booking a sync writes
    two = _TWO_DIGITS
    return (
        f"{year}-{two[value.month]}-{two[value.day]}T{two[value.hour]}:{two[value.minute]}:{two[value.second]}"
        f".{two[micro // 10000]}{two[micro // 100 % 100]}{two[micro % 100]}Z"
    )


def iso_date(value: date) -> str:
    """value.isoformat() ("2026-03-01"), its parts from the same table as to_iso's."""
    year = value.year
    if year < 1000:
        return value.isoformat()
    return f"{year}-{_TWO_DIGITS[value.month]}-{_TWO_DIGITS[value.day]}"


_TWO_DIGITS = tuple(f"{number:02d}" for number in range(100))


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
