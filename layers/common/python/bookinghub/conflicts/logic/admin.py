"""Operators list and resolve conflicts, and set their organisation's rules (admin API).

Tenancy as everywhere in the admin API: another organisation's conflict does not exist for the caller
(404), a staff member sees those of their websites only, and rules are for admins. Resolving is
idempotent: the same resolution again answers the resolved conflict, a different one is 409.
"""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any

from bookinghub.beds24.dal import reservations as reservation_store
from bookinghub.beds24.logic.writeback import queue_markers, send_pending
from bookinghub.bookings.dal import admin as booking_admin_store
from bookinghub.bookings.dal import bookings as booking_store
from bookinghub.conflicts.dal import store
from bookinghub.conflicts.logic.detect import MARKERS, BookingRef, effective_rules, markers_of
from bookinghub.conflicts.logic.events import conflict_events, correction_event
from bookinghub.conflicts.logic.sources import put_event
from bookinghub.conflicts.models import (
    GROUPS,
    ConflictRecord,
    ResolveRequest,
    RulesUpdate,
    Status,
    SyncBack,
    public_conflict,
)
from bookinghub.core.auth import Principal
from bookinghub.core.clock import iso_now
from bookinghub.core.errors import DomainError, InvalidPayload, ServerError
from bookinghub.core.observability import logger

_RETRIES = 3
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DATE_FIELDS = {"activity_date", "check_out_date", "arrival", "departure"}


class ConflictNotFound(DomainError):
    code, status, message = "CONFLICT_NOT_FOUND", 404, "Conflict not found"


class ConflictAlreadyResolved(DomainError):
    code, status, message = "CONFLICT_ALREADY_RESOLVED", 409, "The conflict was already resolved otherwise"


def list_conflicts(
    principal: Principal, *, status: Status | None, booking_id: str | None, organisation_id: str | None, limit: int
) -> list[dict[str, Any]]:
    organisation = principal.scope_organisation(organisation_id)
    records = store.list_conflicts(organisation, status=status, booking_id=booking_id, limit=limit)
    return [public_conflict(r) for r in records if principal.sees_website(r.organisation_id, r.website_id)]


def _visible(principal: Principal, conflict_id: str) -> ConflictRecord:
    record = store.get_conflict(conflict_id) if _UUID.match(conflict_id) else None
    if record is None or not principal.sees_website(record.organisation_id, record.website_id):
        raise ConflictNotFound()
    return record


def get_conflict(principal: Principal, conflict_id: str) -> dict[str, Any]:
    return public_conflict(_visible(principal, conflict_id))


def get_rules(principal: Principal, organisation_id: str | None) -> dict[str, Any]:
    organisation = principal.scope_organisation(organisation_id)
    return {"organisation_id": organisation, "rules": effective_rules(store.get_rules(organisation))}


def put_rules(principal: Principal, body: RulesUpdate) -> dict[str, Any]:
    principal.require_manager()
    organisation = principal.scope_organisation(body.organisation_id)
    rules = {**effective_rules(store.get_rules(organisation)), **body.rules}
    store.put_rules(organisation, {g: rules[g] for g in GROUPS}, updated_by=principal.actor, now=iso_now())
    logger.info("conflict rules changed", extra={"organisation_id": organisation, "rules": rules})
    return {"organisation_id": organisation, "rules": rules}


# --- Resolving ---------------------------------------------------------------------------------------------


def resolve(principal: Principal, conflict_id: str, body: ResolveRequest) -> dict[str, Any]:
    for attempt in range(_RETRIES):
        record = _visible(principal, conflict_id)
        if record.status == "resolved":
            if _same_resolution(record, body):
                return public_conflict(record)  # the same request again: nothing more to do
            raise ConflictAlreadyResolved(
                details=[{"field": "choice", "message": f"resolved as {record.outcome} by {record.resolved_by}"}]
            )
        try:
            resolved = _apply(principal, record, body)
        except store.ResolutionRaced:
            time.sleep(0.05 * (attempt + 1))
            continue
        logger.info(
            "conflict resolved",
            extra={"conflict_id": conflict_id, "outcome": resolved.outcome, "by": principal.actor},
        )
        return public_conflict(resolved)
    raise ServerError("The booking is being changed concurrently; retry")


def _same_resolution(record: ConflictRecord, body: ResolveRequest) -> bool:
    outcome = {"hub": "hub_kept", "source": "source_applied", "merged": "merged"}[body.choice]
    if record.outcome != outcome:
        return False
    return body.choice != "merged" or record.resolved_value == _plain(body.value)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _check_value(record: ConflictRecord, value: Any) -> Any:
    """A merged value must be of the field's kind (that of either side) and, for dates, a date."""
    sides = [v for v in (record.hub_value, record.source_value) if v is not None]
    number = (int, float)
    ok = (
        value is None
        or not sides
        or any(
            (isinstance(value, number) and isinstance(v, number) and not isinstance(value, bool))
            or type(value) is type(v)
            for v in sides
        )
    )
    if ok and record.field in _DATE_FIELDS and value is not None:
        try:
            date.fromisoformat(str(value))
        except ValueError:
            ok = False
    if not ok or (isinstance(value, str) and len(value) > 4000):
        raise InvalidPayload(details=[{"field": "value", "message": f"not a value for {record.field}"}])
    return value


def _apply(principal: Principal, record: ConflictRecord, body: ResolveRequest) -> ConflictRecord:
    now = iso_now()
    stored = (
        booking_store.get_booking(record.booking_id)
        if record.kind == "booking"
        else reservation_store.get_reservations([record.booking_id]).get(record.booking_id)
    )
    if stored is None:
        raise ConflictNotFound()
    # A conflict found on an operator's edit (conflicts/logic/hub_edit.py) holds the operator's value in the
    # record, while the field follows the source: the source's side is what the field has now
    proposed = record.detected_on == "hub_edit"
    source_value = stored.get(record.field) if proposed else record.source_value
    if body.choice == "hub":
        value = record.hub_value if proposed else stored.get(record.field)
        outcome = "hub_kept"
    elif body.choice == "source":
        value, outcome = source_value, "source_applied"
    else:
        value, outcome = _check_value(record, body.value), "merged"
    # Websites take the hub's value on the delivery path, Beds24 through its write-back queue; PMS
    # providers' port offers no writes (yet)
    accepts_writes = record.source.startswith("website:") or record.kind == "reservation"
    sync_back: SyncBack = "not_needed" if value == source_value else ("queued" if accepts_writes else "unsupported")
    resolved = record.model_copy(
        update={
            "status": "resolved",
            "outcome": outcome,
            "resolved_value": value,
            "resolved_by": principal.actor,
            "resolved_at": now,
            "sync_back": sync_back,
        }
    )
    markers = markers_of(stored)
    if body.choice == "source" or value == source_value:
        markers.pop(record.field, None)  # hub and source agree again
    else:
        # The source's value is now the known base: the hub's differs and is synced back where it can be
        drop = ("conflict", "source", "proposed")
        marker = {k: v for k, v in markers.get(record.field, {}).items() if k not in drop}
        markers[record.field] = {**marker, "at": marker.get("at") or now, "base": source_value}
        if record.kind == "reservation":
            queue_markers(markers, [record.field], conflict_id=record.id)
    ref = BookingRef(
        kind=record.kind,
        booking_id=record.booking_id,
        organisation_id=record.organisation_id,
        website_id=record.website_id,
        source_booking_id=str(stored.get("source_booking_id") or stored.get("beds24_booking_id") or ""),
    )
    extra = [store.resolve_item(resolved)] + [put_event(e) for e in conflict_events(ref, resolved, now=now, new=False)]
    changed = {record.field: value} if stored.get(record.field) != value else {}
    if record.kind == "booking":
        event = None
        if sync_back == "queued":
            event = correction_event(ref, {record.field: value}, now=now, actor=principal.actor)
        elif changed:  # the source's own value: not echoed back to it
            event = correction_event(ref, changed, now=now, actor=principal.actor).model_copy(
                update={"origin": record.source}
            )
        set_columns = {k: v for k, v in changed.items() if v is not None}
        remove = [k for k, v in changed.items() if v is None]
        if markers:
            set_columns[MARKERS] = markers
        else:
            remove.append(MARKERS)
        try:
            booking_admin_store.apply_edit(
                stored,
                expected_version=int(stored.get("version", 0)),
                set_columns=set_columns,
                remove_columns=remove,
                updated_by=principal.actor,
                now=now,
                event=event,
                extra_items=tuple(extra),
            )
        except booking_admin_store.StaleVersion:
            raise store.ResolutionRaced() from None
    else:
        store.transact(
            [
                reservation_store.edit_item(
                    record.booking_id, changed, markers=markers, read_markers=stored.get(MARKERS), now=now
                ),
                *extra,
            ]
        )
        send_pending(record.booking_id, markers)
    return resolved
