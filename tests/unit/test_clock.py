"""The hub's one timestamp format: UTC, microseconds, `Z`, whatever the zone it was given in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bookinghub.core.clock import iso_now, to_iso


def test_a_time_in_any_zone_is_written_in_utc_with_microseconds() -> None:
    assert to_iso(datetime(2026, 2, 20, 10, 30, tzinfo=UTC)) == "2026-02-20T10:30:00.000000Z"
    bangkok = timezone(timedelta(hours=7))
    assert to_iso(datetime(2026, 2, 20, 17, 30, 0, 123, tzinfo=bangkok)) == "2026-02-20T10:30:00.000123Z"


def test_now_sorts_as_text_like_time() -> None:
    earlier, later = iso_now(), iso_now()
    assert len(earlier) == len("2026-02-20T10:30:00.000000Z")
    assert earlier <= later
    assert datetime.fromisoformat(later.replace("Z", "+00:00")).tzinfo is not None
