"""EventBridge schedules -> Beds24 pull syncs started: `detail.mode` is incremental (every 5 minutes) or
full (hourly check of each property's local full-sync hour)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.beds24.logic.sync import run_schedule
from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "BEDS24_SYNC_QUEUE_URL")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    mode = str(event.detail.get("mode") or "incremental")
    if mode not in ("incremental", "full"):
        raise ValueError(f"unknown schedule mode {mode!r}")
    return {"mode": mode, **run_schedule(mode)}
