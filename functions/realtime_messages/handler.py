"""WebSocket routes subscribe, unsubscribe, ping and $default: one message of an open connection.

The answer's body is the frame sent back (route response): pong, unsubscribed or an error. A subscribe
posts its acknowledgement and replay itself, in order, through the management API."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.realtime.logic.subscribe import handle


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "REALTIME_TIMELINE_TABLE_NAME", "REALTIME_CONNECTIONS_TABLE_NAME")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    frame = handle(event["requestContext"]["connectionId"], event.get("body"))
    if frame is None:
        return {"statusCode": 200}
    return {"statusCode": 200, "body": json.dumps(frame, separators=(",", ":"))}
