"""WebSocket $disconnect: the connection and its subscriptions are forgotten (best effort, as in AWS:
a connection whose $disconnect never runs expires by TTL or is dropped at its first 410)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.realtime.logic.connect import disconnect


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("REALTIME_CONNECTIONS_TABLE_NAME")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    disconnect(event["requestContext"]["connectionId"])
    return {"statusCode": 200}
