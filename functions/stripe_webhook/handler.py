"""POST /api/webhooks/stripe: Stripe payment events -> passes (verified, once per event), queued for a pincode."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.payments.logic.stripe_webhook import receive_stripe_event
from bookinghub.web.resolver import json_response, make_resolver, request_body

app = make_resolver()


@app.post("/api/webhooks/stripe")
@tracer.capture_method
def post_stripe_event() -> Any:
    request = app.current_event
    result = receive_stripe_event(request_body(request), request.headers.get("stripe-signature"))
    return json_response(200, {"received": True, **result})


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "PASS_ISSUANCE_QUEUE_URL")
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
