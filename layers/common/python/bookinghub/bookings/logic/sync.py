"""Inbound booking sync from source websites (seed 002, `POST /api/bookings/sync`).

Authenticate the website by its API key, validate the payload, then record the change, its domain
event and its sync log in one transaction. Rules:
- one booking per (website, source_booking_id): the booking id is derived from that pair;
- a byte-for-byte (canonically equal) redelivery returns the same booking id and writes nothing;
- `booking.created` for a known booking with different content is DUPLICATE_BOOKING (409), unless the
  booking exists only because a later update overtook it (then the create is stale and ignored);
- a change older than the stored one (by `version`, then `updated_at`) is ignored (200, ignored_stale).
  A change carrying neither has no order of its own: it is applied in arrival order.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from bookinghub.bookings.dal import bookings as booking_store
from bookinghub.bookings.models.events import BookingDomainEvent, SyncLog
from bookinghub.bookings.models.sync import CREATE_DEFAULTS, BookingSyncRequest, parse_sync_request
from bookinghub.core.clock import iso_now, to_iso
from bookinghub.core.errors import (
    AuthFailed,
    BookingNotFound,
    DuplicateBooking,
    ServerError,
    UnsupportedMediaType,
    WebsiteNotFound,
)
from bookinghub.core.observability import logger
from bookinghub.core.security import hash_api_key, mask_pii, same_secret
from bookinghub.websites.dal import websites as website_store
from bookinghub.websites.models import ApiKeyRecord

Outcome = Literal["created", "updated", "unchanged", "ignored_stale"]
_MESSAGES: dict[Outcome, str] = {
    "created": "Booking synced successfully",
    "updated": "Booking synced successfully",
    "unchanged": "Booking already synced (duplicate delivery ignored)",
    "ignored_stale": "Booking change ignored: a newer version is already stored",
}
_CONFLICT_RETRIES = 3
# The order key of a change that carries no ordering information: below every ordered change.
UNORDERED = f"{0:013d}|"


@dataclass(frozen=True)
class SyncResult:
    booking_id: str
    outcome: Outcome

    @property
    def message(self) -> str:
        return _MESSAGES[self.outcome]


def sync_booking(api_key: str | None, body: bytes, *, json_body: bool) -> SyncResult:
    """`json_body`: whether the body was sent as application/json (else 415, after the caller's 401). The body's
    size was checked at the edge (web.resolver.request_body)."""
    website = authenticate(api_key)
    if not json_body:
        raise UnsupportedMediaType()
    request = parse_sync_request(body)
    return apply_sync(website, request)


def authenticate(api_key: str | None) -> ApiKeyRecord:
    if not api_key or not api_key.strip():
        raise AuthFailed("Missing API key")
    key_hash = hash_api_key(api_key.strip())
    record = website_store.get_api_key(key_hash)
    # The lookup is by hash; the comparison re-checks it in constant time so a store that matched on a
    # prefix or case-folded could never authenticate a different key.
    if record is None or not same_secret(record.key_hash, key_hash):
        raise AuthFailed("Invalid API key")
    if not record.is_active or (record.expires_at is not None and record.expires_at <= time.time()):
        raise AuthFailed("API key is inactive")
    return record


def apply_sync(website: ApiKeyRecord, request: BookingSyncRequest) -> SyncResult:
    booking_id = booking_store.booking_id(website.website_id, request.source_booking_id)
    # The model's field order is fixed, so its JSON is canonical: equal payloads hash equal however the
    # source spaced or ordered its JSON. (pydantic serialises in Rust, ~10x faster than json.dumps.)
    canonical_json = request.model_dump_json(exclude_none=True)
    payload_hash = hashlib.sha256(canonical_json.encode()).hexdigest()
    canonical = json.loads(canonical_json)
    for attempt in range(_CONFLICT_RETRIES):
        change = _change(website, request, booking_id, payload_hash, canonical)
        try:
            if request.event == "booking.created":
                booking_store.create_booking(change)
                outcome: Outcome = "created"
            else:
                booking_store.update_booking(change, may_create=request.is_complete)
                outcome = "updated"
        except booking_store.WriteConflict:
            if attempt == _CONFLICT_RETRIES - 1:
                raise ServerError("The booking is being changed concurrently; retry") from None
            time.sleep(0.05 * (attempt + 1))
            continue
        except booking_store.WebsiteUnavailable as unavailable:
            if not unavailable.exists:
                raise WebsiteNotFound() from None
            raise AuthFailed("Website is inactive") from None
        except booking_store.BookingConditionFailed as failed:
            order_key = change.order_key if change.ordered else None
            outcome = _explain_condition(request, failed.stored, payload_hash, order_key)
        logger.info(
            "booking sync",
            extra={
                "booking_id": booking_id,
                "website_id": website.website_id,
                "event": request.event,
                "outcome": outcome,
            },
        )
        return SyncResult(booking_id=booking_id, outcome=outcome)
    raise AssertionError("unreachable")  # pragma: no cover


def _explain_condition(
    request: BookingSyncRequest, stored: dict[str, Any] | None, payload_hash: str, order_key: str | None
) -> Outcome:
    """Why the booking's condition failed, from the booking as stored when it failed."""
    if stored is None:
        # Only an update that cannot create (a partial payload) fails on an absent booking
        raise BookingNotFound(
            "Booking not found: send booking.created first, or the full booking on this event",
            details=[
                {"field": name, "message": "required to create the booking"} for name in request.missing_for_create()
            ],
        )
    if payload_hash in (stored.get("last_payload_hash"), stored.get("created_payload_hash")):
        return "unchanged"
    if request.event == "booking.created":
        if "created_payload_hash" not in stored:
            # An update (full payload) arrived first and created the booking: this create is older.
            return "ignored_stale"
        raise DuplicateBooking()
    if order_key is not None and stored.get("order_key", "") > order_key:
        return "ignored_stale"
    return "unchanged"


def order_key_for(request: BookingSyncRequest) -> str | None:
    """Sortable text: the source's version first, then its change time; None if the payload has neither.

    Only the source's own clock orders changes: the hub's arrival time would rank a late delivery
    (retried for minutes) above a change made after it.
    """
    moment = request.updated_at or (request.created_at if request.event == "booking.created" else None)
    if request.version is None and moment is None:
        return None
    return f"{request.version or 0:013d}|{to_iso(moment) if moment else ''}"


def _change(
    website: ApiKeyRecord, request: BookingSyncRequest, booking_id: str, payload_hash: str, canonical: dict[str, Any]
) -> booking_store.BookingChange:
    now = iso_now()
    order_key = order_key_for(request)
    fields = request.booking_fields()
    event = BookingDomainEvent(
        event_id=str(uuid.uuid4()),
        event_type=request.event,
        booking_id=booking_id,
        website_id=website.website_id,
        organisation_id=website.organisation_id,
        source_booking_id=request.source_booking_id,
        origin=f"website:{website.website_id}",
        changed_fields=sorted(fields),
        data=fields,
        occurred_at=now,
    )
    log = SyncLog(
        id=str(uuid.uuid4()),
        booking_id=booking_id,
        website_id=website.website_id,
        direction="inbound",
        event_type=request.event,
        payload=mask_pii(canonical),
        status="success",
        created_at=now,
    )
    return booking_store.BookingChange(
        booking_id=booking_id,
        website_id=website.website_id,
        organisation_id=website.organisation_id,
        source_booking_id=request.source_booking_id,
        fields=fields,
        payload_hash=payload_hash,
        order_key=order_key or UNORDERED,
        ordered=order_key is not None,
        now=now,
        event=event,
        log=log,
        defaults=CREATE_DEFAULTS if request.event == "booking.created" or request.is_complete else {},
    )
