"""POST /api/pms/{provider}/bookings: a PMS provider's booking webhook, checked, stored once and queued."""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.pms.logic.webhooks import receive
from bookinghub.web.resolver import json_response, make_resolver, raw_body

app = make_resolver()


@app.post("/api/pms/<provider>/bookings")
@tracer.capture_method
def post_pms_booking(provider: str) -> Any:
    request = app.current_event
    result = receive(
        provider,
        raw_body(request),
        request.headers,
        request.query_string_parameters,
        correlation_id=logger.get_correlation_id() or str(uuid.uuid4()),
    )
    return json_response(200, {"success": True, **result})


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "PMS_EVENTS_QUEUE_URL")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The caller's x-correlation-id, else API Gateway's request id: on every log line of this request
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    request_id = (event.get("requestContext") or {}).get("requestId")
    logger.set_correlation_id(headers.get("x-correlation-id") or request_id or str(uuid.uuid4()))
    return app.resolve(event, context)
