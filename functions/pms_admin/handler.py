"""The operators' PMS API (Cognito): hotels' configurations, manual syncs and their sync logs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.pms.logic import hotels
from bookinghub.pms.models import Slug
from bookinghub.pms.models.config import ConfigurationCreate, ConfigurationPatch
from bookinghub.pms.models.sync import SyncRequest
from bookinghub.web.admin import COGNITO_SECURITY, make_admin_resolver, principal_of
from bookinghub.web.resolver import json_response

app = make_admin_resolver()
OrganisationParam = Annotated[str | None, Query(max_length=64)]
TAGS = ["pms"]


def _ok(status: int = 200, **body: Any) -> Any:
    return json_response(status, {"success": True, **body})


def _sync_logic() -> Any:
    """The PMS sync's logic, imported by the sync routes only: it brings the booking mapping and guest
    matching (phone numbers), which listing or changing configurations never needs at init."""
    from bookinghub.pms.logic import sync

    return sync


@app.post("/api/pms/configurations", security=COGNITO_SECURITY, tags=TAGS)
def post_configuration(body: Annotated[ConfigurationCreate, Body()]) -> Any:
    return _ok(201, configuration=hotels.create(principal_of(app), body))


@app.get("/api/pms/configurations", security=COGNITO_SECURITY, tags=TAGS)
def get_configurations(organisation_id: OrganisationParam = None) -> Any:
    return _ok(configurations=hotels.listing(principal_of(app), organisation_id))


@app.get("/api/pms/configurations/<hotel_slug>", security=COGNITO_SECURITY, tags=TAGS)
def get_configuration(hotel_slug: str) -> Any:
    return _ok(configuration=hotels.detail(principal_of(app), hotel_slug))


@app.patch("/api/pms/configurations/<hotel_slug>", security=COGNITO_SECURITY, tags=TAGS)
def patch_configuration(hotel_slug: str, patch: Annotated[ConfigurationPatch, Body()]) -> Any:
    return _ok(configuration=hotels.update(principal_of(app), hotel_slug, patch))


@app.delete("/api/pms/configurations/<hotel_slug>", security=COGNITO_SECURITY, tags=TAGS)
def delete_configuration(hotel_slug: str) -> Any:
    """Disables (the configuration and its sync logs stay, for the record) and removes its sync schedule."""
    return _ok(configuration=hotels.disable(principal_of(app), hotel_slug))


HotelQuery = Annotated[Slug | None, Query()]


def _sync(entity: Literal["bookings", "rooms", "guests"], body: SyncRequest, hotel_slug: str | None) -> Any:
    if hotel_slug and not (body.hotel_slug or body.hotel):
        body = body.model_copy(update={"hotel_slug": hotel_slug})
    status, answer = _sync_logic().start_sync(principal_of(app), entity, body)
    return json_response(status, answer)


@app.post("/api/pms/sync/bookings", security=COGNITO_SECURITY, tags=TAGS)
def post_sync_bookings(body: Annotated[SyncRequest, Body()], hotel_slug: HotelQuery = None) -> Any:
    return _sync("bookings", body, hotel_slug)


@app.post("/api/pms/sync/rooms", security=COGNITO_SECURITY, tags=TAGS)
def post_sync_rooms(body: Annotated[SyncRequest, Body()], hotel_slug: HotelQuery = None) -> Any:
    return _sync("rooms", body, hotel_slug)


@app.post("/api/pms/sync/guests", security=COGNITO_SECURITY, tags=TAGS)
def post_sync_guests(body: Annotated[SyncRequest, Body()], hotel_slug: HotelQuery = None) -> Any:
    return _sync("guests", body, hotel_slug)


@app.get("/api/pms/sync-logs/<sync_log_id>", security=COGNITO_SECURITY, tags=TAGS)
def get_sync_log(sync_log_id: str) -> Any:
    return _ok(syncLog=_sync_logic().read_log(principal_of(app), sync_log_id))


@app.get("/api/pms/sync-logs", security=COGNITO_SECURITY, tags=TAGS)
def get_sync_logs(hotel_slug: Annotated[Slug, Query()], limit: Annotated[int, Query(ge=1, le=100)] = 20) -> Any:
    return _ok(syncLogs=_sync_logic().hotel_logs(principal_of(app), hotel_slug, limit))


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "INTEGRATION_LOGS_TABLE_NAME", "PMS_SYNC_QUEUE_URL", "SECRETS_KMS_KEY_ID")
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
