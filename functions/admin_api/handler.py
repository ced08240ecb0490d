"""The admin API (seed 002 dashboard): bookings, websites, integrations, Rooms monitoring, test webhooks.

Every route but the OpenAPI document sits behind API Gateway's Cognito authorizer: the caller's claims
arrive verified in requestContext.authorizer.claims and bookinghub.core.auth turns them into a Principal.
Each route parses its input (Powertools validation against the models, which also makes the OpenAPI
document) and calls one service function.
"""

from __future__ import annotations

# First: in Lambda, importing bookinghub pauses the cyclic collector for the rest of init
# (core/coldstart.py); the imports above it would run with it on (~20 ms of collections in Powertools'
# and pydantic's imports)
import bookinghub  # noqa: F401

# isort: split
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from bookinghub.bookings.logic import admin as admin_bookings
from bookinghub.bookings.models.fields import BookingStatus
from bookinghub.core.coldstart import LazyModule
from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.web.admin import (
    COGNITO_SECURITY,
    OrganisationParam,
    make_admin_resolver,
    ok,
    openapi_document,
    principal_of,
)
from bookinghub.web.resolver import json_response
from bookinghub.websites.models import WebsiteCreate, WebsitePatch

if TYPE_CHECKING:
    from bookinghub.beds24.models import admin as beds24_models
    from bookinghub.bookings.models import admin as booking_models
    from bookinghub.conflicts import models as conflict_models
    from bookinghub.registry import models as registry_models
else:
    # The models of the edit, test-webhook, conflict and integration routes, at the first of those routes
    # (Powertools reads a route's annotations when it is first resolved; their logic is imported in the
    # routes): a booking listing validates with none of them (~30 ms of init)
    beds24_models = LazyModule("bookinghub.beds24.models.admin")
    booking_models = LazyModule("bookinghub.bookings.models.admin")
    conflict_models = LazyModule("bookinghub.conflicts.models")
    registry_models = LazyModule("bookinghub.registry.models")

app = make_admin_resolver()
Limit = Annotated[int, Query(ge=1, le=admin_bookings.MAX_LIMIT)]


# --- Bookings ----------------------------------------------------------------------------------------


@app.get("/api/bookings", security=COGNITO_SECURITY, tags=["bookings"])
def list_bookings(
    website_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[BookingStatus | None, Query()] = None,
    activity_date_from: Annotated[date | None, Query()] = None,
    activity_date_to: Annotated[date | None, Query()] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=254)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Limit = admin_bookings.DEFAULT_LIMIT,
    organisation_id: OrganisationParam = None,
) -> Any:
    filters = admin_bookings.BookingFilters(
        website_id, status, activity_date_from, activity_date_to, q, cursor, limit, organisation_id
    )
    page = admin_bookings.list_bookings(principal_of(app), filters)
    return ok(bookings=page.bookings, next_cursor=page.next_cursor)


@app.get("/api/bookings/<booking_id>", security=COGNITO_SECURITY, tags=["bookings"])
def get_booking(booking_id: str) -> Any:
    booking = admin_bookings.get_booking(principal_of(app), booking_id)
    return _with_etag(ok(booking=booking), booking)


@app.put("/api/bookings/<booking_id>", security=COGNITO_SECURITY, tags=["bookings"])
def put_booking(
    booking_id: str,
    edit: Annotated[booking_models.BookingEdit, Body()],
    if_match: Annotated[str | None, Header(alias="If-Match", max_length=64)] = None,
) -> Any:
    result = admin_bookings.edit_booking(principal_of(app), booking_id, edit, if_match)
    extra: dict[str, Any] = {"conflict_fields": result.conflict_fields} if result.conflict_fields else {}
    response = ok(booking=result.booking, changed_fields=result.changed_fields, event_id=result.event_id, **extra)
    return _with_etag(response, result.booking)


def _with_etag(response: Any, booking: dict[str, Any]) -> Any:
    """The booking's version as its ETag: what If-Match (or the body's `version`) takes back."""
    response.headers["ETag"] = f'"{booking.get("version", "")}"'
    return response


@app.post("/api/admin/test-webhook", security=COGNITO_SECURITY, tags=["bookings"])
def post_test_webhook(request: Annotated[booking_models.TestWebhookRequest, Body()]) -> Any:
    # Sent now, as the requested event; the answer is that attempt's result (a retry goes on as scheduled).
    # Delivery's logic (dispatch, its stores, HTTP) is imported here, at first use: ~35 ms of cold start
    # that no other admin route needs.
    from bookinghub.delivery.logic import admin as delivery_admin

    sent = delivery_admin.send_test_webhook(principal_of(app), request)
    return ok(event_id=sent.event_id, delivery_id=sent.delivery_id, result=sent.report)


# --- Websites ----------------------------------------------------------------------------------------


def _websites() -> Any:
    """The websites' logic, imported by the website routes only (key generation, the registry's
    writes): a booking listing does not need it at init."""
    from bookinghub.websites.logic import admin

    return admin


@app.post("/api/websites", security=COGNITO_SECURITY, tags=["websites"])
def post_website(body: Annotated[WebsiteCreate, Body()]) -> Any:
    created = _websites().create_website(principal_of(app), body)
    # The only answer that ever carries the key and the secret
    return ok(201, website=created.website, api_key=created.api_key, webhook_secret=created.webhook_secret)


@app.get("/api/websites", security=COGNITO_SECURITY, tags=["websites"])
def get_websites(organisation_id: OrganisationParam = None) -> Any:
    return ok(websites=_websites().list_websites(principal_of(app), organisation_id))


@app.patch("/api/websites/<website_id>", security=COGNITO_SECURITY, tags=["websites"])
def patch_website(website_id: str, patch: Annotated[WebsitePatch, Body()]) -> Any:
    return ok(website=_websites().update_website(principal_of(app), website_id, patch))


@app.post("/api/websites/<website_id>/rotate-key", security=COGNITO_SECURITY, tags=["websites"])
def rotate_website_key(website_id: str) -> Any:
    rotated = _websites().rotate_key(principal_of(app), website_id)
    return ok(api_key=rotated.api_key, previous_key_expires_at=rotated.previous_key_expires_at)


# --- Integrations ------------------------------------------------------------------------------------


def _integrations() -> Any:
    """The registry's admin logic (KMS secrets, Rooms monitoring), imported by the integration routes only."""
    from bookinghub.registry.logic import admin

    return admin


@app.post("/api/integrations", security=COGNITO_SECURITY, tags=["integrations"])
def post_integration(
    # Rooms Event Hub or Beds24, told apart by integration_type
    body: Annotated[
        registry_models.IntegrationCreate | beds24_models.Beds24IntegrationCreate,
        Field(discriminator="integration_type"),
        Body(),
    ],
) -> Any:
    return ok(201, **_integrations().create_integration(principal_of(app), body))


@app.get("/api/integrations", security=COGNITO_SECURITY, tags=["integrations"])
def get_integrations(organisation_id: OrganisationParam = None) -> Any:
    return ok(integrations=_integrations().list_integrations(principal_of(app), organisation_id))


@app.patch("/api/integrations/<integration_id>", security=COGNITO_SECURITY, tags=["integrations"])
def patch_integration(
    integration_id: str,
    patch: Annotated[registry_models.IntegrationPatch | beds24_models.PropertyPatch, Body()],
    organisation_id: OrganisationParam = None,
) -> Any:
    updated = _integrations().update_integration(principal_of(app), integration_id, patch, organisation_id)
    return ok(integration=updated)


@app.get("/api/integrations/rooms/status", security=COGNITO_SECURITY, tags=["monitoring"])
def rooms_status() -> Any:
    return ok(integrations=_integrations().rooms_status(principal_of(app)))


@app.get("/api/integrations/rooms/calls", security=COGNITO_SECURITY, tags=["monitoring"])
def rooms_calls(limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Any:
    return ok(calls=_integrations().rooms_calls(principal_of(app), limit, failed=False))


@app.get("/api/integrations/rooms/calls/failed", security=COGNITO_SECURITY, tags=["monitoring"])
def rooms_failed_calls(limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Any:
    return ok(calls=_integrations().rooms_calls(principal_of(app), limit, failed=True))


# --- Conflicts (a source and the hub changed the same field) ------------------------------------------


def _conflicts() -> Any:
    """The conflicts' logic, imported by the conflict routes only: it brings Beds24's write-back (its
    client, properties, queues), which no booking or website route needs at init."""
    from bookinghub.conflicts.logic import admin

    return admin


@app.get("/api/conflicts", security=COGNITO_SECURITY, tags=["conflicts"])
def list_conflicts(
    status: Annotated[conflict_models.Status | None, Query()] = None,
    booking_id: Annotated[str | None, Query(pattern=r"^[0-9a-f-]{36}$")] = None,
    organisation_id: OrganisationParam = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    conflicts = _conflicts().list_conflicts(
        principal_of(app), status=status, booking_id=booking_id, organisation_id=organisation_id, limit=limit
    )
    return ok(conflicts=conflicts)


@app.get("/api/conflicts/rules", security=COGNITO_SECURITY, tags=["conflicts"])
def get_conflict_rules(organisation_id: OrganisationParam = None) -> Any:
    return ok(**_conflicts().get_rules(principal_of(app), organisation_id))


@app.put("/api/conflicts/rules", security=COGNITO_SECURITY, tags=["conflicts"])
def put_conflict_rules(body: Annotated[conflict_models.RulesUpdate, Body()]) -> Any:
    return ok(**_conflicts().put_rules(principal_of(app), body))


@app.get("/api/conflicts/<conflict_id>", security=COGNITO_SECURITY, tags=["conflicts"])
def get_conflict(conflict_id: str) -> Any:
    return ok(conflict=_conflicts().get_conflict(principal_of(app), conflict_id))


@app.post("/api/conflicts/<conflict_id>/resolve", security=COGNITO_SECURITY, tags=["conflicts"])
def resolve_conflict(conflict_id: str, body: Annotated[conflict_models.ResolveRequest, Body()]) -> Any:
    return ok(conflict=_conflicts().resolve(principal_of(app), conflict_id, body))


# --- The API's own description -----------------------------------------------------------------------


@app.get("/api/openapi.json", include_in_schema=False)
def get_openapi() -> Any:
    return json_response(200, openapi_document(app))


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings(
    "BOOKINGS_TABLE_NAME",
    "INTEGRATION_LOGS_TABLE_NAME",
    "DELIVERIES_QUEUE_URL",
    "BEDS24_WRITES_QUEUE_URL",
    "SECRETS_KMS_KEY_ID",
)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
