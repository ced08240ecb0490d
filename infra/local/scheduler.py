"""The topology's schedules, fired locally (moto never fires EventBridge rules).

One thread wakes at the next due time and invokes each due target with an EventBridge "Scheduled
Event". A fire missed while a previous target ran is not replayed: the schedule moves on to its next
tick, as a rule does while its target is down.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra import topology
from infra.local import cron
from infra.local.aws_env import ACCOUNT_ID
from infra.local.background import BackgroundLoop

log = logging.getLogger(__name__)
Invoke = Callable[[str, dict[str, Any]], Any]


def rule_name(fn: topology.Function, schedule: topology.Schedule) -> str:
    return f"bookinghub-{fn.name}-{schedule.name}"


def scheduled_event(
    *, rule_arn: str, when: datetime, region: str, payload: dict[str, str], event_id: str | None = None
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {**payload},
    }


@dataclass
class ScheduledTarget:
    function: str
    schedule: topology.Schedule
    rule_arn: str
    expression: cron.Expression
    started: datetime
    next_due: datetime | None = field(default=None)

    def advance(self, after: datetime) -> None:
        self.next_due = self.expression.next_after(after, self.started)


def targets_from_topology(region: str, now: datetime) -> list[ScheduledTarget]:
    targets = []
    for fn in topology.FUNCTIONS:
        for schedule in fn.schedules:
            arn = f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name(fn, schedule)}"
            target = ScheduledTarget(fn.name, schedule, arn, cron.parse(schedule.expression), started=now)
            target.advance(now)
            targets.append(target)
    return targets


class Scheduler(BackgroundLoop):
    def __init__(
        self,
        targets: list[ScheduledTarget],
        *,
        invoke: Invoke,
        region: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stop: threading.Event | None = None,
    ) -> None:
        super().__init__("scheduler", stop)
        self.targets = targets
        self._invoke = invoke
        self._region = region
        self._clock = clock

    def start(self) -> None:
        if self.targets:
            super().start()

    def run_due(self, now: datetime) -> list[dict[str, Any]]:
        """Fire every target due at `now`; returns the events sent."""
        sent = []
        for target in self.targets:
            if target.next_due is None or target.next_due > now:
                continue
            payload = topology.schedule_detail(target.schedule)
            event = scheduled_event(
                rule_arn=target.rule_arn, when=target.next_due, region=self._region, payload=payload
            )
            log.info("schedule %s fired -> %s", target.schedule.name, target.function)
            try:
                self._invoke(target.function, event)
            except Exception:
                log.exception("schedule %s: %s failed", target.schedule.name, target.function)
            sent.append(event)
            target.advance(max(now, self._clock()))
        return sent

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self._clock()
            self.run_due(now)
            upcoming = [t.next_due for t in self.targets if t.next_due is not None]
            wait = min([(due - self._clock()).total_seconds() for due in upcoming], default=60.0)
            self._stop.wait(min(max(wait, 0.05), 1.0))
