"""EventBridge schedule (every 5 minutes) -> a FETCH sync queued for each enabled hotel whose cron fell due."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.pms.logic.schedule import dispatch


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "INTEGRATION_LOGS_TABLE_NAME", "PMS_SYNC_QUEUE_URL")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    try:
        tick = datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    except (TypeError, ValueError, AttributeError):
        tick = datetime.now(UTC)
    return dispatch(tick.astimezone(UTC))
