"""EventBridge schedule expressions and the local scheduler (moto never fires schedules)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra import topology
from infra.local import cron
from infra.local.scheduler import ScheduledTarget, Scheduler, scheduled_event


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- rate() -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(1 hour)", 3600),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        ("rate(7 days)", 604800),
    ],
)
def test_rate_units(expression: str, seconds: int) -> None:
    assert cron.parse(expression) == cron.Rate(seconds=seconds)


@pytest.mark.parametrize(
    "expression",
    ["rate(5 minute)", "rate(1 minutes)", "rate(0 minutes)", "rate(5 weeks)", "rate(-1 minutes)", "rate(5)"],
)
def test_rate_rejects_what_eventbridge_rejects(expression: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        cron.parse(expression)


def test_rate_ticks_count_whole_periods_from_start() -> None:
    rate = cron.parse("rate(5 minutes)")
    start = at("2026-03-01T10:00:30")
    assert rate.next_after(start, start) == at("2026-03-01T10:05:30")
    assert rate.next_after(at("2026-03-01T10:05:30"), start) == at("2026-03-01T10:10:30")
    assert rate.next_after(at("2026-03-01T10:17:00"), start) == at("2026-03-01T10:20:30")  # missed ticks skipped


# --- cron() -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # every day at 03:00 UTC
        ("cron(0 3 * * ? *)", "2026-03-01T02:59:59", "2026-03-01T03:00:00"),
        ("cron(0 3 * * ? *)", "2026-03-01T03:00:00", "2026-03-02T03:00:00"),
        # every 15 minutes
        ("cron(0/15 * * * ? *)", "2026-03-01T10:07:00", "2026-03-01T10:15:00"),
        ("cron(*/15 * * * ? *)", "2026-03-01T10:45:00", "2026-03-01T11:00:00"),
        # lists and ranges, weekdays by name: 08:30 and 17:30 Monday to Friday (2026-03-07 is a Saturday)
        ("cron(30 8,17 ? * MON-FRI *)", "2026-03-06T17:30:00", "2026-03-09T08:30:00"),
        # weekdays by number: 1 = Sunday
        ("cron(0 12 ? * 1 *)", "2026-03-02T00:00:00", "2026-03-08T12:00:00"),
        # month names, day of month: 1st of each quarter at midnight
        ("cron(0 0 1 JAN,APR,JUL,OCT ? *)", "2026-01-01T00:00:00", "2026-04-01T00:00:00"),
        # day 31 skips short months
        ("cron(0 0 31 * ? *)", "2026-04-01T00:00:00", "2026-05-31T00:00:00"),
        # stepped range: every 2 hours from 8 to 16
        ("cron(0 8-16/2 * * ? *)", "2026-03-01T10:00:00", "2026-03-01T12:00:00"),
        # year field and leap day
        ("cron(0 0 29 2 ? 2028)", "2026-01-01T00:00:00", "2028-02-29T00:00:00"),
        # month change at year end
        ("cron(15 10 ? * FRI *)", "2026-12-31T11:00:00", "2027-01-01T10:15:00"),
    ],
)
def test_cron_next_fire(expression: str, after: str, expected: str) -> None:
    assert cron.parse(expression).next_after(at(after), at(after)) == at(expected)


def test_cron_runs_out_of_years() -> None:
    assert cron.parse("cron(0 0 1 1 ? 2026)").next_after(at("2026-06-01T00:00:00"), at("2026-06-01T00:00:00")) is None


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("cron(0 3 * * * *)", "exactly one of day-of-month and day-of-week"),  # both day fields given
        ("cron(0 3 ? * ? *)", "exactly one of day-of-month and day-of-week"),  # neither
        ("cron(0 3 * *)", "cron takes 6 fields"),
        ("cron(60 3 * * ? *)", "outside 0-59"),
        ("cron(0 24 * * ? *)", "outside 0-23"),
        ("cron(0 3 ? * 8 *)", "outside 1-7"),  # weekdays are 1-7
        ("cron(0 3 L * ? *)", "unsupported cron value 'L'"),  # L, W and # are not supported
        ("cron(0 3 ? * 6#3 *)", "unsupported cron element '6#3'"),
        ("cron(0 3 15W * ? *)", "unsupported cron value '15W'"),
        ("cron(10-5 * * * ? *)", "runs backwards"),
        ("cron(0/0 * * * ? *)", "step must be positive"),
        ("at(2026-03-01T00:00:00)", "expected rate"),
    ],
)
def test_cron_rejects_what_it_cannot_honour(expression: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        cron.parse(expression)


# --- the scheduler ----------------------------------------------------------------------------------


def test_scheduled_event_shape() -> None:
    event = scheduled_event(
        rule_arn="arn:aws:events:us-east-1:123456789012:rule/r",
        when=at("2026-03-01T03:00:00"),
        region="us-east-1",
        payload={"mode": "full"},
        event_id="e-1",
    )
    assert event == {
        "version": "0",
        "id": "e-1",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-03-01T03:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/r"],
        "detail": {"mode": "full"},
    }


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_scheduler(expression: str, start: datetime, invoke: Any) -> tuple[Scheduler, FakeClock]:
    schedule = topology.Schedule(name="pull", expression=expression, payload=(("mode", "incremental"),))
    target = ScheduledTarget(
        "beds24_pull",
        schedule,
        "arn:aws:events:us-east-1:123456789012:rule/pull",
        cron.parse(expression),
        started=start,
    )
    target.advance(start)
    clock = FakeClock(start)
    return Scheduler([target], invoke=invoke, region="us-east-1", clock=clock), clock


def test_scheduler_fires_due_targets_once_per_tick() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    start = at("2026-03-01T10:00:00")
    scheduler, clock = make_scheduler("rate(5 minutes)", start, lambda name, event: calls.append((name, event)))
    assert scheduler.run_due(start + timedelta(minutes=4, seconds=59)) == []
    clock.now = start + timedelta(minutes=5)
    sent = scheduler.run_due(clock.now)
    assert len(sent) == 1
    assert len(calls) == 1
    name, event = calls[0]
    assert name == "beds24_pull"
    assert event["time"] == "2026-03-01T10:05:00Z"
    assert event["detail"] == {"mode": "incremental"}
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/pull"]
    assert scheduler.run_due(clock.now) == []  # not twice for the same tick
    clock.now = start + timedelta(minutes=10)
    assert len(scheduler.run_due(clock.now)) == 1


def test_a_failing_target_does_not_stop_the_schedule() -> None:
    def fail(name: str, event: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    start = at("2026-03-01T10:00:00")
    scheduler, clock = make_scheduler("cron(* * * * ? *)", start, fail)
    clock.now = start + timedelta(minutes=1)
    assert len(scheduler.run_due(clock.now)) == 1
    clock.now = start + timedelta(minutes=2)
    assert len(scheduler.run_due(clock.now)) == 1


def test_every_topology_schedule_parses() -> None:
    for fn in topology.FUNCTIONS:
        for schedule in fn.schedules:
            cron.parse(schedule.expression)
