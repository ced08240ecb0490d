"""Hotels' sync schedules: each enabled hotel's cron is an EventBridge Scheduler schedule of its own.

The configuration is the source of truth; the schedule follows it. The admin API writes the
configuration, then the schedule (`apply`), and puts the configuration back if the schedule call fails
(logic/hotels.py). `reconcile` (pms_scheduler, hourly) makes the group match the configurations again
if anything slipped between the two (a put-back that failed too, a schedule removed by hand).

A schedule sends `payload(slug)` to the PMSSync queue; Scheduler fills in the fire's scheduled time. Its
run id is derived from the hotel and that time, so a fire delivered twice (Scheduler and SQS are both
at least once) starts one run.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from bookinghub.core.observability import logger
from bookinghub.pms.dal import configs, logs, schedules
from bookinghub.pms.logic.cron import to_eventbridge
from bookinghub.pms.models import FetchOptions
from bookinghub.pms.models.config import PMSConfiguration
from bookinghub.pms.models.sync import SyncLog

RUN_NAMESPACE = uuid.UUID("3d0c3c8e-5a0f-4f43-9c21-7b1e8f0a6d55")
SCHEDULED_LIMIT = 1000
# Scheduler's context attribute: replaced by the fire's scheduled time (ISO 8601, UTC) in the Input
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


def desired(config: PMSConfiguration) -> str | None:
    """The Scheduler expression the hotel should have, or None (disabled, or no cron)."""
    if not config.enabled or not config.sync_schedule:
        return None
    return to_eventbridge(config.sync_schedule)


def payload(slug: str) -> str:
    return json.dumps({"kind": "scheduled", "hotel_slug": slug, "scheduled_time": SCHEDULED_TIME})


def apply(config: PMSConfiguration) -> None:
    """Make the hotel's schedule what its configuration says (raises ScheduleUnavailable)."""
    expression = desired(config)
    if expression is None:
        schedules.delete(config.slug)
        return
    description = f"PMS FETCH sync of {config.slug} ({config.sync_schedule} UTC)"
    schedules.put(config.slug, expression, payload(config.slug), description)


def reconcile() -> dict[str, Any]:
    """Every enabled hotel with a cron has its schedule as configured; no other schedule is left."""
    wanted = {c.slug: c for c in sorted(configs.all_enabled(), key=lambda c: c.slug) if desired(c) is not None}
    existing = set(schedules.names())
    repaired, removed = [], []
    for slug, config in wanted.items():
        current = schedules.get(slug) if slug in existing else None
        if current is None or not _same(current, config):
            apply(config)
            repaired.append(slug)
    for slug in sorted(existing - wanted.keys()):
        schedules.delete(slug)
        removed.append(slug)
    logger.info("pms schedules reconciled", extra={"hotels": len(wanted), "repaired": repaired, "removed": removed})
    return {"hotels": len(wanted), "repaired": repaired, "removed": removed}


def _same(current: dict[str, Any], config: PMSConfiguration) -> bool:
    target = current.get("Target", {})
    return (
        current.get("ScheduleExpression") == desired(config)
        and current.get("State") == "ENABLED"
        and target.get("Input") == payload(config.slug)
    )


def run_id(slug: str, scheduled_time: str) -> str:
    return str(uuid.uuid5(RUN_NAMESPACE, f"{slug}\x1f{scheduled_time}"))


def scheduled_run(message: dict[str, Any]) -> tuple[PMSConfiguration, SyncLog] | None:
    """A fire's run: its FETCH log (RUNNING, stored) to run, or None when there is nothing to run.

    The fire is claimed first: a redelivery finds the claim and reruns the log only if it is still RUNNING
    (the first attempt died part way, as a queued manual sync is rerun); a finished one is left alone.
    """
    from bookinghub.pms.logic.sync import new_log  # sync is the heavier module; imported when a fire arrives

    slug, when = str(message["hotel_slug"]), str(message["scheduled_time"])
    datetime.fromisoformat(when.replace("Z", "+00:00"))  # a fire carries a real time; anything else is refused
    identity = run_id(slug, when)
    config = configs.get(slug)
    if config is None or desired(config) is None:
        # A fire racing a disable (or a schedule left behind): nothing to run; reconcile removes leftovers
        logger.info("pms schedule fired for a hotel that is not scheduled", extra={"hotel_slug": slug})
        return None
    if not logs.claim_fire(slug, when, identity):
        previous = logs.get(identity)
        if previous is None or previous.status != "RUNNING":
            logger.info("pms scheduled sync already ran", extra={"hotel_slug": slug, "scheduled_time": when})
            return None
        return config, previous
    log = new_log(config, "BOOKING", "FETCH", FetchOptions(limit=SCHEDULED_LIMIT))
    log = log.model_copy(update={"id": identity, "scheduled_time": when})
    logs.put(log)
    return config, log
