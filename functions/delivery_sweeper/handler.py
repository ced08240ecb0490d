"""Every minute: deliveries due for their next attempt go back on the Deliveries queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.delivery.logic.sweep import sweep


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"requeued": sweep()}
