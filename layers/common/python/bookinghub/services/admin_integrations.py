"""Operators register and manage their organisation's integrations (Rooms Event Hub now), and watch
the Rooms calls. Secret request headers are write-only: stored KMS-encrypted, never returned."""

from __future__ import annotations

import json
from typing import Any

from bookinghub.auth import Principal
from bookinghub.crypto import encrypt_secret
from bookinghub.dal import integrations as integration_store
from bookinghub.models.admin import IntegrationCreate, IntegrationPatch
from bookinghub.models.booking_sync import iso_now
from bookinghub.models.integrations import ROOMS_EVENT_HUB, Integration, RoomsConfig, RoomsCredentials
from bookinghub.observability import logger
from bookinghub.services import rooms_monitoring
from bookinghub.services.admin_errors import IntegrationNotFound
from bookinghub.services.admin_urls import check_outbound_url
from bookinghub.services.integrations import SECRET_HEADERS_PURPOSE, register_rooms_integration


def integration_view(integration: Integration) -> dict[str, Any]:
    view = integration.model_dump(mode="json")
    credentials = view.pop("credentials")
    view["reservation_id_prefix"] = credentials["reservation_id_prefix"]
    view["has_secret_headers"] = bool(credentials.get("secret_headers_encrypted"))
    return view


def create_integration(principal: Principal, body: IntegrationCreate) -> dict[str, Any]:
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
    return [integration_view(i) for i in ordered]


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


def update_integration(principal: Principal, integration_id: str, patch: IntegrationPatch) -> dict[str, Any]:
    current = _managed_integration(principal, integration_id)
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
