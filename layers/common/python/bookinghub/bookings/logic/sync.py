"""Inbound booking sync from source websites (seed 002, `POST /api/bookings/sync`).

Authenticate the website by its API key (its pointer carries the website's active state), validate the
payload, then record the change in one conditional write of the booking (its domain event is stamped on
the item and built from the stream by the outbox relay), then a small sync log row. Rules:
- one booking per (website, source_booking_id): the booking id is derived from that pair;
- a byte-for-byte (canonically equal) redelivery returns the same booking id and writes nothing;
- `booking.created` for a known booking with different content is DUPLICATE_BOOKING (409), unless the
  booking exists only because a later update overtook it (then the create is stale and ignored);
- order is per column (logic.field_order): each column of a change is applied when the change is newer
  (by `version`, then `updated_at`) than the change that last set that column, and left when it is
  older; the answer names both (`applied_fields`, `stale_fields`). Nothing applied is `ignored_stale`.
  A change carrying neither has no order of its own: it is applied in arrival order.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from bookinghub.bookings.dal import bookings as booking_store
from bookinghub.bookings.dal.logs import put_sync_log
from bookinghub.bookings.logic.field_order import UNORDERED, merge_fields, order_key
from bookinghub.bookings.models.events import SyncLog
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
from bookinghub.core.observability import logger, metrics
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
# Writes narrowed to the columns still newer, after a concurrent change made the previous one stale
_MERGE_RETRIES = 3


@dataclass(frozen=True)
class SyncResult:
    booking_id: str
    outcome: Outcome
    applied_fields: tuple[str, ...] = ()  # booking columns this delivery set
    stale_fields: tuple[str, ...] = ()  # booking columns a newer change had already set

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
    if record.expires_at is not None:
        # A rotated-out key in its grace period: its pointer no longer follows the website's state
        website = website_store.get_website(record.website_id)
        if website is None:
            raise WebsiteNotFound()
        if not website.is_active:
            raise AuthFailed("Website is inactive")
    return record


def apply_sync(website: ApiKeyRecord, request: BookingSyncRequest) -> SyncResult:
    booking_id = booking_store.booking_id(website.website_id, request.source_booking_id)
    # The model's field order is fixed, so its JSON is canonical: equal payloads hash equal however the
    # source spaced or ordered its JSON. (pydantic serialises in Rust, ~10x faster than json.dumps.)
    canonical_json = request.model_dump_json(exclude_none=True)
    # 96 bits of the digest tell a redelivery apart; stored on the booking, so kept short
    payload_hash = base64.urlsafe_b64encode(hashlib.sha256(canonical_json.encode()).digest()[:12]).decode()
    canonical = json.loads(canonical_json)
    order_key = order_key_for(request)
    fields = request.booking_fields()
    # First attempt: every column, no read. Its condition fails if any column is not strictly older
    # here; the stored booking it hands back tells which columns still apply (merge_fields), and the
    # next attempt writes only those, under the same per-column guard.
    columns, narrowed = fields, False
    stale: tuple[str, ...] = ()
    merges = 0
    while True:
        change = _change(website, request, booking_id, payload_hash, order_key, columns, narrowed)
        try:
            if request.event == "booking.created":
                booking_store.create_booking(change)
                outcome: Outcome = "created"
            else:
                # A narrowed write may not create: the booking existed when it was narrowed
                booking_store.update_booking(change, may_create=request.is_complete and not narrowed)
                outcome = "updated"
            result = SyncResult(booking_id, outcome, applied_fields=tuple(sorted(columns)), stale_fields=stale)
        except booking_store.BookingConditionFailed as failed:
            stored = _existing(request, failed.stored)
            verdict = _explain_condition(request, stored, payload_hash)
            if verdict is not None:
                result = SyncResult(
                    booking_id, verdict, stale_fields=tuple(sorted(fields)) if verdict == "ignored_stale" else ()
                )
            else:
                merge = merge_fields(stored, fields, order_key)
                if merge.applied:
                    # Bounded: a narrowed write fails only when another change landed since its read
                    merges += 1
                    if merges > _MERGE_RETRIES:
                        raise ServerError("The booking is being changed concurrently; retry") from None
                    columns, stale, narrowed = merge.applied, merge.stale, True
                    continue
                result = SyncResult(
                    booking_id, "ignored_stale" if merge.stale else "unchanged", stale_fields=merge.stale
                )
        if result.outcome in ("created", "updated"):
            # Its sync log row (and the outcome metric) records an applied change: no log line of its own
            # on the hot path (CloudWatch Logs are paid per byte, and each line carries the Lambda context)
            _record_log(_sync_log(website, request, booking_id, canonical))
            logger.debug("sync", extra={"booking_id": booking_id, "outcome": result.outcome})
        else:
            # Nothing written, so nothing else tells why: one short line
            logger.info(
                "sync", extra={"booking_id": booking_id, "outcome": result.outcome, "stale": len(result.stale_fields)}
            )
        return result


def _existing(request: BookingSyncRequest, stored: dict[str, Any] | None) -> dict[str, Any]:
    """The booking a failed condition handed back; absent, the change needed it to exist."""
    if stored is None:
        # Only an update that cannot create (a partial payload) fails on an absent booking
        raise BookingNotFound(
            "Booking not found: send booking.created first, or the full booking on this event",
            details=[
                {"field": name, "message": "required to create the booking"} for name in request.missing_for_create()
            ],
        )
    return stored


def _explain_condition(request: BookingSyncRequest, stored: dict[str, Any], payload_hash: str) -> Outcome | None:
    """Why the booking's condition failed, from the booking as stored when it failed; None when the
    answer is per column (some column is newer here, or ties with this change's key)."""
    if payload_hash in (stored.get("last_payload_hash"), stored.get("created_payload_hash")):
        return "unchanged"
    if request.event == "booking.created":
        if "created_payload_hash" not in stored:
            # An update (full payload) arrived first and created the booking: this create is older.
            return "ignored_stale"
        raise DuplicateBooking()
    return None


def order_key_for(request: BookingSyncRequest) -> str | None:
    """Sortable text: the source's version first, then its change time; None if the payload has neither.

    Only the source's own clock orders changes: the hub's arrival time would rank a late delivery
    (retried for minutes) above a change made after it.
    """
    moment = request.updated_at or (request.created_at if request.event == "booking.created" else None)
    if request.version is None and moment is None:
        return None
    return order_key(request.version or 0, to_iso(moment) if moment else "")


def _record_log(log: SyncLog) -> None:
    """The audit row of an applied change. The booking is written already: a failure here must not turn
    the answer into a 5xx (the source would retry a change that is stored), so it is logged instead."""
    try:
        put_sync_log(log)
    except Exception:
        logger.exception("sync log not written", extra={"booking_id": log.booking_id})
        metrics.add_metric(name="SyncLogWriteFailed", unit="Count", value=1)


def _sync_log(
    website: ApiKeyRecord, request: BookingSyncRequest, booking_id: str, canonical: dict[str, Any]
) -> SyncLog:
    return SyncLog(
        id=str(uuid.uuid4()),
        booking_id=booking_id,
        website_id=website.website_id,
        direction="inbound",
        event_type=request.event,
        payload=mask_pii(canonical),
        status="success",
        created_at=iso_now(),
    )


def _change(
    website: ApiKeyRecord,
    request: BookingSyncRequest,
    booking_id: str,
    payload_hash: str,
    order_key: str | None,
    fields: dict[str, Any],
    narrowed: bool,
) -> booking_store.BookingChange:
    """The write for `fields` (the columns to set); its domain event carries those columns alone."""
    return booking_store.BookingChange(
        booking_id=booking_id,
        website_id=website.website_id,
        organisation_id=website.organisation_id,
        source_booking_id=request.source_booking_id,
        fields=fields,
        payload_hash=payload_hash,
        order_key=order_key or UNORDERED,
        ordered=order_key is not None,
        ties_apply=narrowed,
        now=iso_now(),
        event_type=request.event,
        origin=f"website:{website.website_id}",
        defaults=CREATE_DEFAULTS if request.event == "booking.created" or request.is_complete else {},
    )
