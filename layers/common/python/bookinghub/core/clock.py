"""The hub's one timestamp format: UTC, microseconds, `Z` (sortable as text, so it orders sort keys)."""

from __future__ import annotations

from datetime import UTC, datetime


def to_iso(value: datetime) -> str:
    # isoformat of a UTC time ends "+00:00"; it is what strftime("%Y-%m-%dT%H:%M:%S.%fZ") writes, faster
    if value.tzinfo is not UTC:  # (a validated payload's times are UTC already: no copy to make)
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")[:-6] + "Z"  # to_iso's, already in UTC
