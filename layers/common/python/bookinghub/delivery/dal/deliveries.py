"""Delivery items (Bookings table): created once per (event, endpoint), claimed per attempt.

A delivery stays on the due-time index (GSI1, sharded) for as long as it is pending, at the time its
next attempt is due or, while an attempt is in flight, at the end of that attempt's lease: the
sweeper re-queues whatever is past due, so a lost message or a crashed consumer delays a delivery but
never drops it. Each queue message names the attempt number it is for; claiming it is a conditional
increment, so a duplicate or stale message never makes a second attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bookinghub.aws.batch import batch_get
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.core.settings import get_settings
from bookinghub.delivery.dal import endpoints as endpoint_store
from bookinghub.delivery.dal import keys
from bookinghub.delivery.models import Delivery, EndpointStatus
from bookinghub.websites.dal import websites as website_store
from bookinghub.websites.models import Website

_FIELDS = set(Delivery.model_fields)


def _table() -> str:
    return get_settings().bookings_table


def _key(delivery_id: str) -> dict[str, Any]:
    return {"PK": {"S": keys.delivery_pk(delivery_id)}, "SK": {"S": keys.DELIVERY_SK}}


def _delivery(item: dict[str, Any]) -> Delivery:
    return Delivery.model_validate({k: v for k, v in item.items() if k in _FIELDS})


def _due_keys(delivery_id: str, at: str) -> dict[str, str]:
    return {"GSI1PK": keys.due_shard(delivery_id), "GSI1SK": f"{at}#{delivery_id}"}


def create(delivery: Delivery) -> bool:
    """Store a new pending delivery; False when it exists already (a re-run fan-out)."""
    item = {
        "PK": keys.delivery_pk(delivery.id),
        "SK": keys.DELIVERY_SK,
        "entity": "delivery",
        **delivery.model_dump(),
        **(_due_keys(delivery.id, delivery.next_attempt_at) if delivery.next_attempt_at else {}),
    }
    dynamodb = client("dynamodb")
    try:
        dynamodb.put_item(TableName=_table(), Item=to_item(item), ConditionExpression="attribute_not_exists(PK)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def create_failed(delivery: Delivery) -> bool:
    """Store a delivery that is failed from the start (its endpoint is disabled): kept, never dropped."""
    item = {
        "PK": keys.delivery_pk(delivery.id),
        "SK": keys.DELIVERY_SK,
        "entity": "delivery",
        **delivery.model_dump(),
        "GSI3PK": keys.failed_pk(delivery.endpoint_id),
        "GSI3SK": f"{delivery.failed_at}#{delivery.id}",
    }
    dynamodb = client("dynamodb")
    try:
        dynamodb.put_item(TableName=_table(), Item=to_item(item), ConditionExpression="attribute_not_exists(PK)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def get(delivery_id: str) -> Delivery | None:
    response = client("dynamodb").get_item(TableName=_table(), Key=_key(delivery_id), ConsistentRead=True)
    return _delivery(from_item(response["Item"])) if "Item" in response else None


def get_many(delivery_ids: list[str]) -> dict[str, Delivery]:
    """Deliveries by id, strongly consistent, in BatchGetItem calls (a queue batch's in one)."""
    return read_batch(delivery_ids).deliveries


@dataclass(frozen=True)
class BatchRead:
    deliveries: dict[str, Delivery]  # by id, the ones that exist
    websites: dict[str, Website | None]  # by website id, every one asked for (None: no such website)
    statuses: dict[str, EndpointStatus]  # by endpoint id, every one asked for (fresh: no item yet)


def read_batch(
    delivery_ids: Sequence[str], *, website_ids: Sequence[str] = (), status_of: Sequence[str] = ()
) -> BatchRead:
    """A queue batch's deliveries, and beside them websites (a website endpoint's URL and secret) and
    endpoint status items, in the same strongly consistent BatchGetItem calls (one for a queue batch: up
    to 100 keys a call). Keys DynamoDB leaves unprocessed are asked again (aws/batch.py) and raise if they
    stay so: a key is reported missing only when its item is not there."""
    websites = list(dict.fromkeys(website_ids))
    statuses = list(dict.fromkeys(status_of))
    wanted = [{"PK": keys.delivery_pk(d), "SK": keys.DELIVERY_SK} for d in delivery_ids]
    wanted += [website_store.website_key(w) for w in websites]
    wanted += [endpoint_store.status_key(e) for e in statuses]
    found = {(item["PK"], item["SK"]): item for item in batch_get(_table(), wanted)} if wanted else {}
    deliveries = (
        _delivery(item)
        for (_, sk), item in found.items()
        if sk == keys.DELIVERY_SK and item.get("entity") == "delivery"
    )

    def item_at(key: dict[str, str]) -> dict[str, Any] | None:
        return found.get((key["PK"], key["SK"]))

    return BatchRead(
        deliveries={delivery.id: delivery for delivery in deliveries},
        websites={
            w: website_store.website_from_item(item) if (item := item_at(website_store.website_key(w))) else None
            for w in websites
        },
        statuses={e: endpoint_store.status_from_item(e, item_at(endpoint_store.status_key(e))) for e in statuses},
    )


def _update(delivery_id: str, expression: str, values: dict[str, Any], condition: str) -> Delivery | None:
    attributes = _write(delivery_id, expression, values, condition, "ALL_NEW")
    return _delivery(attributes) if attributes is not None else None


def _write(
    delivery_id: str, expression: str, values: dict[str, Any], condition: str, returns: str
) -> dict[str, Any] | None:
    """The conditional update; the attributes it returns (`returns`: ALL_NEW, UPDATED_NEW or NONE, which
    spares sending the payload back), or None when the condition failed."""
    dynamodb = client("dynamodb")
    try:
        response = dynamodb.update_item(
            TableName=_table(),
            Key=_key(delivery_id),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={k: to_attr(v) for k, v in values.items()},
            ReturnValues=returns,
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return None
    return from_item(response.get("Attributes") or {})


def claim(
    delivery_id: str, *, expected_attempts: int, lease_until: str, now: str, known: Delivery | None = None
) -> Delivery | None:
    """Take the next attempt: only if still pending and no other message took attempt `expected_attempts`.
    With `known` (the delivery as just read), nothing comes back: what the claim set is merged in here.

    The condition fixes `attempts` at `expected_attempts`, so setting it to the next value is the
    increment; a missing item fails the status condition as well (the write is the smallest expression
    that does both, which is what moto's CPU per call, parsing and walking it, grows with)."""
    due = _due_keys(delivery_id, lease_until)
    attributes = _write(
        delivery_id,
        "SET attempts = :next, next_attempt_at = :lease, GSI1PK = :shard, GSI1SK = :due, updated_at = :now",
        {
            ":next": expected_attempts + 1,
            ":lease": lease_until,
            ":shard": due["GSI1PK"],
            ":due": due["GSI1SK"],
            ":now": now,
            ":pending": "pending",
            ":expected": expected_attempts,
        },
        "#status = :pending AND attempts = :expected",
        "NONE" if known is not None else "ALL_NEW",
    )
    if attributes is None:
        return None
    if known is None:
        return _delivery(attributes)
    return known.model_copy(
        update={"attempts": expected_attempts + 1, "next_attempt_at": lease_until, "updated_at": now}
    )


def succeed(delivery_id: str, *, attempts: int, now: str, status_code: int) -> bool:
    """Delivered; False when the attempt was no longer this one's (its lease passed and it was re-taken)."""
    return None is not _write(
        delivery_id,
        "SET #status = :succeeded, updated_at = :now, last_status_code = :code REMOVE GSI1PK, GSI1SK, "
        "next_attempt_at, last_error",
        {":succeeded": "succeeded", ":now": now, ":code": status_code, ":pending": "pending", ":a": attempts},
        "#status = :pending AND attempts = :a",
        "NONE",
    )


def reschedule(
    delivery_id: str,
    *,
    attempts: int,
    now: str,
    next_attempt_at: str,
    due_at: str,
    schedule_index: int,
    status_code: int | None,
    error: str | None,
) -> Delivery | None:
    """Wait for the next attempt. `due_at` is when the sweeper should re-queue it: the attempt time
    itself for a long wait, a little after it when a message timer carries it (the sweeper is the fallback)."""
    due = _due_keys(delivery_id, due_at)
    return _update(
        delivery_id,
        "SET next_attempt_at = :next, GSI1PK = :shard, GSI1SK = :due, schedule_index = :idx, updated_at = :now, "
        "last_status_code = :code, last_error = :error",
        {
            ":next": next_attempt_at,
            ":shard": due["GSI1PK"],
            ":due": due["GSI1SK"],
            ":idx": schedule_index,
            ":now": now,
            ":code": status_code,
            ":error": error,
            ":pending": "pending",
            ":a": attempts,
        },
        "#status = :pending AND attempts = :a",
    )


def fail(
    delivery_id: str,
    *,
    attempts: int | None,
    now: str,
    status_code: int | None,
    error: str,
    exhausted: bool,
    endpoint_id: str | None = None,
) -> Delivery | None:
    """Failed for good (until replayed): off the due index, onto the endpoint's failed index."""
    condition = "#status = :pending" + (" AND attempts = :a" if attempts is not None else "")
    values: dict[str, Any] = {
        ":failed": "failed",
        ":now": now,
        ":code": status_code,
        ":error": error,
        ":ex": exhausted,
        ":pending": "pending",
        ":gsi3sk": f"{now}#{delivery_id}",
    }
    if attempts is not None:
        values[":a"] = attempts
    if endpoint_id is None:  # the caller has not read the delivery: its endpoint names the failed index
        delivery = get(delivery_id)
        if delivery is None:
            return None
        endpoint_id = delivery.endpoint_id
    values[":gsi3pk"] = keys.failed_pk(endpoint_id)
    return _update(
        delivery_id,
        "SET #status = :failed, updated_at = :now, failed_at = :now, last_status_code = :code, last_error = :error, "
        "exhausted = :ex, GSI3PK = :gsi3pk, GSI3SK = :gsi3sk REMOVE GSI1PK, GSI1SK, next_attempt_at",
        values,
        condition,
    )


def reopen(delivery_id: str, *, was: str, now: str, lease_until: str) -> Delivery | None:
    """A replay: a failed (or delivered) delivery becomes pending again with its schedule started over.
    `was` is the status it was read in: a concurrent change makes the replay a no-op (None)."""
    due = _due_keys(delivery_id, lease_until)
    return _update(
        delivery_id,
        "SET #status = :pending, schedule_index = :zero, exhausted = :false, updated_at = :now, "
        "next_attempt_at = :lease, GSI1PK = :shard, GSI1SK = :due, replays = if_not_exists(replays, :zero) + :one "
        "REMOVE GSI3PK, GSI3SK, failed_at",
        {
            ":pending": "pending",
            ":zero": 0,
            ":one": 1,
            ":false": False,
            ":now": now,
            ":lease": lease_until,
            ":shard": due["GSI1PK"],
            ":due": due["GSI1SK"],
            ":was": was,
        },
        "#status = :was",
    )


def push_lease(delivery_id: str, *, attempts: int, lease_until: str) -> Delivery | None:
    """The sweeper re-queued it: look again only after the lease, not at every sweep."""
    due = _due_keys(delivery_id, lease_until)
    return _update(
        delivery_id,
        "SET GSI1SK = :due",
        {":due": due["GSI1SK"], ":pending": "pending", ":a": attempts},
        "#status = :pending AND attempts = :a",
    )


def due_before(now: str, *, limit: int) -> list[Delivery]:
    """Pending deliveries whose due time has passed, oldest first per shard (GSI1 reads, no scan)."""
    found: list[Delivery] = []
    for shard in keys.due_shards():
        response = client("dynamodb").query(
            TableName=_table(),
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :shard AND GSI1SK < :now",
            ExpressionAttributeValues={":shard": {"S": shard}, ":now": {"S": now}},
            Limit=limit,
        )
        found += [_delivery(from_item(item)) for item in response["Items"]]
    return sorted(found, key=lambda d: d.next_attempt_at or "")[:limit]


def failed_since(
    endpoint_id: str, since: str, *, limit: int, after: str | None = None
) -> tuple[list[Delivery], str | None]:
    """An endpoint's failed deliveries since `since`, oldest first; returns a cursor when there are more."""
    values: dict[str, Any] = {":pk": {"S": keys.failed_pk(endpoint_id)}, ":since": {"S": since}}
    extra: dict[str, Any] = {}
    if after:
        extra["ExclusiveStartKey"] = {
            "GSI3PK": {"S": keys.failed_pk(endpoint_id)},
            "GSI3SK": {"S": after},
            **_key(after.rsplit("#", 1)[-1]),
        }
    response = client("dynamodb").query(
        TableName=_table(),
        IndexName="GSI3",
        KeyConditionExpression="GSI3PK = :pk AND GSI3SK >= :since",
        ExpressionAttributeValues=values,
        Limit=limit,
        **extra,
    )
    items = [from_item(item) for item in response["Items"]]
    cursor = str(items[-1]["GSI3SK"]) if response.get("LastEvaluatedKey") and items else None
    return [_delivery(item) for item in items], cursor
