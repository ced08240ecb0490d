"""Sync log rows (IntegrationLogs table, retention by TTL) and outbox items (Bookings table).

The inbound sync writes both inside its booking transaction (dal/bookings.py); the rest write a sync
log row on its own (put_sync_log) and read outbox items back from the stream (outbox_event).
"""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import ValidationError

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_item
from bookinghub.aws.query import query_items
from bookinghub.bookings.models.events import BookingDomainEvent, SyncLog
from bookinghub.core.settings import get_settings

# Attributes of the outbox item that are storage layout, not part of the event
_OUTBOX_STORAGE_ATTRIBUTES = {"PK", "SK", "entity"}


def sync_log_item(log: SyncLog) -> dict[str, Any]:
    retention = get_settings().log_retention_days * 86400
    item: dict[str, Any] = {
        "PK": keys.sync_log_pk(log.website_id),
        "SK": f"{log.created_at}#{log.id}",
        "entity": "sync_log",
        **log.model_dump(exclude={"payload"}),
        # JSON text: keeps the audit row exactly as sent, whatever its shape
        "payload": json.dumps(log.payload, separators=(",", ":")) if log.payload is not None else None,
        "expires_at": int(time.time()) + retention,
    }
    if log.booking_id:
        item["GSI1PK"] = keys.booking_pk(log.booking_id)
        item["GSI1SK"] = log.created_at
    return item


def put_sync_log(log: SyncLog) -> None:
    client("dynamodb").put_item(TableName=get_settings().integration_logs_table, Item=to_item(sync_log_item(log)))


def event_item(domain_event: BookingDomainEvent | dict[str, Any]) -> dict[str, Any]:
    """The outbox item of a domain event, stored beside its booking."""
    event = domain_event.model_dump(exclude_none=True) if isinstance(domain_event, BookingDomainEvent) else domain_event
    return {
        "PK": keys.booking_pk(event["booking_id"]),
        "SK": keys.event_sk(event["occurred_at"], event["event_id"]),
        "entity": "event",
        **{k: v for k, v in event.items() if k != "data"},
        "data": json.dumps(event["data"], separators=(",", ":"), default=str),
    }


class NotAnOutboxEvent(Exception):
    """A stream record of another item of the Bookings table (a booking, a website...)."""

    def __init__(self, sk: Any) -> None:
        super().__init__("not an outbox event")
        self.sk = sk


class MalformedOutboxEvent(Exception):
    """An outbox item that is not a valid event: it can never become one by retrying."""

    def __init__(self, pk: Any, sk: Any, reason: str) -> None:
        super().__init__(reason)
        self.pk, self.sk, self.reason = pk, sk, reason


def outbox_event(new_image: dict[str, Any]) -> BookingDomainEvent:
    """The domain event of a stream record's NewImage (DynamoDB-typed)."""
    item = from_item(new_image)
    if not str(item.get("SK", "")).startswith(keys.EVENT_SK_PREFIX):
        raise NotAnOutboxEvent(item.get("SK"))
    try:
        return event_from_outbox_item(item)
    except (ValidationError, ValueError) as error:
        raise MalformedOutboxEvent(item.get("PK"), item.get("SK"), str(error)) from None


def event_from_outbox_item(item: dict[str, Any]) -> BookingDomainEvent:
    """The inverse of event_item: the outbox item (plain Python values) back into its event."""
    fields = {k: v for k, v in item.items() if k not in _OUTBOX_STORAGE_ATTRIBUTES}
    data = fields.get("data")
    # event_item stores `data` as JSON text so the event keeps its exact shape in the table
    fields["data"] = json.loads(data) if isinstance(data, str) else data
    return BookingDomainEvent.model_validate(fields)


# --- A booking's history (`bookinghub logs`) ----------------------------------------------------------


def list_sync_logs(booking_id: str) -> list[SyncLog]:
    """Every sync log row of one booking (inbound syncs and sync-backs), oldest first (GSI1 BOOKING#id)."""
    request = {
        "TableName": get_settings().integration_logs_table,
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk",
        "ExpressionAttributeValues": to_item({":pk": keys.booking_pk(booking_id)}),
    }
    logs = []
    for item in query_items(request):
        payload = item.get("payload")
        fields = {k: v for k, v in item.items() if k in SyncLog.model_fields}
        fields["payload"] = json.loads(payload) if isinstance(payload, str) else payload
        logs.append(SyncLog.model_validate(fields))
    return logs


def list_events(booking_id: str) -> list[BookingDomainEvent]:
    """The booking's domain events (its outbox items, kept beside it), oldest first."""
    request = {
        "TableName": get_settings().bookings_table,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :events)",
        "ExpressionAttributeValues": to_item({":pk": keys.booking_pk(booking_id), ":events": keys.EVENT_SK_PREFIX}),
        "ConsistentRead": True,
    }
    return [event_from_outbox_item(item) for item in query_items(request)]
