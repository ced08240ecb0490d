"""WebSocket $connect: the caller (admin token or website API key) is remembered on the connection.

Any answer but 200 refuses the WebSocket handshake with that status."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.errors import DomainError
from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.realtime.logic.connect import connect


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "REALTIME_CONNECTIONS_TABLE_NAME")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = event.get("requestContext") or {}
    try:
        scope = connect(request["connectionId"], event.get("queryStringParameters"), request.get("authorizer"))
    except DomainError as error:
        logger.info("realtime connection refused", extra={"code": error.code})
        return {"statusCode": error.status, "body": error.code}
    logger.info("realtime connected", extra={"kind": scope.kind, "role": scope.role})
    return {"statusCode": 200}
