"""Operators register and manage their organisation's integrations, and watch the Rooms calls.

Two kinds share the registry's routes: Rooms Event Hub integrations (here) and Beds24 properties
(services/beds24_admin.py, also reachable at /api/integrations/beds24/properties). Secrets are
write-only: stored KMS-encrypted, never returned."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import ValidationError

from bookinghub.aws.kms import encrypt_secret
from bookinghub.beds24.models.admin import Beds24IntegrationCreate, PropertyPatch
from bookinghub.core.auth import Principal
from bookinghub.core.clock import iso_now
from bookinghub.core.errors import IntegrationNotFound, InvalidPayload
from bookinghub.core.observability import logger
from bookinghub.core.urls import check_outbound_url
from bookinghub.registry.dal import integrations as integration_store
from bookinghub.registry.logic.registry import SECRET_HEADERS_PURPOSE, register_rooms_integration
from bookinghub.registry.models import (
    ROOMS_EVENT_HUB,
    Integration,
    IntegrationCreate,
    IntegrationPatch,
    RoomsConfig,
    RoomsCredentials,
)
from bookinghub.rooms.logic import monitoring as rooms_monitoring

PatchModel = TypeVar("PatchModel", IntegrationPatch, PropertyPatch)


def integration_view(integration: Integration) -> dict[str, Any]:
    view = integration.model_dump(mode="json")
    credentials = view.pop("credentials")
    view["reservation_id_prefix"] = credentials["reservation_id_prefix"]
    view["has_secret_headers"] = bool(credentials.get("secret_headers_encrypted"))
    return view


def create_integration(principal: Principal, body: IntegrationCreate | Beds24IntegrationCreate) -> dict[str, Any]:
    """The answer's fields: the integration's view (and a generated secret, shown this once)."""
    if isinstance(body, Beds24IntegrationCreate):
        from bookinghub.beds24.logic import admin as beds24_admin  # see list_integrations

        created = beds24_admin.create_property(principal, body.property_body())
        return {"integration": beds24_view(created["property"]), "webhook_secret": created["webhook_secret"]}
    return {"integration": _create_rooms(principal, body)}


def _create_rooms(principal: Principal, body: IntegrationCreate) -> dict[str, Any]:
    principal.require_manager()
    organisation = principal.scope_organisation(body.organisation_id)
    check_outbound_url(body.config.base_url, "config.base_url")
    integration = register_rooms_integration(
        organisation_id=organisation,
        name=body.name,
        base_url=body.config.base_url,
        webhook_path=body.config.webhook_path,
        property_id=body.config.property_id,
        reservation_id_prefix=body.reservation_id_prefix,
        secret_headers=body.secret_headers or None,
        status=body.status,
    )
    logger.info("integration registered", extra={"integration_id": integration.id, "organisation_id": organisation})
    return integration_view(integration)


def list_integrations(principal: Principal, organisation_id: str | None) -> list[dict[str, Any]]:
    principal.require_manager()
    if principal.role == "superadmin" and organisation_id is None and principal.organisation_id is None:
        integrations = integration_store.integrations_of_type(ROOMS_EVENT_HUB)
    else:
        organisation = principal.scope_organisation(organisation_id)
        integrations = integration_store.organisation_integrations(organisation, ROOMS_EVENT_HUB)
    ordered = sorted(integrations, key=lambda i: (i.organisation_id, i.created_at, i.id))
    rooms = [integration_view(i) for i in ordered]
    # Imported at first use: Beds24's admin logic (its client, sync and property store) costs ~30 ms of
    # the admin API's cold start, and most admin requests are not about integrations
    from bookinghub.beds24.logic import admin as beds24_admin

    return rooms + [beds24_view(p) for p in beds24_admin.list_properties(principal, organisation_id)]


def beds24_view(property_view: dict[str, Any]) -> dict[str, Any]:
    """A Beds24 property as one of the registry's integrations (its id is the property id)."""
    return {"integration_type": "beds24", **property_view}


def _managed_integration(principal: Principal, integration_id: str) -> Integration:
    principal.require_manager()
    if principal.role == "superadmin":
        candidates = integration_store.integrations_of_type(ROOMS_EVENT_HUB)
    else:
        candidates = integration_store.organisation_integrations(str(principal.organisation_id), ROOMS_EVENT_HUB)
    found = next((i for i in candidates if i.id == integration_id), None)
    if found is None or not principal.sees_organisation(found.organisation_id):
        raise IntegrationNotFound()
    return found


def update_integration(
    principal: Principal,
    integration_id: str,
    patch: IntegrationPatch | PropertyPatch,
    organisation_id: str | None = None,
) -> dict[str, Any]:
    """A Rooms integration by its id, or else a Beds24 property by its property id; the body must be a
    valid change of that kind (the fields it names are validated again against it)."""
    fields = patch.model_dump(exclude_unset=True)
    try:
        current = _managed_integration(principal, integration_id)
    except IntegrationNotFound:
        beds24_patch = _as(PropertyPatch, fields)
        from bookinghub.beds24.logic import admin as beds24_admin  # see list_integrations

        try:
            updated = beds24_admin.update_property(principal, integration_id, beds24_patch, organisation_id)
        except beds24_admin.PropertyNotFound:
            raise IntegrationNotFound() from None
        return beds24_view(updated)
    return _update_rooms(current, _as(IntegrationPatch, fields))


def _as(model: type[PatchModel], fields: dict[str, Any]) -> PatchModel:
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        details = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]} for e in error.errors()]
        raise InvalidPayload("These fields do not apply to this integration", details=details) from None


def _update_rooms(current: Integration, patch: IntegrationPatch) -> dict[str, Any]:
    integration_id = current.id
    config = current.config
    if patch.config is not None:
        check_outbound_url(patch.config.base_url, "config.base_url")
        config = RoomsConfig(**patch.config.model_dump())
    credentials = current.credentials
    if patch.reservation_id_prefix is not None:
        credentials = credentials.model_copy(update={"reservation_id_prefix": patch.reservation_id_prefix})
    if patch.secret_headers is not None:
        encrypted = (
            encrypt_secret(json.dumps(patch.secret_headers), purpose=SECRET_HEADERS_PURPOSE, owner=current.id)
            if patch.secret_headers
            else None
        )
        credentials = RoomsCredentials(
            reservation_id_prefix=credentials.reservation_id_prefix, secret_headers_encrypted=encrypted
        )
    updated = current.model_copy(
        update={
            "name": patch.name if patch.name is not None else current.name,
            "status": patch.status if patch.status is not None else current.status,
            "config": config,
            "credentials": credentials,
            "updated_at": iso_now(),
        }
    )
    integration_store.put_integration(updated)
    logger.info(
        "integration updated", extra={"integration_id": integration_id, "fields": sorted(patch.model_fields_set)}
    )
    return integration_view(updated)


# --- Rooms monitoring (the seed's three queries), scoped to what the caller may see -------------------


def rooms_status(principal: Principal) -> list[dict[str, Any]]:
    principal.require_manager()
    return [row for row in rooms_monitoring.integration_status() if principal.sees_organisation(row["organisation_id"])]


def rooms_calls(principal: Principal, limit: int, *, failed: bool) -> list[dict[str, Any]]:
    principal.require_manager()
    rows = rooms_monitoring.failed_calls(limit) if failed else rooms_monitoring.recent_calls(limit)
    return [row for row in rows if principal.sees_organisation(str(row.get("organisation_id")))]
