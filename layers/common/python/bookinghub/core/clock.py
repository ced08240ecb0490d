"""The hub's one timestamp format: UTC, microseconds, `Z` (sortable as text, so it orders sort keys)."""

from __future__ import annotations

from datetime import UTC, datetime


def to_iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_now() -> str:
    return to_iso(datetime.now(UTC))
