"""The operators' Beds24 API (Cognito): properties, sync/reconcile runs, reports and reservations.

Every route sits behind API Gateway's Cognito authorizer; the caller's verified claims become a Principal
(bookinghub.core.auth). Each route validates its input (Powertools validation against the models) and calls
one service function.
"""

from __future__ import annotations

# First: in Lambda, importing bookinghub pauses the cyclic collector for the rest of init
# (core/coldstart.py); the imports above it would run with it on (~20 ms of collections in Powertools'
# and pydantic's imports)
import bookinghub  # noqa: F401

# isort: split
from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.beds24.logic import admin as beds24_admin
from bookinghub.beds24.models.admin import PropertyCreate, PropertyPatch, ReservationEdit, SyncRequest
from bookinghub.beds24.models.entities import PropertySlug
from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.web.admin import COGNITO_SECURITY, OrganisationParam, make_admin_resolver, ok, principal_of

app = make_admin_resolver()
PropertyParam = Annotated[PropertySlug, Query()]
TAGS = ["beds24"]


@app.post("/api/integrations/beds24/properties", security=COGNITO_SECURITY, tags=TAGS)
def post_property(body: Annotated[PropertyCreate, Body()]) -> Any:
    return ok(201, **beds24_admin.create_property(principal_of(app), body))


@app.get("/api/integrations/beds24/properties", security=COGNITO_SECURITY, tags=TAGS)
def get_properties(organisation_id: OrganisationParam = None) -> Any:
    return ok(properties=beds24_admin.list_properties(principal_of(app), organisation_id))


@app.get("/api/integrations/beds24/properties/<property_id>", security=COGNITO_SECURITY, tags=TAGS)
def get_property(property_id: str, organisation_id: OrganisationParam = None) -> Any:
    return ok(property=beds24_admin.get_property(principal_of(app), property_id, organisation_id))


@app.patch("/api/integrations/beds24/properties/<property_id>", security=COGNITO_SECURITY, tags=TAGS)
def patch_property(
    property_id: str, patch: Annotated[PropertyPatch, Body()], organisation_id: OrganisationParam = None
) -> Any:
    return ok(property=beds24_admin.update_property(principal_of(app), property_id, patch, organisation_id))


@app.post("/api/integrations/beds24/sync", security=COGNITO_SECURITY, tags=TAGS)
def post_sync(body: Annotated[SyncRequest, Body()]) -> Any:
    return ok(202, run=beds24_admin.request_sync(principal_of(app), body))


@app.get("/api/integrations/beds24/runs", security=COGNITO_SECURITY, tags=TAGS)
def get_runs(
    property_id: PropertyParam,
    organisation_id: OrganisationParam = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    return ok(runs=beds24_admin.list_runs(principal_of(app), property_id, organisation_id, limit))


@app.get("/api/integrations/beds24/runs/<run_id>", security=COGNITO_SECURITY, tags=TAGS)
def get_run(run_id: str, limit: Annotated[int, Query(ge=1, le=beds24_admin.MAX_REPORT_ENTRIES)] = 200) -> Any:
    return ok(run=beds24_admin.get_run(principal_of(app), run_id, limit))


@app.get("/api/integrations/beds24/reservations", security=COGNITO_SECURITY, tags=TAGS)
def get_reservations(
    property_id: PropertyParam,
    arrival_from: Annotated[date, Query()],
    arrival_to: Annotated[date, Query()],
    organisation_id: OrganisationParam = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    reservations = beds24_admin.list_reservations(
        principal_of(app),
        property_id,
        organisation_id,
        arrival_from=arrival_from.isoformat(),
        arrival_to=arrival_to.isoformat(),
        limit=limit,
    )
    return ok(reservations=reservations)


@app.patch("/api/integrations/beds24/reservations/<reservation_id>", security=COGNITO_SECURITY, tags=TAGS)
def patch_reservation(
    reservation_id: str, edit: Annotated[ReservationEdit, Body()], organisation_id: OrganisationParam = None
) -> Any:
    return ok(**beds24_admin.edit_reservation(principal_of(app), reservation_id, edit, organisation_id))


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "BEDS24_SYNC_QUEUE_URL", "BEDS24_WRITES_QUEUE_URL", "SECRETS_KMS_KEY_ID")
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
