"""The hub's one timestamp format: UTC, microseconds, `Z`, whatever the zone it was given in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookinghub.core.clock import iso_date, iso_now, to_iso


def test_a_time_in_any_zone_is_written_in_utc_with_microseconds() -> None:
    assert to_iso(datetime(2026, 2, 20, 10, 30, tzinfo=UTC)) == "2026-02-20T10:30:00.000000Z"
    bangkok = timezone(timedelta(hours=7))
    assert to_iso(datetime(2026, 2, 20, 17, 30, 0, 123, tzinfo=bangkok)) == "2026-02-20T10:30:00.000123Z"


def test_now_sorts_as_text_like_time() -> None:
    earlier, later = iso_now(), iso_now()
    assert len(earlier) == len("2026-02-20T10:30:00.000000Z")
    assert earlier <= later
    assert datetime.fromisoformat(later.replace("Z", "+00:00")).tzinfo is not None


def test_now_is_datetime_nows_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """iso_now writes its second once: the text is to_iso of the same instant, across seconds and days."""
    from bookinghub.core import clock

    for instant_ns in (
        1_771_583_400_000_000_000,
        1_771_583_400_999_999_999,
        1_771_583_401_000_000_999,
        1_799_999_999_123_456_789,
    ):
        monkeypatch.setattr(clock.time, "time_ns", lambda instant_ns=instant_ns: instant_ns)
        seconds, nanoseconds = divmod(instant_ns, 1_000_000_000)
        expected = to_iso(datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanoseconds // 1000))
        assert clock.iso_now() == expected
        assert clock.iso_now() == expected  # the remembered second
    monkeypatch.undo()
    before = to_iso(datetime.now(UTC))
    now = clock.iso_now()
    assert before <= now <= to_iso(datetime.now(UTC))


def test_to_iso_is_isoformat_with_microseconds() -> None:
    bangkok = timezone(timedelta(hours=7))
    for moment in (
        datetime(2026, 2, 20, 10, 30, tzinfo=UTC),
        datetime(2026, 2, 20, 10, 30, 0, 1, tzinfo=UTC),
        datetime(2026, 2, 20, 17, 30, 59, 999999, tzinfo=bangkok),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 100000, tzinfo=UTC),
    ):
        expected = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert to_iso(moment) == moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"
        assert to_iso(moment) == expected.rjust(27, "0")  # (strftime writes year 1 as "1" on glibc)


@settings(max_examples=500)
@given(st.datetimes(timezones=st.timezones()))
def test_to_iso_writes_any_time_as_isoformat_in_utc_does(moment: datetime) -> None:
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # (a time near the ends of the range may not be in UTC's range)
        return
    assert to_iso(moment) == utc.isoformat(timespec="microseconds")[:-6] + "Z"


@settings(max_examples=300)
@given(st.dates())
def test_iso_date_is_isoformat(day: date) -> None:
    assert iso_date(day) == day.isoformat()
