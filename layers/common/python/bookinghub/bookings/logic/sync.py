"""Inbound booking sync from source websites (seed 002, `POST /api/bookings/sync`).

Authenticate the website by its API key (its pointer carries the website's active state), validate the
payload, then record the change in one conditional write of the booking (its domain event is stamped on
the item and built from the stream by the outbox relay, whose timeline item of it is also the sync's log
row: dal/logs.py). Rules:
- one booking per (website, source_booking_id): the booking id is derived from that pair;
- a byte-for-byte (canonically equal) redelivery returns the same booking id and writes nothing;
- `booking.created` for a known booking with different content is DUPLICATE_BOOKING (409), unless the
  booking exists only because a later update overtook it (then the create is stale and ignored);
- order is per column (logic.field_order): each column of a change is applied when the change is newer
  (by `version`, then `updated_at`) than the change that last set that column, and left when it is
  older; the answer names both (`applied_fields`, `stale_fields`). Nothing applied is `ignored_stale`.
  A change carrying neither has no order of its own: it is applied in arrival order.
- conflicts (bookinghub.conflicts): a column an operator changed since this source last sent it is
  settled by the organisation's rule; a column held for the hub (or for a person) is named in
  `held_fields`, a conflict found in `conflict_fields`. The change's other columns apply as usual.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import time
import uuid
from typing import Any, Literal, NamedTuple

from bookinghub.bookings.dal import bookings as booking_store
from bookinghub.bookings.dal.logs import put_sync_log
from bookinghub.bookings.dal.payload_values import column_values, text_of
from bookinghub.bookings.logic.field_order import UNORDERED, merge_fields, order_key
from bookinghub.bookings.models.events import SyncLog
from bookinghub.bookings.models.payload_shape import RENAMED_COLUMNS
from bookinghub.bookings.models.sync import CREATE_DEFAULTS, BookingSyncRequest, parse_sync_request
from bookinghub.conflicts.logic.detect import BookingRef
from bookinghub.conflicts.logic.sources import SourcePlan, plan_source_change
from bookinghub.core.clock import iso_now, to_iso
from bookinghub.core.errors import (
    BookingNotFound,
    DuplicateBooking,
    ServerError,
    UnsupportedMediaType,
)
from bookinghub.core.observability import logger, metrics
from bookinghub.core.security import mask_pii
from bookinghub.websites.logic.auth import authenticate
from bookinghub.websites.models import ApiKeyRecord

Outcome = Literal["created", "updated", "unchanged", "ignored_stale"]
_MESSAGES: dict[Outcome, str] = {
    "created": "Booking synced successfully",
    "updated": "Booking synced successfully",
    "unchanged": "Booking already synced (duplicate delivery ignored)",
    "ignored_stale": "Booking change ignored: a newer version is already stored",
}
# Transactions (a change that records conflicts) cancelled by a concurrent one, retried after a read
_CONFLICT_RETRIES = 3
# Writes narrowed to the columns still newer, after a concurrent change made the previous one stale
_MERGE_RETRIES = 3


class SyncResult(NamedTuple):
    """What a delivery did. (A named tuple, immutable as a frozen dataclass is, but built in one call: a
    frozen dataclass sets each field through object.__setattr__, on every request.)"""

    booking_id: str
    outcome: Outcome
    applied_fields: tuple[str, ...] = ()  # booking columns this delivery set
    stale_fields: tuple[str, ...] = ()  # booking columns a newer change had already set
    held_fields: tuple[str, ...] = ()  # columns kept as the hub has them (an operator's pending edit)
    conflict_fields: tuple[str, ...] = ()  # columns where this change met an operator's edit

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


def apply_sync(website: ApiKeyRecord, request: BookingSyncRequest) -> SyncResult:
    booking_id = booking_store.booking_id(website.website_id, request.source_booking_id)
    canonical_json = canonical_payload(request)
    payload_hash = hash_payload(canonical_json)
    if request.event == "booking.created":
        return _create(website, request, booking_id, canonical_json, payload_hash)
    fields = request.booking_fields()
    order_key = order_key_for(request, created_iso=fields.get(RENAMED_COLUMNS["created_at"]))
    # First attempt: every column, no read. Its condition fails if any column is not strictly older
    # here; the stored booking it hands back tells which columns still apply (merge_fields), and the
    # next attempt writes only those, under the same per-column guard.
    columns, narrowed = fields, False
    stale: tuple[str, ...] = ()
    plan: SourcePlan | None = None
    conflicts = merges = 0
    while True:
        change = _change(website, request, booking_id, payload_hash, order_key, columns, narrowed, plan)
        try:
            # A narrowed write may not create: the booking existed when it was narrowed
            booking_store.update_booking(change, may_create=request.is_complete and not narrowed)
            result = SyncResult(
                booking_id,
                "updated",
                applied_fields=tuple(sorted(columns)),
                stale_fields=stale,
                held_fields=plan.held if plan else (),
                conflict_fields=plan.conflict_fields if plan else (),
            )
        except booking_store.WriteConflict:
            conflicts += 1
            if conflicts == _CONFLICT_RETRIES:
                raise ServerError("The booking is being changed concurrently; retry") from None
            time.sleep(0.05 * conflicts)
            continue
        except booking_store.BookingConditionFailed as failed:
            stored = _existing(request, failed.stored)
            verdict = _explain_condition(request, stored, payload_hash)
            if verdict is not None:
                result = SyncResult(
                    booking_id, verdict, stale_fields=tuple(sorted(fields)) if verdict == "ignored_stale" else ()
                )
            else:
                merge = merge_fields(stored, fields, order_key)
                plan = _conflicts(website, request, booking_id, stored, merge.applied)
                if merge.applied and (plan is None or plan.changes_anything):
                    # Bounded: a narrowed write fails only when another change landed since its read
                    merges += 1
                    if merges > _MERGE_RETRIES:
                        raise ServerError("The booking is being changed concurrently; retry") from None
                    columns, stale, narrowed = (plan.write if plan else merge.applied), merge.stale, True
                    continue
                result = SyncResult(
                    booking_id,
                    "ignored_stale" if merge.stale else "unchanged",
                    stale_fields=merge.stale,
                    held_fields=plan.held if plan else (),
                )
        _record(website, request, result, canonical_json, at=change.now)
        return result


def _create(
    website: ApiKeyRecord, request: BookingSyncRequest, booking_id: str, canonical_json: bytes, payload_hash: str
) -> SyncResult:
    """A `booking.created`: one insert of the payload's columns, built as attribute values in one pass
    (dal.payload_values; a creation's columns are only written). It is never narrowed or retried: a booking
    already there is this payload again (unchanged), an update's creation that came first (this creation is
    older: ignored_stale), or another payload under the same source id (409)."""
    values = column_values(request)
    order_key = order_key_for(request, created_iso=text_of(values, RENAMED_COLUMNS["created_at"]))
    change = _change(website, request, booking_id, payload_hash, order_key, {}, False, None)
    try:
        booking_store.create_booking(change, values)
        result = SyncResult(booking_id, "created", applied_fields=tuple(sorted(values)))
    except booking_store.BookingConditionFailed as failed:
        verdict = _explain_condition(request, _existing(request, failed.stored), payload_hash)
        if verdict is None:  # (a creation's verdict is its hashes': _explain_condition raises for another payload)
            raise DuplicateBooking() from None
        stale = tuple(sorted(values)) if verdict == "ignored_stale" else ()
        result = SyncResult(booking_id, verdict, stale_fields=stale)
    _record(website, request, result, canonical_json, at=change.now)
    return result


def canonical_payload(request: BookingSyncRequest) -> bytes:
    """The payload's canonical JSON (UTF-8): the model's field order is fixed, so equal payloads give equal
    text however the source spaced or ordered its JSON. Stored hashes of it tell redeliveries apart, so it
    must not change byte for byte (tests/unit/test_sync_payload_hash.py pins it)."""
    # model_dump_json(exclude_none=True) without its wrapper and its str: the hash wants the bytes
    return _SERIALIZER.to_json(request, exclude_none=True)  # (pydantic serialises in Rust, ~10x json.dumps)


_SERIALIZER = BookingSyncRequest.__pydantic_serializer__
_URLSAFE = bytes.maketrans(b"+/", b"-_")


def hash_payload(canonical_json: bytes) -> str:
    # 96 bits of the digest tell a redelivery apart; stored on the booking, so kept short. base64url of 12
    # bytes is 16 characters, no padding (base64.urlsafe_b64encode's output, without its two Python calls)
    digest = hashlib.sha256(canonical_json).digest()[:12]
    return binascii.b2a_base64(digest, newline=False).translate(_URLSAFE).decode()


def _record(
    website: ApiKeyRecord, request: BookingSyncRequest, result: SyncResult, canonical_json: bytes, *, at: str
) -> None:
    """What records the delivery beside its answer and its outcome metric."""
    booking_id = result.booking_id
    if result.outcome in ("created", "updated"):
        # Its timeline item (the relay's, from the stream) is its sync log row: no log line of its own on
        # the hot path (CloudWatch Logs are paid per byte, and each line carries the Lambda context). A
        # change that only recorded conflicts makes no event, so it gets a log row of its own.
        if not result.applied_fields:
            _record_log(_sync_log(website, request, booking_id, json.loads(canonical_json), at=at))
    else:
        # Nothing written, so nothing else tells why: one short line
        logger.info(
            "sync", extra={"booking_id": booking_id, "outcome": result.outcome, "stale": len(result.stale_fields)}
        )
    if result.held_fields or result.conflict_fields:
        logger.info(
            "sync met pending edits",
            extra={
                "booking_id": booking_id,
                "held_fields": list(result.held_fields),
                "conflict_fields": list(result.conflict_fields),
            },
        )


def _conflicts(
    website: ApiKeyRecord, request: BookingSyncRequest, booking_id: str, stored: dict[str, Any], columns: dict[str, Any]
) -> SourcePlan | None:
    """The operator's pending edits these columns meet (None: none), settled by the organisation's rules."""
    ref = BookingRef(
        kind="booking",
        booking_id=booking_id,
        organisation_id=website.organisation_id,
        website_id=website.website_id,
        source_booking_id=request.source_booking_id,
    )
    moment = request.updated_at or request.created_at
    return plan_source_change(
        ref,
        stored,
        columns,
        source=f"website:{website.website_id}",
        source_time=to_iso(moment) if moment else None,
        now=iso_now(),
        accepts_writes=True,  # the sync back (seed 002 webhook); the delivery system skips a website without one
    )


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


def order_key_for(request: BookingSyncRequest, *, created_iso: str | None = None) -> str | None:
    """Sortable text: the source's version first, then its change time; None if the payload has neither.
    `created_iso`: to_iso(request.created_at) when the caller has it already (its booking columns do).

    Only the source's own clock orders changes: the hub's arrival time would rank a late delivery
    (retried for minutes) above a change made after it.
    """
    moment = request.updated_at or (request.created_at if request.event == "booking.created" else None)
    if request.version is None and moment is None:
        return None
    if moment is None:
        return order_key(request.version or 0, "")
    if moment is request.created_at and created_iso is not None:
        return order_key(request.version or 0, created_iso)
    return order_key(request.version or 0, to_iso(moment))


def _record_log(log: SyncLog) -> None:
    """The audit row of an applied change. The booking is written already: a failure here must not turn
    the answer into a 5xx (the source would retry a change that is stored), so it is logged instead."""
    try:
        put_sync_log(log)
    except Exception:
        logger.exception("sync log not written", extra={"booking_id": log.booking_id})
        metrics.add_metric(name="SyncLogWriteFailed", unit="Count", value=1)


def _sync_log(
    website: ApiKeyRecord, request: BookingSyncRequest, booking_id: str, canonical: dict[str, Any], *, at: str
) -> SyncLog:
    """`at`: the write's own time (the booking's updated_at, its event's occurred_at)."""
    return SyncLog(
        id=str(uuid.uuid4()),
        booking_id=booking_id,
        website_id=website.website_id,
        direction="inbound",
        event_type=request.event,
        payload=mask_pii(canonical),
        status="success",
        created_at=at,
    )


def _change(
    website: ApiKeyRecord,
    request: BookingSyncRequest,
    booking_id: str,
    payload_hash: str,
    order_key: str | None,
    fields: dict[str, Any],
    narrowed: bool,
    plan: SourcePlan | None,
) -> booking_store.BookingChange:
    """The write for `fields` (the columns to set); its domain event carries those columns alone (no
    event when it sets none: only conflicts are recorded). `plan`: the conflicts met, after a read."""
    return booking_store.BookingChange.of(
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
        markers=booking_store.MarkersWrite(plan.markers_read, plan.markers) if plan else None,
        extra_items=tuple(plan.items()) if plan else (),
        held=plan.held if plan else (),
    )
