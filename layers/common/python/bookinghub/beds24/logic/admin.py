"""The operators' Beds24 API: configure properties, start syncs and reconciliations, read runs, reports
and reservations. Admins act on their organisation, superadmins on any; staff may not (403); another
organisation's property or run is 404."""

from __future__ import annotations

from typing import Any

from bookinghub.beds24.dal import properties as property_store
from bookinghub.beds24.dal import reservations as reservation_store
from bookinghub.beds24.dal import runs as run_store
from bookinghub.beds24.logic import properties
from bookinghub.beds24.logic.properties import PropertyNotFound
from bookinghub.beds24.logic.rooms import room_statuses
from bookinghub.beds24.logic.runs import start_run
from bookinghub.beds24.models.admin import PropertyCreate, PropertyPatch, ReservationEdit, SyncRequest
from bookinghub.beds24.models.entities import Beds24Property, SyncRun
from bookinghub.core.auth import Principal
from bookinghub.core.clock import iso_now
from bookinghub.core.errors import DomainError
from bookinghub.core.observability import logger
from bookinghub.core.urls import check_outbound_url

MAX_REPORT_ENTRIES = 1000


class RunNotFound(DomainError):
    code, status, message = "RUN_NOT_FOUND", 404, "Sync run not found"


def _property(principal: Principal, property_id: str, organisation_id: str | None) -> Beds24Property:
    principal.require_manager()
    organisation = principal.scope_organisation(organisation_id)
    prop = property_store.get_property(organisation, property_id)
    if prop is None or not principal.sees_organisation(prop.organisation_id):
        raise PropertyNotFound()
    return prop


def create_property(principal: Principal, body: PropertyCreate) -> dict[str, Any]:
    principal.require_manager()
    organisation = principal.scope_organisation(body.organisation_id)
    settings = body.settings()
    if "base_url" in settings:
        check_outbound_url(settings["base_url"], "base_url")
    settings.pop("name", None)
    registered = properties.register_property(
        organisation_id=organisation,
        property_id=body.property_id,
        name=body.name,
        beds24_property_id=body.beds24_property_id,
        refresh_token=body.refresh_token,
        webhook_secret=body.webhook_secret,
        **settings,
    )
    logger.info("beds24 property registered", extra={"property_id": body.property_id, "organisation_id": organisation})
    return {
        "property": properties.property_view(registered.property),
        # Shown this once: Beds24's webhook URL is <api>/api/integrations/beds24/webhook?token=<secret>
        "webhook_secret": registered.webhook_secret,
    }


def list_properties(principal: Principal, organisation_id: str | None) -> list[dict[str, Any]]:
    principal.require_manager()
    if principal.role == "superadmin" and organisation_id is None and principal.organisation_id is None:
        found = property_store.all_properties()
    else:
        found = property_store.organisation_properties(principal.scope_organisation(organisation_id))
    return [properties.property_view(p) for p in sorted(found, key=lambda p: (p.organisation_id, p.id))]


def get_property(principal: Principal, property_id: str, organisation_id: str | None) -> dict[str, Any]:
    prop = _property(principal, property_id, organisation_id)
    recent = run_store.property_events(prop.organisation_id, prop.id, 20)
    return {
        **properties.property_view(prop),
        "rooms": room_statuses(prop),
        # The audit trail of webhooks, without their payloads (guest data)
        "recent_webhooks": [{k: v for k, v in e.items() if k not in _EVENT_HIDDEN} for e in recent],
    }


# Not shown (the dal never returns storage keys): the payload (guest data) and the retention stamp
_EVENT_HIDDEN = {"payload", "expires_at"}


def update_property(
    principal: Principal, property_id: str, patch: PropertyPatch, organisation_id: str | None
) -> dict[str, Any]:
    prop = _property(principal, property_id, organisation_id)
    changes = patch.settings()
    if "base_url" in changes:
        check_outbound_url(changes["base_url"], "base_url")
    if patch.beds24_property_id is not None:
        changes["beds24_property_id"] = patch.beds24_property_id
    updated = properties.update_property(
        prop, changes, refresh_token=patch.refresh_token, webhook_secret=patch.webhook_secret
    )
    logger.info("beds24 property updated", extra={"property_id": property_id, "fields": sorted(patch.model_fields_set)})
    return properties.property_view(updated)


def request_sync(principal: Principal, body: SyncRequest) -> dict[str, Any]:
    prop = _property(principal, body.property_id, body.organisation_id)
    run = start_run(prop, body.mode, trigger="operator", requested_by=principal.actor, resync=body.resync)
    return run.model_dump(mode="json")


def _visible_run(principal: Principal, run_id: str) -> SyncRun:
    principal.require_manager()
    run = run_store.get_run(run_id) if len(run_id) <= 64 else None
    if run is None or not principal.sees_organisation(run.organisation_id):
        raise RunNotFound()
    return run


def list_runs(principal: Principal, property_id: str, organisation_id: str | None, limit: int) -> list[dict[str, Any]]:
    prop = _property(principal, property_id, organisation_id)
    return [run.model_dump(mode="json") for run in run_store.property_runs(prop.organisation_id, prop.id, limit)]


def get_run(principal: Principal, run_id: str, limit: int) -> dict[str, Any]:
    run = _visible_run(principal, run_id)
    view = run.model_dump(mode="json")
    if run.mode == "reconcile":
        entries = run_store.report_entries(run_id, min(limit, MAX_REPORT_ENTRIES) + 1)
        view["report_entries"] = entries[:limit]
        view["report_truncated"] = len(entries) > limit
    return view


def list_reservations(
    principal: Principal,
    property_id: str,
    organisation_id: str | None,
    *,
    arrival_from: str,
    arrival_to: str,
    limit: int,
) -> list[dict[str, Any]]:
    prop = _property(principal, property_id, organisation_id)
    found = []
    for reservation in reservation_store.property_reservations(
        prop.organisation_id, prop.id, arrival_from=arrival_from, arrival_to=arrival_to
    ):
        found.append(reservation)
        if len(found) >= limit:
            break
    return found


def edit_reservation(
    principal: Principal, reservation_id: str, edit: ReservationEdit, organisation_id: str | None
) -> dict[str, Any]:
    """An operator's change to a reservation: each changed field is marked pending (bookinghub.conflicts)
    and queued for the write-back to Beds24 (logic/writeback.py); Beds24's own change to it meanwhile is a
    conflict, settled by the rule."""
    # The write-back and the conflict rules at the first edit: no other route needs them at init (the
    # write-back brings the Beds24 client's call log, the conflict store and the registry's models)
    from bookinghub.beds24.logic.writeback import queue_markers, send_pending
    from bookinghub.conflicts.logic.detect import MARKERS, mark_hub_edit
    from bookinghub.conflicts.logic.hub_edit import plan_versioned_reservation_edit

    principal.require_manager()
    organisation = principal.scope_organisation(organisation_id)
    stored = reservation_store.get_reservations([reservation_id]).get(reservation_id)
    if stored is None or stored.get("organisation_id") != organisation or stored.get("deleted"):
        raise ReservationNotFound()
    changed = {k: v for k, v in edit.fields().items() if stored.get(k) != v}
    now = iso_now()
    extra: list[dict[str, Any]] = []
    conflict_fields: list[str] = []
    if edit.version is not None:
        plan, extra = plan_versioned_reservation_edit(stored, changed, edit.version, actor=principal.actor, now=now)
        changed, markers, conflict_fields = plan.apply, plan.markers, plan.conflict_fields
        for record in plan.records:  # the hub's value kept by the rule: its write-back settles the record
            if record.sync_back == "queued":
                queue_markers(markers, [record.field], conflict_id=record.id)
    else:  # unversioned: last writer wins (logged below)
        markers = mark_hub_edit(stored, changed, kind="reservation", actor=principal.actor, now=now)
    if not changed and not extra:
        return {"reservation": stored, "changed_fields": []}
    queue_markers(markers, [name for name in changed if name in markers])
    item = reservation_store.edit_item(
        reservation_id,
        changed,
        markers=markers,
        read_markers=stored.get(MARKERS) or None,
        now=now,
        updated_by=principal.actor,
        read_content=str(stored.get("content_hash")),
    )
    try:
        reservation_store.apply_edit(item, extra)
    except reservation_store.EditRaced:
        raise ReservationChanged() from None
    send_pending(reservation_id, markers)
    facts = {"reservation_id": reservation_id, "changed_fields": sorted(changed), "conflict_fields": conflict_fields}
    if edit.version is None:
        logger.warning("reservation edited without a version: last writer wins", extra=facts)
    else:
        logger.info("reservation edited", extra=facts)
    updated = reservation_store.get_reservations([reservation_id]).get(reservation_id) or {}
    answer: dict[str, Any] = {"reservation": updated, "changed_fields": sorted(changed)}
    return answer | ({"conflict_fields": conflict_fields} if conflict_fields else {})


class ReservationNotFound(DomainError):
    code, status, message = "RESERVATION_NOT_FOUND", 404, "Reservation not found"


class ReservationChanged(DomainError):
    code, status, message = "VERSION_CONFLICT", 409, "The reservation changed meanwhile (a sync); reload and retry"
