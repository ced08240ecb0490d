"""Hotels' cron schedules as the dispatcher reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookinghub.pms.logic.schedule import due_minute, matches
from bookinghub.pms.models.config import check_cron


def at(hour: int, minute: int, day: int = 5) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)  # 2026-01-05 is a Monday


@pytest.mark.parametrize(
    ("cron", "moment", "expected"),
    [
        ("0 */6 * * *", at(6, 0), True),
        ("0 */6 * * *", at(7, 0), False),
        ("*/15 * * * *", at(3, 45), True),
        ("*/15 * * * *", at(3, 46), False),
        ("30 2 * * 1", at(2, 30), True),  # Mondays
        ("30 2 * * 0", at(2, 30), False),
        ("0 9-17 * * 1-5", at(12, 0), True),
        ("0 0 1,15 * *", at(0, 0, day=15), True),
        ("0 0 1 * 1", at(0, 0, day=5), True),  # both day fields restricted: either matches
        ("0 3 * * ? *", at(3, 0), True),  # EventBridge's six-field form
    ],
)
def test_matches(cron: str, moment: datetime, expected: bool) -> None:
    assert matches(cron, moment) is expected


def test_due_minute_looks_back_one_tick() -> None:
    assert due_minute("0 */6 * * *", at(6, 4)) == at(6, 0)
    assert due_minute("0 */6 * * *", at(6, 5)) is None
    assert due_minute("*/2 * * * *", at(6, 5)) == at(6, 4)


@pytest.mark.parametrize("bad", ["every hour", "61 * * * *", "* * *", "0 25 * * *", "*/0 * * * *"])
def test_bad_crons_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"cron|invalid literal"):
        matches(bad, at(0, 0))
    with pytest.raises(ValueError, match=r"cron expression|out of range"):
        check_cron(bad)
