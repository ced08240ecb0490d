"""POST /api/bookings/sync: a source website pushes a booking change (seed 002)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.bookings.logic.sync import sync_booking
from bookinghub.core.observability import emit_metric, logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.web.resolver import make_resolver, own_json_response, request_body, request_headers, sent_as_json

app = make_resolver()


# No @tracer.capture_method here: on an exception it logs the full traceback, message included, through
# Powertools' own logger (a DynamoDB error can quote customer data). web/resolver.py logs failures masked.
@app.post("/api/bookings/sync")
def post_sync() -> Any:
    request = app.current_event
    headers = request_headers(request)  # (lower-cased names)
    result = sync_booking(headers.get("x-api-key"), request_body(request), json_body=sent_as_json(request, headers))
    emit_metric(
        f"BookingSync{result.outcome.title().replace('_', '')}", provider="website", integration_type="booking_sync"
    )
    # 200 for every accepted delivery, as in the seed; `outcome` tells created/updated/unchanged/ignored
    # and `applied_fields` / `stale_fields` which booking columns this delivery set or found already newer
    body = {
        "success": True,
        "booking_id": result.booking_id,
        "message": result.message,
        "outcome": result.outcome,
        "applied_fields": list(result.applied_fields),
        "stale_fields": list(result.stale_fields),
    }
    # Only when an operator's pending edit was met (bookinghub.conflicts): columns kept as the hub has
    # them, and those where the source's change conflicted with the edit
    if result.held_fields or result.conflict_fields:
        body.update(held_fields=list(result.held_fields), conflict_fields=list(result.conflict_fields))
    return own_json_response(200, body)  # ids, fixed messages and column names only


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "INTEGRATION_LOGS_TABLE_NAME")
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
