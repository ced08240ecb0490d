"""The durable timeline (RealtimeTimeline table): every booking domain event, kept TIMELINE_DAYS.

Event copy  PK=TL#{filter key}   SK={event id}   one per filter key the event matches (booking_id:...,
            website_id:..., user_id:..., provider_id:...), so a catch-up is one strongly consistent
            query whatever the filter (a GSI would be eventually consistent and could drop an event)
Marker      PK=EVT#{domain event id}  SK=EVT     the id and sequence given to a domain event, so a
            redelivered event gets the same ones and is never appended twice
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_item
from bookinghub.core.settings import get_settings
from bookinghub.realtime.models import TIMELINE_DAYS, TimelineEvent

MARKER_SK = "EVT"
RETENTION_SECONDS = TIMELINE_DAYS * 86400
PAGE = 200


def timeline_pk(filter_key: str) -> str:
    return f"TL#{filter_key}"


def _table() -> str:
    return get_settings().realtime_timeline_table


def get_marker(domain_event_id: str) -> dict[str, Any] | None:
    response = client("dynamodb").get_item(
        TableName=_table(),
        Key=to_item({"PK": f"EVT#{domain_event_id}", "SK": MARKER_SK}),
        ConsistentRead=True,
    )
    return from_item(response["Item"]) if "Item" in response else None


def put_marker(domain_event_id: str, event: TimelineEvent) -> bool:
    """Claim the id and sequence for a domain event; False if another delivery claimed it first."""
    item = {
        "PK": f"EVT#{domain_event_id}",
        "SK": MARKER_SK,
        "id": event.id,
        "sequence": event.sequence,
        "booking_id": event.booking_id,
        "expires_at": int(time.time()) + RETENTION_SECONDS,
    }
    dynamodb = client("dynamodb")
    try:
        dynamodb.put_item(TableName=_table(), Item=to_item(item), ConditionExpression="attribute_not_exists(PK)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def last_of_booking(booking_id: str) -> TimelineEvent | None:
    response = client("dynamodb").query(
        TableName=_table(),
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues=to_item({":pk": timeline_pk(f"booking_id:{booking_id}")}),
        ScanIndexForward=False,
        Limit=1,
        ConsistentRead=True,
    )
    items = response.get("Items") or []
    return event_from_item(from_item(items[0])) if items else None


def put_copies(event: TimelineEvent) -> None:
    """Write the event under each of its filter keys (idempotent: same keys, same content)."""
    expires_at = int(time.time()) + RETENTION_SECONDS
    base = {
        "id": event.id,
        "booking_id": event.booking_id,
        "sequence": event.sequence,
        "event_type": event.event_type,
        "occurred_at": event.occurred_at,
        "data": json.dumps(event.data, separators=(",", ":"), default=str),
        "website_id": event.website_id,
        "organisation_id": event.organisation_id,
        "user_id": event.user_id,
        "expires_at": expires_at,
    }
    requests = [
        {"PutRequest": {"Item": to_item({"PK": timeline_pk(key), "SK": event.id, **base})}}
        for key in event.filter_keys()
    ]
    _batch_write(requests)


def _batch_write(requests: list[dict[str, Any]]) -> None:
    dynamodb = client("dynamodb")
    pending = {_table(): requests}
    for attempt in range(8):
        response = dynamodb.batch_write_item(RequestItems=pending)
        pending = response.get("UnprocessedItems") or {}
        if not pending:
            return
        time.sleep(min(1.0, 0.05 * 2**attempt))
    raise RuntimeError("BatchWriteItem left timeline copies unprocessed")


def after(filter_key: str, after_id: str | None, *, newest_first: bool = False) -> Iterator[TimelineEvent]:
    """The filter's events after `after_id` (all kept ones when None), oldest first, in pages."""
    now = int(time.time())
    expression = "PK = :pk AND SK > :after" if after_id else "PK = :pk"
    values: dict[str, Any] = {":pk": timeline_pk(filter_key), ":now": now}
    if after_id:
        values[":after"] = after_id
    request: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": expression,
        # TTL deletes lazily (up to days late): an expired copy is past the window all the same
        "FilterExpression": "expires_at > :now",
        "ExpressionAttributeValues": to_item(values),
        "ConsistentRead": True,
        "ScanIndexForward": not newest_first,
        "Limit": PAGE,
    }
    while True:
        response = client("dynamodb").query(**request)
        for raw in response.get("Items") or []:
            yield event_from_item(from_item(raw))
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def latest_id(filter_key: str) -> str | None:
    return next((event.id for event in after(filter_key, None, newest_first=True)), None)


def event_from_item(item: dict[str, Any]) -> TimelineEvent:
    data = item.get("data")
    return TimelineEvent(
        id=str(item["id"]),
        booking_id=str(item["booking_id"]),
        sequence=int(item["sequence"]),
        event_type=str(item["event_type"]),
        occurred_at=str(item["occurred_at"]),
        data=json.loads(data) if isinstance(data, str) else dict(data or {}),
        website_id=str(item["website_id"]),
        organisation_id=str(item["organisation_id"]),
        user_id=item.get("user_id"),
    )
