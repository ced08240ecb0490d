"""Hotels' sync schedules: the seed's five-field cron checked and converted to EventBridge Scheduler's form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from bookinghub.pms.logic.cron import CronError, normalise, to_eventbridge
from bookinghub.pms.models.config import ConfigurationCreate, ConfigurationPatch
from infra.local import cron as eventbridge


@pytest.mark.parametrize(
    ("unix", "expected"),
    [
        ("0 */6 * * *", "cron(0 0/6 * * ? *)"),  # the seed's
        ("* * * * *", "cron(* * * * ? *)"),
        ("*/15 * * * *", "cron(0/15 * * * ? *)"),
        ("5/20 3 * * *", "cron(5/20 3 * * ? *)"),
        ("30 2 * * 1-5", "cron(30 2 ? * MON,TUE,WED,THU,FRI *)"),  # Unix 1 = Monday; EventBridge 1 = Sunday
        ("0 4 * * 0", "cron(0 4 ? * SUN *)"),
        ("0 4 * * 7", "cron(0 4 ? * SUN *)"),  # 7 is Sunday too
        ("0 4 * * sun,sat", "cron(0 4 ? * SUN,SAT *)"),
        ("0 0 1,15 * *", "cron(0 0 1,15 * ? *)"),
        ("0 3 */2 * *", "cron(0 3 1/2 * ? *)"),
        ("0 9-17 * jan-mar *", "cron(0 9-17 * JAN-MAR ? *)"),
        ("  0   3  * * *  ", "cron(0 3 * * ? *)"),
    ],
)
def test_conversion(unix: str, expected: str) -> None:
    assert to_eventbridge(unix) == expected
    eventbridge.parse(expected)  # the local runtime's EventBridge reader accepts it


def _unix_matches(cron: str, moment: datetime) -> bool:
    """Unix cron's own reading (the seed's meaning), for the property below."""
    from bookinghub.pms.logic.cron import _values  # the validator's value sets

    minute, hour, dom, month, dow = normalise(cron).split()
    days = {d % 7 for d in _values(dow, "day of week", 0, 7)}
    return (
        moment.minute in _values(minute, "minute", 0, 59)
        and moment.hour in _values(hour, "hour", 0, 23)
        and moment.day in _values(dom, "day of month", 1, 31)
        and moment.month in _values(month, "month", 1, 12)
        and (moment.isoweekday() % 7) in days
    )


@pytest.mark.parametrize("cron", ["0 */6 * * *", "30 2 * * 1-5", "0 4 * * 0", "15 */3 1,10 * *", "*/20 8 * 2 *"])
def test_the_converted_schedule_fires_exactly_when_the_unix_cron_would(cron: str) -> None:
    expression = eventbridge.parse(to_eventbridge(cron))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    fires, moment = [], start - timedelta(minutes=1)
    for _ in range(40):
        found = expression.next_after(moment, start)
        assert found is not None
        fires.append(found)
        moment = found
    assert all(_unix_matches(cron, fire) for fire in fires)
    # and none skipped: every Unix match between the first and last fire is among them
    minute, expected = fires[0], []
    while minute <= fires[-1]:
        if _unix_matches(cron, minute):
            expected.append(minute)
        minute += timedelta(minutes=1)
    assert fires == expected


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("every hour", "5 fields"),
        ("* * *", "5 fields"),
        ("0 3 * * ? *", "5 fields"),  # EventBridge's own form is not a hotel's
        ("61 * * * *", "minute: 61 is outside 0-59"),
        ("0 25 * * *", "hour"),
        ("0 0 0 * *", "day of month"),
        ("0 0 * 13 *", "month"),
        ("0 0 * * 8", "day of week"),
        ("*/0 * * * *", "step"),
        ("0 5-2 * * *", "backwards"),
        ("0 0 L * *", "not a number"),
        ("0 0 1 * 1", "not both"),  # Unix's "either" has no EventBridge form
        ("0 0 ? * *", "not a value"),
    ],
)
def test_bad_crons_are_refused_with_the_reason(bad: str, says: str) -> None:
    with pytest.raises(CronError, match=says):
        to_eventbridge(bad)


def test_the_models_refuse_a_bad_cron_and_store_it_canonical() -> None:
    with pytest.raises(ValidationError, match="sync_schedule"):
        ConfigurationCreate(hotel_slug="h", provider="mock", sync_schedule="0 0 1 * 1")
    with pytest.raises(ValidationError, match="sync_schedule"):
        ConfigurationPatch(sync_schedule="61 * * * *")
    assert ConfigurationCreate(hotel_slug="h", provider="mock", sync_schedule=" 0  */6 * * sun ").sync_schedule == (
        "0 */6 * * SUN"
    )
    assert ConfigurationPatch(sync_schedule=None).sync_schedule is None
