"""EventBridge Scheduler schedules stored in the embedded AWS, fired at their time (moto never fires them).

Hotels' sync schedules are made at run time by the admin API through the real `scheduler` API; this loop
reads them back from moto (ListSchedules, GetSchedule) every `poll_seconds`, works out each one's next
fire with the same expression reader as the topology's schedules (infra/local/cron.py, UTC), and at
that time delivers its Target's Input, with Scheduler's context attributes filled in, to the target:
an SQS queue (SendMessage, as Scheduler does with the schedule's role) or a local function. A schedule
changed or removed is picked up at the next poll. A fire missed while the loop was busy is not replayed,
the schedule moves on to its next time; `at(...)` one-time schedules fire once.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra.local import cron
from infra.local.background import BackgroundLoop

log = logging.getLogger(__name__)
Invoke = Callable[[str, dict[str, Any]], Any]
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")


def fill_context(text: str, *, scheduled_time: datetime, schedule_arn: str, execution_id: str) -> str:
    """Scheduler's context attributes in a templated target's Input, as Scheduler replaces them."""
    values = {
        "<aws.scheduler.scheduled-time>": scheduled_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "<aws.scheduler.schedule-arn>": schedule_arn,
        "<aws.scheduler.execution-id>": execution_id,
        "<aws.scheduler.attempt-number>": "1",
    }
    for name, value in values.items():
        text = text.replace(name, value)
    return text


@dataclass
class Tracked:
    name: str
    group: str
    arn: str
    expression: str
    modified: str  # its last modification: a change re-plans the schedule
    next_due: datetime | None


def next_fire(expression: str, after: datetime) -> datetime | None:
    one_time = _AT.match(expression)
    if one_time:
        when = datetime.fromisoformat(one_time.group(1)).replace(tzinfo=UTC)
        return when if when > after else None
    return cron.parse(expression).next_after(after, after)


class ScheduleFirer(BackgroundLoop):
    def __init__(
        self,
        *,
        scheduler: Any,
        sqs: Any,
        invoke: Invoke | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        poll_seconds: float = 1.0,
        stop: threading.Event | None = None,
    ) -> None:
        super().__init__("scheduler-schedules", stop)
        self._scheduler, self._sqs, self._invoke, self._clock = scheduler, sqs, invoke, clock
        self.poll_seconds = poll_seconds
        self.tracked: dict[str, Tracked] = {}  # schedule ARN -> its plan
        self.fired: list[tuple[str, datetime]] = []  # (schedule name, scheduled time), for the banner and tests

    def refresh(self, now: datetime) -> None:
        """Re-read the schedules: new and changed ones planned from `now`, removed and disabled ones dropped."""
        seen = set()
        for page in self._scheduler.get_paginator("list_schedules").paginate():
            for item in page["Schedules"]:
                if item.get("State", "ENABLED") != "ENABLED":
                    continue
                arn = item["Arn"]
                seen.add(arn)
                current = self.tracked.get(arn)
                modified = str(item.get("LastModificationDate"))
                if current is not None and current.modified == modified:
                    continue  # unchanged: no GetSchedule on every poll
                detail = self._scheduler.get_schedule(Name=item["Name"], GroupName=item["GroupName"])
                try:
                    zone = detail.get("ScheduleExpressionTimezone") or "UTC"
                    if zone != "UTC":  # the hub's schedules are all UTC; others are not read here
                        raise ValueError(f"time zone {zone} is not supported locally (UTC only)")
                    due = next_fire(detail["ScheduleExpression"], now)
                except ValueError as error:  # AWS would have refused it; say so rather than fire it wrongly
                    log.error("schedule %s: %s", item["Name"], error)
                    due = None
                plan = Tracked(item["Name"], item["GroupName"], arn, detail["ScheduleExpression"], modified, due)
                self.tracked[arn] = plan
        for arn in set(self.tracked) - seen:
            del self.tracked[arn]

    def fire_due(self, now: datetime) -> list[tuple[str, datetime]]:
        fired = []
        for plan in list(self.tracked.values()):
            if plan.next_due is None or plan.next_due > now:
                continue
            when = plan.next_due
            try:
                self._deliver(plan, when)
            except Exception:
                log.exception("schedule %s: delivery failed", plan.name)
                self._dead_letter(plan, when)
            fired.append((plan.name, when))
            plan.next_due = next_fire(plan.expression, max(now, when))
        self.fired += fired
        return fired

    def _deliver(self, plan: Tracked, when: datetime) -> None:
        target = self._scheduler.get_schedule(Name=plan.name, GroupName=plan.group)["Target"]
        body = fill_context(
            target.get("Input", "{}"), scheduled_time=when, schedule_arn=plan.arn, execution_id=str(uuid.uuid4())
        )
        arn = target["Arn"]
        service, resource = arn.split(":")[2], arn.split(":")[-1]
        if service == "sqs":
            url = self._sqs.get_queue_url(QueueName=resource)["QueueUrl"]
            self._sqs.send_message(QueueUrl=url, MessageBody=body)
        elif service == "lambda" and self._invoke is not None:
            self._invoke(resource, json.loads(body))
        else:
            raise ValueError(f"unsupported schedule target {arn}")
        log.info("schedule %s fired (%s) -> %s", plan.name, when.isoformat(), arn)

    def _dead_letter(self, plan: Tracked, when: datetime) -> None:
        """As Scheduler does after its retries: the undelivered fire goes to the target's DeadLetterConfig,
        its body the target's input (so a redrive into the target queue runs it) and the error in
        message attributes."""
        try:
            target = self._scheduler.get_schedule(Name=plan.name, GroupName=plan.group)["Target"]
            arn = target.get("DeadLetterConfig", {}).get("Arn")
            if not arn:
                log.error("schedule %s: fire at %s lost (no dead-letter queue)", plan.name, when.isoformat())
                return
            body = fill_context(
                target.get("Input", "{}"), scheduled_time=when, schedule_arn=plan.arn, execution_id=str(uuid.uuid4())
            )
            url = self._sqs.get_queue_url(QueueName=arn.split(":")[-1])["QueueUrl"]
            self._sqs.send_message(
                QueueUrl=url,
                MessageBody=body,
                MessageAttributes={
                    "ERROR_CODE": {"DataType": "String", "StringValue": "TargetUnreachable"},
                    "SCHEDULE_ARN": {"DataType": "String", "StringValue": plan.arn},
                },
            )
            log.warning("schedule %s: fire at %s sent to its dead-letter queue", plan.name, when.isoformat())
        except Exception:
            log.exception("schedule %s: the fire at %s could not reach its dead-letter queue", plan.name, when)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self._clock()
            try:
                self.refresh(now)
                self.fire_due(now)
            except Exception:  # moto busy or restarting: try again at the next poll
                log.exception("reading the schedules failed")
            self._stop.wait(self.poll_seconds)
