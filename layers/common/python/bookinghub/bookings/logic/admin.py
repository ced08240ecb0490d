"""Operators list, read and edit bookings (seed 002 dashboard: GET /api/bookings, GET/PUT /api/bookings/{id}).

Lists are served from the Bookings* indexes (bookings/dal/admin.py plans which): a website's bookings
from its BookingsByWebsiteStatus partitions ({website_id}#{status}: a status filter is a key), an
organisation's from its websites' partitions; a customer name by prefix from BookingsByName; a customer
email, a booking ref or a name substring by a filter on the entries of the caller's own partitions. An edit that
names the version it was made on (body or If-Match) is applied only if the booking is still at that
version (else 409); one that names none is applied to the booking as it is (the seed's contract: last
writer wins, logged as a warning). Every edit records who made it and stamps its domain event (only
the changed fields) on the booking in the same write; the outbox relay builds the event from the
stream and the booking_events consumer delivers it to the website's webhook, signed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, cast, get_args

from bookinghub.bookings.dal import admin as store
from bookinghub.bookings.dal import bookings as booking_store
from bookinghub.bookings.models.events import BookingDomainEvent, BookingEventType
from bookinghub.conflicts.attributes import HUB_VERSION_PREFIX, MARKERS
from bookinghub.core.auth import Principal
from bookinghub.core.clock import iso_now
from bookinghub.core.errors import (
    BookingNotFound,
    InvalidPayload,
    InvalidQuery,
    VersionConflict,
    WebsiteNotFound,
)
from bookinghub.core.observability import logger
from bookinghub.websites.dal.admin import get_website_record

if TYPE_CHECKING:
    from bookinghub.bookings.models.admin import BookingEdit

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
# An edit without a version that keeps losing races with concurrent writes gives up with 409
_UNVERSIONED_RETRIES = 3
# Storage attributes that are not part of a booking as operators see it
# The sync's bookkeeping, not part of a booking as operators see it (the dal never returns storage keys)
_HIDDEN = {"order_key", "last_payload_hash", "created_payload_hash", MARKERS}
_PER_COLUMN = (booking_store.FIELD_KEY_PREFIX, booking_store.SOURCE_VERSION_PREFIX, HUB_VERSION_PREFIX)
_SORT_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}#[0-9a-f-]{36}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# The columns an operator edits; a manual test webhook sends their current values
EDITABLE_COLUMNS = (
    "status",
    "activity_date",
    "time_slot",
    "guest_count",
    "customer_name",
    "customer_email",
    "customer_phone",
    "customer_country_code",
    "transport_type",
    "hotel_name",
    "room_number",
    "non_players",
    "private_passengers",
    "transport_cost",
    "special_requests",
    "admin_notes",
)


@dataclass(frozen=True)
class BookingFilters:
    website_id: str | None = None
    status: str | None = None
    activity_date_from: date | None = None
    activity_date_to: date | None = None
    q: str | None = None
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT
    organisation_id: str | None = None


@dataclass(frozen=True)
class BookingPage:
    bookings: list[dict[str, Any]]
    next_cursor: str | None


def booking_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in sorted(item.items())
        if k not in _HIDDEN and not k.startswith(_PER_COLUMN)  # per-column order keys and versions
    }


# --- Reads -------------------------------------------------------------------------------------------


def list_bookings(principal: Principal, filters: BookingFilters) -> BookingPage:
    if not 1 <= filters.limit <= MAX_LIMIT:
        raise _query_error("limit", f"must be between 1 and {MAX_LIMIT}")
    date_from = filters.activity_date_from.isoformat() if filters.activity_date_from else None
    date_to = filters.activity_date_to.isoformat() if filters.activity_date_to else None
    if date_from and date_to and date_from > date_to:
        raise _query_error("activity_date_from", "must not be after activity_date_to")
    after, plan = _decode_cursor(filters.cursor)
    scope = _scope(principal, filters)
    if scope is None:
        return BookingPage([], None)
    search = store.BookingSearch(scope, filters.q, date_from, date_to, after, plan)
    page = store.search_bookings(search, filters.limit)
    cursor = _encode_cursor(page.after, page.plan) if page.after else None
    return BookingPage([booking_view(booking) for booking in page.bookings], cursor)


def _scope(principal: Principal, filters: BookingFilters) -> store.BookingScope | None:
    """The bookings the caller may list with these filters (None: none at all): some websites' of one
    organisation (an organisation's are its websites')."""
    # Checked whichever websites serve the list: another tenant's organisation is 404 for every role
    requested = principal.scope_organisation(filters.organisation_id) if filters.organisation_id is not None else None
    if filters.website_id:
        website = _visible_website(principal, filters.website_id)
        organisation = str(website["organisation_id"])
        if requested is not None and requested != organisation:
            return None  # (a superadmin's) website of another organisation than the one named
        websites: tuple[str, ...] = (filters.website_id,)
    elif principal.role == "staff":
        organisation = str(principal.organisation_id)
        websites = tuple(sorted(principal.websites))
    else:
        organisation = principal.scope_organisation(filters.organisation_id)
        websites = store.organisation_sources(organisation)  # its websites and PMS hotels
    if not websites:
        return None
    return store.BookingScope(websites, organisation, filters.status)


def get_booking(principal: Principal, booking_id: str) -> dict[str, Any]:
    return booking_view(_visible_booking(principal, booking_id))


def _visible_booking(principal: Principal, booking_id: str) -> dict[str, Any]:
    booking = booking_store.get_booking(booking_id) if _UUID.match(booking_id) else None
    if booking is None or not principal.sees_booking(booking):
        raise BookingNotFound()
    return booking


def _visible_website(principal: Principal, website_id: str) -> dict[str, Any]:
    """The website if the caller may see it; otherwise it does not exist for them (404)."""
    if principal.role == "staff" and website_id not in principal.websites:
        raise WebsiteNotFound()
    website = get_website_record(website_id)
    if website is None or not principal.sees_website(str(website["organisation_id"]), website_id):
        raise WebsiteNotFound()
    return website


# --- Edits -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditResult:
    booking: dict[str, Any]
    changed_fields: list[str]
    event_id: str | None
    conflict_fields: list[str] = field(default_factory=list)  # the source set them since the edit's version


def edit_booking(principal: Principal, booking_id: str, edit: BookingEdit, if_match: str | None) -> EditResult:
    """Apply an operator's edit. With a version (body or If-Match) it applies only at that version (409
    otherwise); without one it applies to the booking as it is (seed 002: last writer wins), logged.

    Tenancy comes first: another tenant's booking is 404 whatever the precondition says.
    """
    # The conflict rules (and their models) at the first edit: a listing needs only the attribute names
    from bookinghub.conflicts.logic.detect import markers_of

    booking = _visible_booking(principal, booking_id)
    expected = _expected_version(edit.version, if_match)
    columns = edit.columns()
    for attempt in range(_UNVERSIONED_RETRIES):
        current = int(booking.get("version", 0))
        changed = {name: value for name, value in columns.items() if booking.get(name) != value}
        now = iso_now()
        changed, markers, extra, conflict_fields = _plan(booking, columns, changed, expected, principal, now)
        if not changed and not extra:
            return EditResult(booking_view(booking), [], None)
        event = None
        if changed:
            event_type: BookingEventType = "booking.status_changed" if "status" in changed else "booking.updated"
            event = _event(booking, changed, principal, now, event_type)
        set_columns = {k: v for k, v in changed.items() if v is not None}
        set_columns |= {f"{HUB_VERSION_PREFIX}{k}": current + 1 for k in changed}  # (the new version)
        remove_columns = sorted(k for k, v in changed.items() if v is None)
        if markers != markers_of(booking):
            if markers:
                set_columns[MARKERS] = markers
            else:
                remove_columns.append(MARKERS)
        try:
            store.apply_edit(
                booking,
                expected_version=current,
                set_columns=set_columns,
                remove_columns=remove_columns,
                updated_by=principal.actor,
                now=now,
                event=event,
                extra_items=tuple(extra),
            )
        except store.StaleVersion as stale:
            stored = stale.stored if stale.stored is not None else booking_store.get_booking(booking_id)
            if stored is None:
                raise BookingNotFound() from None
            if attempt == _UNVERSIONED_RETRIES - 1:
                raise _conflict(stored) from None
            booking = stored  # written meanwhile: judged again (field by field when versioned) on what is there now
            continue
        facts = {"booking_id": booking_id, "changed_fields": sorted(changed), "role": principal.role}
        if conflict_fields:
            facts["conflict_fields"] = conflict_fields
        if expected is None:  # whatever was there before is overwritten: worth a look in the logs
            logger.warning(
                "booking edited without a version: last writer wins", extra={**facts, "caller": principal.subject}
            )
        else:
            logger.info("booking edited", extra=facts)
        updated = booking_store.get_booking(booking_id) or {}
        return EditResult(booking_view(updated), sorted(changed), event.event_id if event else None, conflict_fields)
    raise AssertionError("unreachable")  # pragma: no cover


def _plan(
    booking: dict[str, Any],
    columns: dict[str, Any],
    changed: dict[str, Any],
    expected: int | None,
    principal: Principal,
    now: str,
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], list[str]]:
    """(fields to write, markers, conflict items, conflict fields) of an edit of `booking`."""
    from bookinghub.conflicts.logic import hub_edit
    from bookinghub.conflicts.logic.detect import mark_hub_edit

    current = int(booking.get("version", 0))
    if expected is None or current == expected:
        # The fields the source has yet to learn of (conflict detection, bookinghub.conflicts)
        return changed, mark_hub_edit(booking, changed, kind="booking", actor=principal.actor, now=now), [], []
    # A sent If-Match still fails on any operator's change since (issue 10's contract: 409); when only
    # the source changed the booking since, the edit is judged per field (issue 15): the source's
    # changes to other fields do not fail it, one to the same field is a conflict under the org's rule
    operated = [k.removeprefix(HUB_VERSION_PREFIX) for k in booking if k.startswith(HUB_VERSION_PREFIX)]
    if expected > current or hub_edit.set_since(booking, operated, expected, HUB_VERSION_PREFIX):
        raise _conflict(booking)
    plan, extra = hub_edit.plan_versioned_booking_edit(booking, changed, expected, actor=principal.actor, now=now)
    return plan.apply, plan.markers, extra, plan.conflict_fields


def _expected_version(body_version: int | None, if_match: str | None) -> int | None:
    """The version the edit was made on, or None when the caller sent none (no precondition)."""
    header_version = None
    # `If-Match: *` (RFC 9110: any current version) holds for every booking the caller may see: no version
    if if_match is not None and if_match.strip() and if_match.strip() != "*":
        text = if_match.strip().removeprefix("W/").strip('"')
        if not text.isdigit():
            raise InvalidPayload(
                "If-Match must be the booking's version", details=[{"field": "If-Match", "message": "not a version"}]
            )
        header_version = int(text)
    if body_version is not None and header_version is not None and body_version != header_version:
        raise InvalidPayload(
            "version and If-Match disagree", details=[{"field": "version", "message": "differs from If-Match"}]
        )
    return body_version if body_version is not None else header_version


def _conflict(stored: dict[str, Any] | None) -> VersionConflict:
    current = stored.get("version") if stored else None
    return VersionConflict(details=[{"field": "version", "message": f"the booking is now at version {current}"}])


def _event(
    booking: dict[str, Any], data: dict[str, Any], principal: Principal, now: str, event_type: BookingEventType
) -> BookingDomainEvent:
    return BookingDomainEvent(
        event_id=str(uuid.uuid4()),
        event_type=event_type,
        booking_id=booking["id"],
        website_id=booking["website_id"],
        organisation_id=booking["organisation_id"],
        source_booking_id=booking["source_booking_id"],
        origin=f"admin:{principal.actor}",
        actor=principal.actor,
        changed_fields=sorted(data),
        data=data,
        occurred_at=now,
    )


# --- Cursors -----------------------------------------------------------------------------------------


def _encode_cursor(after: str, plan: str | None) -> str:
    raw = json.dumps({"after": after, "plan": plan}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[str | None, store.SearchPlan | None]:
    if not cursor:
        return None, None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after, plan = decoded["after"], decoded.get("plan")
    except (ValueError, binascii.Error, KeyError, TypeError):
        raise _query_error("cursor", "is not a cursor this API returned") from None
    if not isinstance(after, str) or not _SORT_KEY.match(after) or plan not in (None, *get_args(store.SearchPlan)):
        raise _query_error("cursor", "is not a cursor this API returned")
    return after, cast("store.SearchPlan | None", plan)


def _query_error(name: str, message: str) -> InvalidQuery:
    return InvalidQuery(f"{name} {message}", details=[{"field": name, "message": message}])
