"""The local firer of EventBridge Scheduler schedules (moto stores them, never fires them): a stand-in
Scheduler and SQS, a fake clock. Each schedule fires at its time with Scheduler's context filled in;
a changed one is re-planned, a removed or disabled one stops, a failing target does not stop the others."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.local.scheduler_schedules import ScheduleFirer, fill_context, next_fire

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:bookinghub-PMSSync"
INPUT = '{"hotel_slug": "h1", "scheduled_time": "<aws.scheduler.scheduled-time>"}'


class FakeScheduler:
    def __init__(self) -> None:
        self.schedules: dict[str, dict[str, Any]] = {}

    def put(
        self, name: str, expression: str, *, state: str = "ENABLED", arn: str = QUEUE_ARN, dead_letters: str = ""
    ) -> None:
        modified = datetime.now(UTC).isoformat() + str(len(self.schedules) + id(expression))
        self.schedules[name] = {
            "Name": name,
            "GroupName": "g",
            "Arn": f"arn:aws:scheduler:us-east-1:123456789012:schedule/g/{name}",
            "State": state,
            "LastModificationDate": modified,
            "ScheduleExpression": expression,
            "Target": {"Arn": arn, "Input": INPUT.replace("h1", name)},
        }
        if dead_letters:
            self.schedules[name]["Target"]["DeadLetterConfig"] = {"Arn": dead_letters}

    def get_paginator(self, _: str) -> Any:
        scheduler = self

        class Pages:
            def paginate(self) -> list[dict[str, Any]]:
                return [{"Schedules": [dict(s) for s in scheduler.schedules.values()]}]

        return Pages()

    def get_schedule(self, *, Name: str, GroupName: str) -> dict[str, Any]:
        return dict(self.schedules[Name])


class FakeSqs:
    def __init__(self, *, down: bool = False, down_queues: tuple[str, ...] = ()) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.down = down
        self.down_queues = down_queues

    def get_queue_url(self, *, QueueName: str) -> dict[str, str]:
        return {"QueueUrl": f"http://local/{QueueName}"}

    def send_message(self, *, QueueUrl: str, MessageBody: str, MessageAttributes: Any = None) -> None:
        if self.down or QueueUrl.rsplit("/", 1)[-1] in self.down_queues:
            raise ConnectionError("sqs down")
        self.sent.append((QueueUrl, json.loads(MessageBody)))


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 1, 5, hour, minute, second, tzinfo=UTC)


def test_context_attributes_are_filled_in() -> None:
    text = fill_context(
        '{"t": "<aws.scheduler.scheduled-time>", "a": "<aws.scheduler.schedule-arn>", '
        '"n": <aws.scheduler.attempt-number>}',
        scheduled_time=at(6, 0),
        schedule_arn="arn:x",
        execution_id="e1",
    )
    assert json.loads(text) == {"t": "2026-01-05T06:00:00Z", "a": "arn:x", "n": 1}


def test_each_schedule_fires_at_its_time_into_its_queue() -> None:
    scheduler, sqs = FakeScheduler(), FakeSqs()
    scheduler.put("h1", "cron(0/15 * * * ? *)")
    scheduler.put("h2", "cron(0 7 * * ? *)")
    firer = ScheduleFirer(scheduler=scheduler, sqs=sqs)
    firer.refresh(at(6, 50, 30))
    assert firer.fire_due(at(6, 59, 59)) == []
    assert firer.fire_due(at(7, 0, 1)) == [("h1", at(7, 0)), ("h2", at(7, 0))]
    assert firer.fire_due(at(7, 0, 2)) == []  # once per time
    assert sqs.sent == [
        ("http://local/bookinghub-PMSSync", {"hotel_slug": "h1", "scheduled_time": "2026-01-05T07:00:00Z"}),
        ("http://local/bookinghub-PMSSync", {"hotel_slug": "h2", "scheduled_time": "2026-01-05T07:00:00Z"}),
    ]
    assert firer.fire_due(at(7, 15)) == [("h1", at(7, 15))]


def test_a_changed_schedule_is_replanned_and_a_removed_or_disabled_one_stops() -> None:
    scheduler, sqs = FakeScheduler(), FakeSqs()
    scheduler.put("h1", "cron(0 7 * * ? *)")
    scheduler.put("h2", "cron(0 7 * * ? *)")
    firer = ScheduleFirer(scheduler=scheduler, sqs=sqs)
    firer.refresh(at(6, 0))
    scheduler.put("h1", "cron(30 6 * * ? *)")
    del scheduler.schedules["h2"]
    firer.refresh(at(6, 1))
    assert firer.fire_due(at(6, 30)) == [("h1", at(6, 30))]
    scheduler.put("h1", "cron(0 7 * * ? *)", state="DISABLED")
    firer.refresh(at(6, 31))
    assert firer.fire_due(at(7, 0)) == []
    assert len(sqs.sent) == 1


def test_a_failing_target_does_not_stop_the_others_nor_the_schedule() -> None:
    scheduler, sqs = FakeScheduler(), FakeSqs(down=True)
    scheduler.put("h1", "rate(5 minutes)")
    scheduler.put("h2", "cron(0/5 * * * ? *)", arn="arn:aws:lambda:us-east-1:123456789012:function:pms_sync")
    invoked: list[tuple[str, dict[str, Any]]] = []
    firer = ScheduleFirer(scheduler=scheduler, sqs=sqs, invoke=lambda name, event: invoked.append((name, event)))
    firer.refresh(at(6, 0))
    assert [name for name, _ in firer.fire_due(at(6, 5))] == ["h1", "h2"]  # h1's delivery failed, logged
    assert invoked == [("pms_sync", {"hotel_slug": "h2", "scheduled_time": "2026-01-05T06:05:00Z"})]
    sqs.down = False
    assert [name for name, _ in firer.fire_due(at(6, 10))] == ["h1", "h2"]
    assert len(sqs.sent) == 1


def test_one_time_and_unreadable_expressions_and_other_time_zones() -> None:
    assert next_fire("at(2026-01-05T07:00:00)", at(6, 0)) == at(7, 0)
    assert next_fire("at(2026-01-05T07:00:00)", at(7, 0)) is None  # fired once
    with pytest.raises(ValueError, match="6 fields"):
        next_fire("cron(0 7 * * *)", at(6, 0))
    scheduler = FakeScheduler()
    scheduler.put("bad", "cron(0 7 * * *)")
    scheduler.put("paris", "cron(0 7 * * ? *)")
    scheduler.schedules["paris"]["ScheduleExpressionTimezone"] = "Europe/Paris"
    firer = ScheduleFirer(scheduler=scheduler, sqs=FakeSqs())
    firer.refresh(at(6, 0))
    assert firer.fire_due(at(8, 0)) == []


def test_a_fire_that_cannot_be_delivered_goes_to_the_schedules_dead_letter_queue() -> None:
    scheduler, sqs = FakeScheduler(), FakeSqs(down_queues=("bookinghub-PMSSync",))
    dlq_arn = QUEUE_ARN + "-dlq"
    scheduler.put("h1", "cron(0 7 * * ? *)", dead_letters=dlq_arn)
    firer = ScheduleFirer(scheduler=scheduler, sqs=sqs)
    firer.refresh(at(6, 0))
    assert firer.fire_due(at(7, 0)) == [("h1", at(7, 0))]
    ((url, body),) = sqs.sent
    assert url == "http://local/bookinghub-PMSSync-dlq"
    # The target's input, filled in as it would have been delivered: a redrive into PMSSync runs it
    assert body == {"hotel_slug": "h1", "scheduled_time": "2026-01-05T07:00:00Z"}
