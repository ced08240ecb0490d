"""Operators' webhook endpoints (issue 12): subscriptions, secrets, state, stats, attempts and replay.

Behind API Gateway's Cognito authorizer like the admin API; each route parses its input and calls one
function of bookinghub.delivery.logic.admin.
"""

from __future__ import annotations

# First: in Lambda, importing bookinghub pauses the cyclic collector for the rest of init
# (core/coldstart.py); the imports above it would run with it on (Powertools' and pydantic's imports)
import bookinghub  # noqa: F401

# isort: split
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.coldstart import LazyModule
from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.delivery.logic import admin
from bookinghub.web.admin import COGNITO_SECURITY, make_admin_resolver, principal_of
from bookinghub.web.resolver import json_response

if TYPE_CHECKING:
    from bookinghub.delivery.models import api
else:
    # The request bodies, at the first route that validates one (Powertools reads a route's annotations
    # when it is first resolved): the listings and reads validate none of them
    api = LazyModule("bookinghub.delivery.models.api")

app = make_admin_resolver()
TAGS = ["webhooks"]
OrganisationParam = Annotated[str | None, Query(max_length=64)]


def _ok(status: int = 200, **body: Any) -> Any:
    return json_response(status, {"success": True, **body})


@app.post("/api/webhooks/endpoints", security=COGNITO_SECURITY, tags=TAGS)
def create_endpoint(body: Annotated[api.EndpointCreate, Body()]) -> Any:
    return _ok(201, **admin.create_endpoint(principal_of(app), body))


@app.get("/api/webhooks/endpoints", security=COGNITO_SECURITY, tags=TAGS)
def list_endpoints(organisation_id: OrganisationParam = None) -> Any:
    return _ok(endpoints=admin.list_endpoints(principal_of(app), organisation_id))


@app.get("/api/webhooks/endpoints/<endpoint_id>", security=COGNITO_SECURITY, tags=TAGS)
def get_endpoint(endpoint_id: str) -> Any:
    return _ok(endpoint=admin.get_endpoint(principal_of(app), endpoint_id))


@app.patch("/api/webhooks/endpoints/<endpoint_id>", security=COGNITO_SECURITY, tags=TAGS)
def patch_endpoint(endpoint_id: str, patch: Annotated[api.EndpointPatch, Body()]) -> Any:
    return _ok(endpoint=admin.update_endpoint(principal_of(app), endpoint_id, patch))


@app.post("/api/webhooks/endpoints/<endpoint_id>/disable", security=COGNITO_SECURITY, tags=TAGS)
def disable_endpoint(endpoint_id: str) -> Any:
    return _ok(endpoint=admin.disable_endpoint(principal_of(app), endpoint_id))


@app.post("/api/webhooks/endpoints/<endpoint_id>/enable", security=COGNITO_SECURITY, tags=TAGS)
def enable_endpoint(endpoint_id: str, request: Annotated[api.EnableRequest | None, Body()] = None) -> Any:
    return _ok(**admin.enable_endpoint(principal_of(app), endpoint_id, request or api.EnableRequest()))


@app.post("/api/webhooks/endpoints/<endpoint_id>/rotate-secret", security=COGNITO_SECURITY, tags=TAGS)
def rotate_secret(endpoint_id: str) -> Any:
    return _ok(**admin.rotate_secret(principal_of(app), endpoint_id))


@app.get("/api/webhooks/endpoints/<endpoint_id>/stats", security=COGNITO_SECURITY, tags=TAGS)
def endpoint_stats(endpoint_id: str) -> Any:
    return _ok(stats=admin.stats(principal_of(app), endpoint_id))


@app.get("/api/webhooks/endpoints/<endpoint_id>/attempts", security=COGNITO_SECURITY, tags=TAGS)
def endpoint_attempts(
    endpoint_id: str,
    status_class: Annotated[Literal["2xx", "3xx", "4xx", "5xx", "error"] | None, Query()] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    found = admin.attempts(
        principal_of(app), endpoint_id, status_class=status_class, since=since, until=until, limit=limit
    )
    return _ok(attempts=found)


@app.get("/api/webhooks/endpoints/<endpoint_id>/failed", security=COGNITO_SECURITY, tags=TAGS)
def endpoint_failed(
    endpoint_id: str,
    since: Annotated[datetime, Query()],
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    return _ok(**admin.failed_deliveries(principal_of(app), endpoint_id, since, limit, cursor))


@app.post("/api/webhooks/endpoints/<endpoint_id>/recover", security=COGNITO_SECURITY, tags=TAGS)
def recover(endpoint_id: str, request: Annotated[api.RecoverRequest, Body()]) -> Any:
    return _ok(202, **admin.recover(principal_of(app), endpoint_id, request.since))


@app.get("/api/webhooks/deliveries/<delivery_id>", security=COGNITO_SECURITY, tags=TAGS)
def get_delivery(delivery_id: str) -> Any:
    return _ok(delivery=admin.get_delivery(principal_of(app), delivery_id))


@app.post("/api/webhooks/deliveries/<delivery_id>/replay", security=COGNITO_SECURITY, tags=TAGS)
def replay(delivery_id: str) -> Any:
    return _ok(202, **admin.replay_delivery(principal_of(app), delivery_id))


@app.post("/api/webhooks/retry-failed", security=COGNITO_SECURITY, tags=TAGS)
def retry_failed(request: Annotated[api.RetryFailedRequest, Body()]) -> Any:
    return _ok(202, **admin.retry_failed_webhooks(principal_of(app), request))


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "INTEGRATION_LOGS_TABLE_NAME", "DELIVERIES_QUEUE_URL", "SECRETS_KMS_KEY_ID")
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
