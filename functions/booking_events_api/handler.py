"""Seed 003's GET/POST /api/webhooks/booking-events: health/configuration and a trusted producer's events."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.delivery.logic import producer
from bookinghub.web.resolver import json_response, make_resolver, raw_body

app = make_resolver()


@app.get("/api/webhooks/booking-events")
def get_status() -> Any:
    producer.check_bearer(app.current_event.headers.get("authorization"))
    organisation = (app.current_event.query_string_parameters or {}).get("organisation_id")
    return json_response(200, {"success": True, **producer.health(organisation)})


@app.post("/api/webhooks/booking-events")
def post_event() -> Any:
    producer.check_bearer(app.current_event.headers.get("authorization"))
    event = producer.parse_event(raw_body(app.current_event))
    return json_response(202, {"success": True, **producer.accept(event)})


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "DELIVERIES_QUEUE_URL")
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
