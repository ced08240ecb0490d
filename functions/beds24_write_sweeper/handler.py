"""Every 5 minutes: Beds24 write-backs whose queue message was lost go back on the Beds24Writes queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.beds24.logic.write_sweep import sweep
from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "BEDS24_WRITES_QUEUE_URL")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"requeued": sweep()}
