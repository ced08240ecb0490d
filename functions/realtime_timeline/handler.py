"""GET /api/bookings/{booking_id}/events: a booking's real-time timeline (the seed's events component),
for operators under the admin API's tenancy (Cognito); `after` is the last sequence already held."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.realtime.logic.scope import Scope
from bookinghub.realtime.logic.timeline import booking_timeline
from bookinghub.realtime.models import TIMELINE_DAYS
from bookinghub.web.admin import COGNITO_SECURITY, make_admin_resolver, principal_of
from bookinghub.web.resolver import json_response

app = make_admin_resolver()
After = Annotated[int, Query(ge=0, le=10**9)]  # the last sequence the caller already has


@app.get("/api/bookings/<booking_id>/events", security=COGNITO_SECURITY, tags=["bookings"])
def booking_events(booking_id: str, after: After = 0) -> Any:
    scope = Scope.of_operator(principal_of(app))
    events = booking_timeline(scope, booking_id, after)
    return json_response(
        200,
        {
            "success": True,
            "booking_id": booking_id,
            "window_days": TIMELINE_DAYS,
            "events": [
                {
                    "id": e.id,
                    "booking_id": e.booking_id,
                    "sequence": e.sequence,
                    "event_type": e.event_type,
                    "occurred_at": e.occurred_at,
                    "data": e.data,
                }
                for e in events
            ],
        },
    )


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME")
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
