"""The durable timeline (RealtimeTimeline table): every booking domain event, kept TIMELINE_DAYS.

Each filter key (booking_id:..., website_id:..., user_id:..., provider_id:...) has its own durable order:
Counter     PK=TL#{filter key}   SK=N                the last position given in this key's order (kept)
Event copy  PK=TL#{filter key}   SK=P#{position:012} one per filter key the event matches, so a catch-up is
            one strongly consistent query whatever the filter (a GSI would be eventually consistent)
Seen mark   PK=TL#{filter key}   SK=E#{event id}     the position the event got in this key, so a
            redelivery never places it twice and a `since=<event id>` cursor finds its position
Marker      PK=EVT#{domain event id}  SK=EVT         the id and sequence given to a domain event, so a
            redelivered event gets the same ones and is never appended twice

Why positions and not the ids: ids carry the time they were minted, and two writers (two bookings'
broadcasters) can store theirs in the other order, even within one millisecond; a reader between the two
writes would take the later id as its cursor and never see the earlier one. A position is taken in one
transaction with the counter (condition: the counter is still at the previous position), so position p
is committed only after p-1 is: a reader always sees a gapless prefix of the order, and anything placed
after it read lands after its cursor. A redelivery that writes its copies days late gets new positions
at the end, so it is never behind a cursor either.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_item
from bookinghub.core.settings import get_settings
from bookinghub.realtime.models import TIMELINE_DAYS, TimelineEvent

MARKER_SK = "EVT"
COUNTER_SK = "N"
COPY_PREFIX = "P#"
SEEN_PREFIX = "E#"
RETENTION_SECONDS = TIMELINE_DAYS * 86400
PAGE = 200
PLACE_ATTEMPTS = 60  # concurrent writers on one key retry; each loss means another event got placed


class PlacementContended(RuntimeError):
    """A filter key's order stayed contended for every attempt: the event is redelivered."""


def copy_sk(position: int) -> str:
    return f"{COPY_PREFIX}{position:012d}"


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
    return _last_copy(f"booking_id:{booking_id}")


def _last_copy(filter_key: str) -> TimelineEvent | None:
    response = client("dynamodb").query(
        TableName=_table(),
        KeyConditionExpression="PK = :pk AND begins_with(SK, :copy)",
        ExpressionAttributeValues=to_item({":pk": timeline_pk(filter_key), ":copy": COPY_PREFIX}),
        ScanIndexForward=False,
        Limit=1,
        ConsistentRead=True,
    )
    items = response.get("Items") or []
    return event_from_item(from_item(items[0])) if items else None


def put_copies(event: TimelineEvent) -> dict[str, int]:
    """Place the event in the order of each of its filter keys (idempotent: a key where it was placed
    already keeps that position); returns its position per key."""
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
    return {key: _place(key, event.id, base) for key in event.filter_keys()}


def _place(filter_key: str, event_id: str, base: dict[str, Any]) -> int:
    dynamodb = client("dynamodb")
    pk = timeline_pk(filter_key)
    for attempt in range(PLACE_ATTEMPTS):
        last = last_position(filter_key)
        position = last + 1
        counter: dict[str, Any] = {"TableName": _table(), "Item": to_item({"PK": pk, "SK": COUNTER_SK, "n": position})}
        if last:
            counter.update(ConditionExpression="n = :last", ExpressionAttributeValues=to_item({":last": last}))
        else:
            counter["ConditionExpression"] = "attribute_not_exists(PK)"
        seen = {
            "PK": pk,
            "SK": f"{SEEN_PREFIX}{event_id}",
            "position": position,
            "expires_at": base["expires_at"],
        }
        try:
            dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": counter},
                    {
                        "Put": {
                            "TableName": _table(),
                            "Item": to_item(seen),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": _table(),
                            "Item": to_item({"PK": pk, "SK": copy_sk(position), "position": position, **base}),
                        }
                    },
                ]
            )
            return position
        except dynamodb.exceptions.TransactionCanceledException as error:
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                placed = position_of(filter_key, event_id, include_expired=True)
                if placed is not None:  # a redelivery: it has its place in this key already
                    return placed
        # another writer took this position (or the transaction conflicted): read the counter again
        time.sleep(random.uniform(0, min(0.05, 0.002 * 2**attempt)))
    raise PlacementContended(f"could not place event {event_id} in {filter_key}")


def last_position(filter_key: str) -> int:
    """The last position given in the key's order (0 before its first event); it never goes back."""
    response = client("dynamodb").get_item(
        TableName=_table(), Key=to_item({"PK": timeline_pk(filter_key), "SK": COUNTER_SK}), ConsistentRead=True
    )
    return int(from_item(response["Item"])["n"]) if "Item" in response else 0


def position_of(filter_key: str, event_id: str, *, include_expired: bool = False) -> int | None:
    """The position `event_id` has in the key's order; None if it never had one or it has expired."""
    response = client("dynamodb").get_item(
        TableName=_table(),
        Key=to_item({"PK": timeline_pk(filter_key), "SK": f"{SEEN_PREFIX}{event_id}"}),
        ConsistentRead=True,
    )
    if "Item" not in response:
        return None
    item = from_item(response["Item"])
    if not include_expired and int(item.get("expires_at") or 0) <= time.time():
        return None
    return int(item["position"])


def after(filter_key: str, after_position: int = 0, *, newest_first: bool = False) -> Iterator[TimelineEvent]:
    """The filter's kept events placed after `after_position`, in the key's order (or newest first)."""
    now = int(time.time())
    values: dict[str, Any] = {
        ":pk": timeline_pk(filter_key),
        ":now": now,
        ":from": copy_sk(after_position + 1),
        ":to": COPY_PREFIX + "~",  # past every zero-padded position
    }
    request: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :from AND :to",
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


def latest(filter_key: str) -> tuple[int, str | None]:
    """The key's last position and the id of the last event still kept (None when none is)."""
    position = last_position(filter_key)
    return position, next((event.id for event in after(filter_key, 0, newest_first=True)), None)


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
        positions={str(item["PK"]).removeprefix("TL#"): int(item["position"])} if "position" in item else {},
    )
