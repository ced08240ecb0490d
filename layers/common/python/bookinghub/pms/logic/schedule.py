"""Hotels' sync schedules: each enabled hotel's cron (the seed's "0 */6 * * *"), fired by one dispatcher.

One EventBridge schedule (infra/topology/pms.py: every 5 minutes, on AWS and under `make run`) runs the
dispatcher, which starts a FETCH sync for every enabled hotel whose cron fell due in the window since the
previous tick. Hotels come and go at run time while the stack's schedules are fixed, so the per-hotel
cron is evaluated here rather than as one Scheduler schedule per hotel. A run's id is derived from the
hotel and the minute it fell due, so a repeated tick (EventBridge delivers at least once) starts it once.
Five-field cron: minute hour day-of-month month day-of-week (0 = Sunday), with *, lists, ranges, steps.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from bookinghub.core.observability import logger
from bookinghub.pms.dal import configs, logs
from bookinghub.pms.logic.sync import enqueue, new_log
from bookinghub.pms.models import FetchOptions

TICK_MINUTES = 5
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
RUN_NAMESPACE = uuid.UUID("3d0c3c8e-5a0f-4f43-9c21-7b1e8f0a6d55")


def _values(field: str, low: int, high: int) -> set[int]:
    found: set[int] = set()
    for part in field.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body in ("*", "?"):
            start, end = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            start, end = int(first), int(last)
        else:
            start = end = int(body)
            if step_text:
                end = high
        if step < 1 or start < low or end > high or start > end:
            raise ValueError(f"cron field {field!r} out of range")
        found.update(range(start, end + 1, step))
    return found


def matches(cron: str, moment: datetime) -> bool:
    fields = cron.split()
    if len(fields) == 6:  # EventBridge's form: minute hour dom month dow year
        fields = fields[:5]
    if len(fields) != 5:
        raise ValueError("cron needs 5 fields")
    minute, hour, dom, month, dow = (_values(f, *r) for f, r in zip(fields, _RANGES, strict=True))
    weekday = (moment.weekday() + 1) % 7  # Python: Monday 0; cron: Sunday 0
    if fields[2] in ("*", "?") or fields[4] in ("*", "?"):
        day_ok = moment.day in dom and weekday in dow
    else:  # cron's rule: both restricted means either matches
        day_ok = moment.day in dom or weekday in dow
    return moment.minute in minute and moment.hour in hour and moment.month in month and day_ok


def due_minute(cron: str, tick: datetime) -> datetime | None:
    """The latest minute in (tick - TICK_MINUTES, tick] the cron names, if any."""
    end = tick.replace(second=0, microsecond=0)
    for back in range(TICK_MINUTES):
        moment = end - timedelta(minutes=back)
        if matches(cron, moment):
            return moment
    return None


def dispatch(tick: datetime) -> dict[str, Any]:
    started = []
    for config in configs.all_enabled():
        if not config.sync_schedule:
            continue
        try:
            due = due_minute(config.sync_schedule, tick)
        except ValueError:
            logger.warning("pms schedule unreadable", extra={"hotel_slug": config.slug})
            continue
        if due is None:
            continue
        run_id = str(uuid.uuid5(RUN_NAMESPACE, f"{config.slug}\x1f{due.isoformat()}"))
        if logs.get(run_id) is not None:
            continue
        log = new_log(config, "BOOKING", "FETCH", FetchOptions(limit=1000)).model_copy(update={"id": run_id})
        enqueue(log)
        started.append(config.slug)
    logger.info("pms schedules dispatched", extra={"tick": tick.isoformat(), "started": started})
    return {"started": started}
