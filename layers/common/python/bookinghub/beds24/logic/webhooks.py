"""Beds24 booking webhooks (`POST /api/integrations/beds24/webhook`, seed 001 "Webhook Flow").

Real Beds24 does not sign its webhooks: it calls a configured URL, which can carry a secret token
(`?token=...`), with custom headers (`X-Beds24-Token: ...`). Both are accepted; so is the seed's
`X-Beds24-Signature` (hex HMAC-SHA256 of the raw body, with or without `sha256=`) for senders that sign.
All three use the property's one webhook secret. Anything else is 401 and nothing is stored.

A verified event is queued with its body sealed and acknowledged at once; the consumer stores it once
for audit with its outcome (the seed's webhook_events; a redelivery is recognised by booking id +
modifiedTime, or the body's hash). The Beds24Events
consumer treats it as a hint: it reads the booking back from Beds24 (unless the property says not to)
and applies what Beds24 says now, so a stale or reordered webhook cannot regress a booking.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import zlib
from collections.abc import Mapping
from typing import Any

from bookinghub.aws.envelope import open_bytes, seal_bytes
from bookinghub.beds24.dal import properties as property_store
from bookinghub.beds24.dal import runs as event_store
from bookinghub.beds24.dal.properties import WebhookTarget
from bookinghub.beds24.dal.queues import QueuedEvent, send_webhook_event
from bookinghub.beds24.logic.properties import token_hash, webhook_secret_of
from bookinghub.beds24.models.entities import normalise_time
from bookinghub.core.clock import iso_now
from bookinghub.core.errors import AuthFailed, InvalidPayload
from bookinghub.core.observability import emit_metric, logger

BODY_PURPOSE = "beds24_webhook_body"  # the envelope purpose of a queued webhook's sealed body
# Past this a sealed body does not ride in its message (SQS's smallest configurable limit is 256 KiB, and
# the message carries ids beside it): it is stored instead, and the message names it
MAX_SEALED_CHARS = 200_000
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
TOKEN_HEADER = "x-beds24-token"  # noqa: S105 - a header name
SIGNATURE_HEADER = "x-beds24-signature"


class WebhookAuthFailed(AuthFailed):
    message = "Invalid or missing webhook token or signature"


def _lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {k.lower(): v for k, v in (headers or {}).items()}


def _parse(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body.decode("utf-8"))  # UTF-8 only: the body is stored as text for audit
    except (ValueError, UnicodeDecodeError):
        raise InvalidPayload(
            "Request body is not valid JSON", details=[{"field": "body", "message": "not JSON"}]
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("booking"), dict):
        raise InvalidPayload(
            "Expected a Beds24 booking webhook", details=[{"field": "booking", "message": "must be an object"}]
        )
    booking_id = payload["booking"].get("id")
    if isinstance(booking_id, str) and booking_id.isdigit():
        booking_id = int(booking_id)
    if not isinstance(booking_id, int) or isinstance(booking_id, bool) or booking_id <= 0:
        raise InvalidPayload(
            "The booking has no id", details=[{"field": "booking.id", "message": "must be a positive integer"}]
        )
    payload["booking"]["id"] = booking_id
    return payload


def _signature_matches(body: bytes, signature: str, secret: str) -> bool:
    presented = signature.strip()
    presented = presented[7:] if presented.lower().startswith("sha256=") else presented
    if not _HEX_DIGEST.fullmatch(presented):
        return False  # not a SHA-256 hex digest at all (and nothing non-ASCII reaches compare_digest)
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), presented.lower().encode("ascii"))


def authenticate(
    body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
) -> tuple[WebhookTarget, dict[str, Any], str]:
    """The property the webhook belongs to, its parsed payload, and how it proved itself."""
    token = (query.get("token") or headers.get(TOKEN_HEADER) or "").strip()
    signature = (headers.get(SIGNATURE_HEADER) or "").strip()
    if not token and not signature:
        raise WebhookAuthFailed()
    prop = _property_of_token(token) if token else None
    payload = _parse(body)
    if signature:
        prop = _check_signature(body, signature, payload, prop)
    assert prop is not None
    if prop.status != "active":
        raise WebhookAuthFailed("The property's integration is inactive")
    return prop, payload, "signature" if signature else "token"


def _property_of_token(token: str) -> WebhookTarget:
    hashed = token_hash(token)
    prop = property_store.target_by_token_hash(hashed)
    stored_hash = prop.webhook_token_hash if prop else None
    if prop is None or not stored_hash or not hmac.compare_digest(stored_hash, hashed):
        raise WebhookAuthFailed()
    return prop


def _check_signature(body: bytes, signature: str, payload: dict[str, Any], prop: WebhookTarget | None) -> WebhookTarget:
    """The property whose secret signed the body: the token's, else the one the body names."""
    if prop is None:  # a signed webhook names its property in the body
        property_id = payload["booking"].get("propertyId")
        if not isinstance(property_id, int | str) or not str(property_id).isdigit():
            raise WebhookAuthFailed()
        prop = property_store.target_by_beds24_id(int(property_id))
    secret = webhook_secret_of(prop.organisation_id, prop.property_id, prop.webhook_secret_encrypted) if prop else None
    if prop is None or not secret or not _signature_matches(body, signature, secret):
        raise WebhookAuthFailed()
    return prop


def event_key(payload: dict[str, Any], body: bytes) -> str:
    """Idempotency: the same change of the same booking is one event, however often it is delivered. The
    key starts with the change's modification time, so a property's events sort by it (dal/runs.py)."""
    booking = payload["booking"]
    modified = booking.get("modifiedTime")
    if modified:
        try:
            stamp = normalise_time(modified)
        except ValueError:
            stamp = None
        if stamp:
            deleted = "deleted" if payload.get("deleted") is True else "live"
            return f"{stamp}#{booking['id']}#{deleted}#{booking.get('propertyId')}"
    return "0#" + hashlib.sha256(body).hexdigest()  # no usable modification time: the body itself


def hint(payload: dict[str, Any]) -> str:
    if payload.get("deleted") is True:
        return "deleted"
    return "cancelled" if str(payload["booking"].get("status", "")).lower() == "cancelled" else "modified"


def receive_webhook(body: bytes, headers: Mapping[str, str] | None, query: Mapping[str, str] | None) -> dict[str, Any]:
    prop, payload, proof = authenticate(body, _lower(headers), dict(query or {}))
    ref = event_store.EventRef(prop.organisation_id, prop.property_id, event_key(payload, body))
    received_at = iso_now()
    if str(payload["booking"].get("propertyId")) != str(prop.beds24_property_id):
        return _needs_attention(ref, payload, body, proof, received_at)
    # The queue message is the event's durable receipt (ids and the body sealed: no readable guest data in
    # the queue or its DLQ); the consumer writes the event's one record, with its outcome. A redelivery is
    # queued again and found recorded by the consumer (its record's conditional put). A failed queue call
    # answers 5xx with nothing stored: Beds24 retries it.
    sealed = seal_body(ref, body)
    if len(sealed) > MAX_SEALED_CHARS:
        return _stored_then_queued(ref, payload, body, proof, received_at)
    send_webhook_event(
        QueuedEvent(ref, received_at=received_at, authenticated_by=proof, hint=hint(payload), sealed=sealed)
    )
    # No log line for an accepted webhook: its metric records it, its record follows from the consumer
    emit_metric("Beds24WebhookQueued", provider="beds24", integration_type="reservation_sync")
    return {"event_key": ref.event_key, "status": "queued"}


def _record(payload: dict[str, Any], proof: str, received_at: str, status: str, reason: str | None) -> dict[str, Any]:
    booking = payload["booking"]
    return {
        "beds24_property_id": booking.get("propertyId"),
        "beds24_booking_id": booking["id"],
        "modified_time": str(booking.get("modifiedTime") or "") or None,
        "hint": hint(payload),
        "authenticated_by": proof,
        "status": status,
        "reason": reason,
        "received_at": received_at,
    }


def _stored_then_queued(
    ref: event_store.EventRef, payload: dict[str, Any], body: bytes, proof: str, received_at: str
) -> dict[str, Any]:
    """A body too large for a queue message even compressed (rare: Beds24's are a few KB): stored as the
    receipt (`queued`) and its reference queued, as before messages carried their event. A failed queue
    call answers 5xx; Beds24's retry takes the stored event over after TAKEOVER_AFTER_SECONDS."""
    try:
        event_store.record_event(ref, _record(payload, proof, received_at, "queued", None), body)
    except event_store.EventExists:
        emit_metric("Beds24WebhookDuplicate", provider="beds24", integration_type="reservation_sync")
        return {"event_key": ref.event_key, "status": "duplicate"}
    send_webhook_event(ref)
    emit_metric("Beds24WebhookQueued", provider="beds24", integration_type="reservation_sync")
    return {"event_key": ref.event_key, "status": "queued"}


def _needs_attention(
    ref: event_store.EventRef, payload: dict[str, Any], body: bytes, proof: str, received_at: str
) -> dict[str, Any]:
    """The token is right but the booking is another Beds24 property's: kept for a person, never applied."""
    reason = f"webhook for unknown Beds24 property {payload['booking'].get('propertyId')}"
    try:
        event_store.record_event(ref, _record(payload, proof, received_at, "needs_attention", reason), body)
    except event_store.EventExists as existing:
        stored_status = existing.stored.get("status")
        logger.info("beds24 webhook duplicate", extra={"event_key": ref.event_key, "status": stored_status})
        emit_metric("Beds24WebhookDuplicate", provider="beds24", integration_type="reservation_sync")
        return {"event_key": ref.event_key, "status": "duplicate"}
    logger.warning(
        "beds24 webhook for an unknown property", extra={"event_key": ref.event_key, "property_id": ref.property_id}
    )
    emit_metric("Beds24WebhookNeedsAttention", provider="beds24", integration_type="reservation_sync")
    return {"event_key": ref.event_key, "status": "needs_attention"}


def seal_body(ref: event_store.EventRef, body: bytes) -> str:
    """The raw body compressed and sealed (aws/envelope.py: a data key cached per environment, no KMS call
    per webhook), bound to its event: it opens only as this event's body (open_body)."""
    return seal_bytes(zlib.compress(body), purpose=BODY_PURPOSE, owner=_body_owner(ref))


def open_body(ref: event_store.EventRef, sealed: str) -> bytes:
    return zlib.decompress(open_bytes(sealed, purpose=BODY_PURPOSE, owner=_body_owner(ref)))


def _body_owner(ref: event_store.EventRef) -> str:
    return f"{ref.organisation_id}/{ref.property_id}/{ref.event_key}"
