"""GET /api/passes/{pass_id} and GET /api/passes?payment_intent=pi_...: a pass and its pincode, for the
websites of the pass's organisation (X-API-Key).

The answer carries the pincode: the topology sets POWERTOOLS_TRACER_CAPTURE_RESPONSE=false for this
function so the tracer never copies it into X-Ray metadata."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.payments.logic.passes import find_pass, get_pass
from bookinghub.payments.models import PassView
from bookinghub.web.resolver import json_response, make_resolver

app = make_resolver()


def _answer(view: PassView) -> Any:
    return json_response(200, {"success": True, "pass": view.model_dump(mode="json")})


@app.get("/api/passes/<pass_id>")
@tracer.capture_method
def get_one(pass_id: str) -> Any:
    return _answer(get_pass(app.current_event.headers.get("x-api-key"), pass_id))


@app.get("/api/passes")
@tracer.capture_method
def find_one() -> Any:
    request = app.current_event
    return _answer(find_pass(request.headers.get("x-api-key"), request.query_string_parameters))


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "SECRETS_KMS_KEY_ID")
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
