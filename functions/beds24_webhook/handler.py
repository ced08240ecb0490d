"""POST /api/integrations/beds24/webhook: a Beds24 booking webhook, verified, stored once and queued."""

from __future__ import annotations

# First: in Lambda, importing bookinghub pauses the cyclic collector for the rest of init
# (core/coldstart.py); the imports above it would run with it on (Powertools' and pydantic's imports)
import bookinghub  # noqa: F401

# isort: split
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.beds24.logic.webhooks import receive_webhook
from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.web.resolver import json_response, make_resolver, request_body

app = make_resolver()


@app.post("/api/integrations/beds24/webhook")
@tracer.capture_method
def post_beds24_webhook() -> Any:
    request = app.current_event
    result = receive_webhook(request_body(request), request.headers, request.query_string_parameters)
    return json_response(200, {"success": True, **result})


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "BEDS24_EVENTS_QUEUE_URL", "SECRETS_KMS_KEY_ID")
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
