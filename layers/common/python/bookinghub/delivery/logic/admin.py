"""Operators manage endpoints and read what happened (delivery API, Cognito); seed 002's test webhook
and seed 003's retry_failed_webhooks.

Every endpoint belongs to one organisation: another tenant's endpoint or delivery is a 404, as for any
object. Managing (and reading delivery logs, which quote receivers' answers) is for admins and
superadmins. A website's sync back is an endpoint too (`web_<website id>`): it can be disabled, enabled,
replayed and read here, while its URL and secret stay the website's (PATCH /api/websites).
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bookinghub.aws.kms import encrypt_secret
from bookinghub.core.auth import Principal
from bookinghub.core.errors import BookingNotFound, DomainError, InvalidPayload, InvalidQuery, WebsiteNotFound
from bookinghub.core.observability import logger
from bookinghub.core.urls import check_outbound_url
from bookinghub.delivery.dal import deliveries as store
from bookinghub.delivery.dal import endpoints as endpoint_store
from bookinghub.delivery.dal.keys import delivery_id_for
from bookinghub.delivery.dal.queue import AttemptMessage, send
from bookinghub.delivery.logic import endpoints, payloads
from bookinghub.delivery.logic.classify import is_make_endpoint
from bookinghub.delivery.logic.clock import iso
from bookinghub.delivery.logic.signing import new_secret
from bookinghub.delivery.models import (
    Delivery,
    Endpoint,
    EndpointStatus,
    public_endpoint,
    website_endpoint_id,
)
from bookinghub.delivery.settings import get_delivery_settings
from bookinghub.websites.dal.admin import get_website_record, organisation_websites
from bookinghub.websites.models import Website

if TYPE_CHECKING:
    # The bookings admin (and with it the sync payload models): only send_test_webhook, imported there
    from bookinghub.bookings.models.admin import TestWebhookRequest

    # The request bodies: only annotations here (the delivery API's routes validate them)
    from bookinghub.delivery.models.api import EnableRequest, EndpointCreate, EndpointPatch, RetryFailedRequest

# The seed's success metrics (seed 003 "Success Metrics")
TARGET_SUCCESS_RATE = 95.0
TARGET_AVERAGE_MS = 2000
STATS_WINDOW_SECONDS = 86400
STATS_SAMPLE = 1000
MAX_REPLAY_BATCH = 1000
_CURSOR = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#[0-9a-f-]{36}$")


class EndpointNotFound(DomainError):
    code, status, message = "ENDPOINT_NOT_FOUND", 404, "Webhook endpoint not found"


class DeliveryNotFound(DomainError):
    code, status, message = "DELIVERY_NOT_FOUND", 404, "Delivery not found"


class DeliveryPending(DomainError):
    code, status, message = "DELIVERY_PENDING", 409, "The delivery is still being attempted"


class ManagedByWebsite(DomainError):
    code, status, message = "MANAGED_BY_WEBSITE", 409, "A website's sync back is configured on the website"


# --- Endpoints -----------------------------------------------------------------------------------------


def _visible(principal: Principal, endpoint_id: str) -> tuple[Endpoint, EndpointStatus]:
    principal.require_manager()
    endpoint, status = endpoints.load(endpoint_id) if len(endpoint_id) <= 80 else (None, None)
    if endpoint is None or status is None or not principal.sees_organisation(endpoint.organisation_id):
        raise EndpointNotFound()
    return endpoint, status


def _own(endpoint: Endpoint) -> None:
    if endpoint.kind == "website":
        raise ManagedByWebsite()


def create_endpoint(principal: Principal, body: EndpointCreate) -> dict[str, Any]:
    principal.require_manager()
    organisation = principal.scope_organisation(body.organisation_id)
    url = check_outbound_url(body.url, "url")
    endpoint_id = f"ep_{uuid.uuid4().hex}"
    secret = new_secret()
    now = iso(time.time())
    endpoint = Endpoint(
        id=endpoint_id,
        organisation_id=organisation,
        kind=body.kind or ("make" if is_make_endpoint(url, "subscription") else "subscription"),
        url=url,
        description=body.description,
        event_types=list(body.event_types),
        website_ids=list(body.website_ids) if body.website_ids else None,
        secret_encrypted=encrypt_secret(secret, purpose=endpoints.SECRET_PURPOSE, owner=endpoint_id),
        headers_encrypted=_encrypt_headers(body.headers, endpoint_id),
        header_names=sorted(body.headers or {}),
        rate_limit_per_second=body.rate_limit_per_second,
        retry_schedule_seconds=body.retry_schedule_seconds,
        created_at=now,
        updated_at=now,
    )
    endpoint_store.put_endpoint(endpoint, new=True)
    logger.info("webhook endpoint created", extra={"endpoint_id": endpoint_id, "organisation_id": organisation})
    # The only answer that ever carries the secret
    return {"endpoint": public_endpoint(endpoint, EndpointStatus(endpoint_id=endpoint_id)), "secret": secret}


def _encrypt_headers(headers: dict[str, str] | None, endpoint_id: str) -> str | None:
    if not headers:
        return None
    return encrypt_secret(json.dumps(headers), purpose=endpoints.HEADERS_PURPOSE, owner=endpoint_id)


def list_endpoints(principal: Principal, organisation_id: str | None) -> list[dict[str, Any]]:
    principal.require_manager()
    organisation = principal.scope_organisation(organisation_id)
    found = [(e, endpoint_store.get_status(e.id)) for e in endpoint_store.list_endpoints(organisation)]
    for item in organisation_websites(organisation):
        website = endpoints.website_endpoint(Website.model_validate(item))
        if website is not None:
            found.append((website, endpoint_store.get_status(website.id)))
    return [public_endpoint(e, s) for e, s in found]


def get_endpoint(principal: Principal, endpoint_id: str) -> dict[str, Any]:
    return public_endpoint(*_visible(principal, endpoint_id))


def update_endpoint(principal: Principal, endpoint_id: str, patch: EndpointPatch) -> dict[str, Any]:
    endpoint, status = _visible(principal, endpoint_id)
    _own(endpoint)
    changes: dict[str, Any] = patch.model_dump(exclude_unset=True, exclude={"headers"})
    if "url" in changes:
        changes["url"] = check_outbound_url(changes["url"], "url")
    if "headers" in patch.model_fields_set:
        changes["headers_encrypted"] = _encrypt_headers(patch.headers, endpoint.id)
        changes["header_names"] = sorted(patch.headers or {})
    updated = endpoint.model_copy(update={**changes, "updated_at": iso(time.time())})
    endpoint_store.put_endpoint(updated, new=False)
    return public_endpoint(updated, status)


def rotate_secret(principal: Principal, endpoint_id: str) -> dict[str, Any]:
    """A new secret, shown once; the old one keeps signing beside it for the grace period."""
    endpoint, _ = _visible(principal, endpoint_id)
    _own(endpoint)
    secret = new_secret()
    grace_until = int(time.time()) + get_delivery_settings().rotation_grace_seconds
    updated = endpoint.model_copy(
        update={
            "secret_encrypted": encrypt_secret(secret, purpose=endpoints.SECRET_PURPOSE, owner=endpoint.id),
            "previous_secret_encrypted": endpoint.secret_encrypted,
            "previous_secret_expires_at": grace_until,
            "updated_at": iso(time.time()),
        }
    )
    endpoint_store.put_endpoint(updated, new=False)
    logger.info("webhook secret rotated", extra={"endpoint_id": endpoint.id})
    return {"secret": secret, "previous_secret_expires_at": iso(grace_until)}


def disable_endpoint(principal: Principal, endpoint_id: str) -> dict[str, Any]:
    endpoint, _ = _visible(principal, endpoint_id)
    now = iso(time.time())
    status = endpoint_store.update_status(
        endpoint.id,
        set_fields={"state": "disabled", "state_reason": f"disabled by {principal.actor}", "state_changed_at": now},
    )
    return public_endpoint(endpoint, status)


def enable_endpoint(principal: Principal, endpoint_id: str, request: EnableRequest) -> dict[str, Any]:
    """On again with a closed circuit; optionally replay what failed while it was off."""
    endpoint, before = _visible(principal, endpoint_id)
    status = endpoint_store.update_status(
        endpoint.id,
        set_fields={
            "state": "enabled",
            "state_reason": f"enabled by {principal.actor}",
            "state_changed_at": iso(time.time()),
            "circuit": "closed",
            "circuit_open_until": 0,
            "circuit_opened_count": 0,
            "consecutive_failures": 0,
        },
        remove=("first_failure_at",),
    )
    replayed = 0
    if request.replay_failed:
        since = _iso_of(request.since) if request.since else (before.state_changed_at or iso(0))
        replayed = _replay_failed(endpoint.id, since, limit=MAX_REPLAY_BATCH)
    return {"endpoint": public_endpoint(endpoint, status), "replayed": replayed}


def _iso_of(moment: datetime) -> str:
    return iso(moment.timestamp())


# --- Deliveries ---------------------------------------------------------------------------------------


def _visible_delivery(principal: Principal, delivery_id: str) -> Delivery:
    principal.require_manager()
    delivery = store.get(delivery_id) if len(delivery_id) <= 64 else None
    if delivery is None or not principal.sees_organisation(delivery.organisation_id):
        raise DeliveryNotFound()
    return delivery


def delivery_view(delivery: Delivery) -> dict[str, Any]:
    view = delivery.model_dump(exclude={"payload"})
    view["webhook_id"] = delivery.webhook_id
    view["payload"] = json.loads(delivery.payload)
    return view


def get_delivery(principal: Principal, delivery_id: str) -> dict[str, Any]:
    return delivery_view(_visible_delivery(principal, delivery_id))


def replay_delivery(principal: Principal, delivery_id: str) -> dict[str, Any]:
    delivery = _visible_delivery(principal, delivery_id)
    if delivery.status == "pending":
        raise DeliveryPending()
    replayed = _replay(delivery)
    if replayed is None:  # it changed meanwhile (another replay): the same answer as for a pending one
        raise DeliveryPending()
    return {"delivery": delivery_view(replayed)}


def _replay(delivery: Delivery) -> Delivery | None:
    """Pending again, its schedule started over, its first attempt queued now (trigger: replay)."""
    now = time.time()
    reopened = store.reopen(
        delivery.id, was=delivery.status, now=iso(now), lease_until=iso(now + get_delivery_settings().lease_seconds)
    )
    if reopened is None:
        return None
    counter = "failed" if delivery.status == "failed" else "succeeded"
    endpoint_store.update_status(delivery.endpoint_id, add={counter: -1, "pending": 1})
    send([AttemptMessage(reopened.id, reopened.attempts, "replay", reopened.endpoint_id)])
    return reopened


def failed_deliveries(
    principal: Principal, endpoint_id: str, since: datetime, limit: int, cursor: str | None
) -> dict[str, Any]:
    endpoint, _ = _visible(principal, endpoint_id)
    if cursor is not None and not _CURSOR.match(cursor):
        raise InvalidQuery("cursor is not one this API returned", details=[{"field": "cursor", "message": "unknown"}])
    found, next_cursor = store.failed_since(endpoint.id, _iso_of(since), limit=limit, after=cursor)
    return {"deliveries": [delivery_view(d) for d in found], "next_cursor": next_cursor}


def recover(principal: Principal, endpoint_id: str, since: datetime) -> dict[str, Any]:
    """Replay every failed delivery of the endpoint since a time (Svix's "recover")."""
    endpoint, _ = _visible(principal, endpoint_id)
    return {"replayed": _replay_failed(endpoint.id, _iso_of(since), limit=MAX_REPLAY_BATCH)}


def _replay_failed(endpoint_id: str, since: str, *, limit: int, max_replays: int | None = None) -> int:
    replayed, cursor = 0, None
    while replayed < limit:
        page, cursor = store.failed_since(endpoint_id, since, limit=min(100, limit - replayed), after=cursor)
        for delivery in page:
            if (max_replays is None or delivery.replays < max_replays) and _replay(delivery) is not None:
                replayed += 1
        if not cursor:
            return replayed
    return replayed


def retry_failed_webhooks(principal: Principal, request: RetryFailedRequest) -> dict[str, Any]:
    """Seed 003's retry_failed_webhooks(max_retries): every failed delivery of the organisation replayed
    fewer than `max_retries` times goes again, up to `limit`."""
    principal.require_manager()
    organisation = principal.scope_organisation(request.organisation_id)
    ids = [e.id for e in endpoint_store.list_endpoints(organisation)]
    ids += [website_endpoint_id(str(w["id"])) for w in organisation_websites(organisation)]
    replayed = 0
    for endpoint_id in ids:
        if replayed >= request.limit:
            break
        replayed += _replay_failed(endpoint_id, iso(0), limit=request.limit - replayed, max_replays=request.max_retries)
    return {"replayed": replayed}


# --- Stats and attempts -------------------------------------------------------------------------------


def stats(principal: Principal, endpoint_id: str) -> dict[str, Any]:
    # The attempt records (and the sync-log shape they share) only for these two reads: not at the
    # delivery API's init, whose other routes never read an attempt
    from bookinghub.delivery.dal import attempts as attempt_store

    endpoint, status = _visible(principal, endpoint_id)
    now = time.time()
    recent = attempt_store.list_attempts(
        endpoint.id, since=iso(now - STATS_WINDOW_SECONDS), until=iso(now), limit=STATS_SAMPLE
    )
    durations = sorted(a.duration_ms for a in recent if a.duration_ms is not None and a.status_code is not None)
    finished = status.succeeded + status.failed
    success_rate = round(100.0 * status.succeeded / finished, 2) if finished else None
    average = round(sum(durations) / len(durations), 1) if durations else None
    return {
        "endpoint_id": endpoint.id,
        "state": status.state,
        "circuit": status.circuit,
        "sent": status.sent,  # HTTP attempts made
        "succeeded": status.succeeded,
        "failed": status.failed,
        "pending": max(0, status.pending),
        "success_rate": success_rate,
        "average_response_ms": average,
        "p95_response_ms": _percentile(durations, 95),
        "last_success_at": status.last_success_at,
        "last_failure_at": status.last_failure_at,
        "consecutive_failures": status.consecutive_failures,
        "window": {"attempts": len(recent), "seconds": STATS_WINDOW_SECONDS},
        "meets_targets": {
            "success_rate_above_95": success_rate is not None and success_rate > TARGET_SUCCESS_RATE,
            "average_below_2s": average is not None and average < TARGET_AVERAGE_MS,
        },
    }


def _percentile(values: list[int], percent: int) -> int | None:
    if not values:
        return None
    rank = max(0, min(len(values) - 1, math.ceil(percent / 100 * len(values)) - 1))  # nearest rank
    return values[rank]


def attempts(
    principal: Principal,
    endpoint_id: str,
    *,
    status_class: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[dict[str, Any]]:
    from bookinghub.delivery.dal import attempts as attempt_store

    endpoint, _ = _visible(principal, endpoint_id)
    now = time.time()
    low = _iso_of(since) if since else iso(now - 30 * 86400)
    high = _iso_of(until) if until else iso(now)
    found = attempt_store.list_attempts(endpoint.id, since=low, until=high, status_class=status_class, limit=limit)
    return [a.model_dump() for a in found]


# --- Seed 002's test webhook ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TestWebhookResult:
    delivery_id: str
    event_id: str
    report: dict[str, Any]


def send_test_webhook(principal: Principal, request: TestWebhookRequest) -> TestWebhookResult:
    """The booking's editable fields as they are, sent now as the requested event to the website's
    webhook (one attempt, inline); a retryable failure goes on with the normal schedule."""
    # The booking store and the domain event's model only for a test send
    from bookinghub.bookings.dal import bookings as booking_store
    from bookinghub.bookings.models.events import BookingDomainEvent

    principal.require_manager()
    website_item = get_website_record(request.website_id)
    if website_item is None or not principal.sees_website(str(website_item["organisation_id"]), request.website_id):
        raise WebsiteNotFound()
    booking = booking_store.get_booking(request.booking_id)
    if booking is None or booking.get("website_id") != request.website_id or not principal.sees_booking(booking):
        raise BookingNotFound()
    endpoint = endpoints.website_endpoint(Website.model_validate(website_item))
    if endpoint is None:
        raise InvalidPayload(
            "The website has no webhook to test",
            details=[{"field": "website_id", "message": "inactive, or no webhook_url or secret"}],
        )
    from bookinghub.bookings.logic.admin import EDITABLE_COLUMNS

    data = {name: booking[name] for name in EDITABLE_COLUMNS if booking.get(name) is not None}
    now = time.time()
    event = BookingDomainEvent(
        event_id=str(uuid.uuid4()),
        event_type=request.event,
        booking_id=str(booking["id"]),
        website_id=request.website_id,
        organisation_id=str(booking["organisation_id"]),
        source_booking_id=str(booking["source_booking_id"]),
        origin=f"admin:{principal.actor}",
        actor=principal.actor,
        changed_fields=sorted(data),
        data=data,
        occurred_at=iso(now),
    )
    delivery = Delivery(
        id=delivery_id_for(event.event_id, endpoint.id),
        endpoint_id=endpoint.id,
        organisation_id=event.organisation_id,
        event_id=event.event_id,
        event_type=payloads.sync_back_event(event),
        booking_id=event.booking_id,
        sequence=payloads.sequence_of(event),
        payload=payloads.serialise(payloads.sync_back_body(event)),
        created_at=iso(now),
        updated_at=iso(now),
        next_attempt_at=iso(now + get_delivery_settings().lease_seconds),
    )
    store.create(delivery)
    endpoint_store.update_status(endpoint.id, add={"pending": 1})
    # The sender (HTTP client, signing, attempt records) only for a test send: not at the admin API's init
    from bookinghub.delivery.logic import dispatch

    try:
        report = dispatch.process(AttemptMessage(delivery.id, 0, "manual", delivery.endpoint_id)).as_dict()
    except dispatch.SendToDeadLetter:  # a one-step schedule: failed and kept, nothing is queued
        report = {"outcome": "failed", "delivery_id": delivery.id}
    logger.info("test webhook sent", extra={"delivery_id": delivery.id, "outcome": report.get("outcome")})
    return TestWebhookResult(delivery.id, event.event_id, report)
