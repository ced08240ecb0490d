"""EventBridge schedule (hourly) -> hotels' Scheduler schedules reconciled with their configurations.

Each enabled hotel's cron is its own EventBridge Scheduler schedule (made by the admin API); this pass
only repairs what slipped: a schedule missing or stale is put back, one without a hotel is removed.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.pms.logic.schedule import reconcile


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    return reconcile()
