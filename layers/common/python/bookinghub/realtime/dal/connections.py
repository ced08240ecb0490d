"""Open connections and their subscriptions (RealtimeConnections table, TTL on `expires_at`).

  Connection    PK=CONN#{connection id}  SK=CONN            the caller's scope, its subscriptions' keys
  Subscription  PK=SUB#{filter key}      SK={connection id}  the scope again (the broadcaster checks
                tenancy without another read), `state` replaying|live, `pending`, `position`
                (the last timeline position of the filter's order the replay covered)
  Watch         PK=WATCH#{filter key}    SK=WATCH            `expires_at`: the key is watched (its events
                are placed in its timeline) until then: WATCH_SECONDS after its last subscribe or leave

Why a watch: placing an event in a key's timeline costs about 10 write units; a key nobody subscribes to
costs only the broadcaster's strongly consistent read of its watch item. A key stays watched for the
resume window after its last subscriber left, so a client that dropped can resume with its cursor and
miss nothing. A subscription marks its key watched before it reads its starting position (logic/subscribe.py).

The broadcaster finds a filter's subscribers by the table's own key: one strongly consistent query, so
a subscription is seen the moment it is registered (an index would be eventually consistent, and an
event appended right after a subscribe could miss it). API Gateway closes every connection after 2 h:
items expire a little later, should $disconnect never arrive.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from bookinghub.aws.batch import batch_get
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.core.settings import get_settings
from bookinghub.realtime.logic.scope import Scope
from bookinghub.realtime.models import MAX_SUBSCRIPTIONS, TIMELINE_DAYS

CONNECTION_SK = "CONN"
LIFETIME_SECONDS = 2 * 3600 + 600
WATCH_SK = "WATCH"
# A watch is written at most once per WATCH_REFRESH_SECONDS per key (a busy key's subscribes read it only)
WATCH_REFRESH_SECONDS = 600
# From a subscribe (or a leave), the resume window, plus the longest a connection lives without a
# $disconnect (a lost one refreshes nothing), plus the refresh's slack: a cursor from the connection's
# last frame stays resumable for TIMELINE_DAYS, and every event it could miss meanwhile is placed
WATCH_SECONDS = TIMELINE_DAYS * 86400 + LIFETIME_SECONDS + WATCH_REFRESH_SECONDS
SubscriptionState = Literal["replaying", "live"]


class TooManySubscriptions(Exception):
    pass


class ConnectionMissing(Exception):
    pass


@dataclass(frozen=True)
class Subscription:
    connection_id: str
    filter_key: str
    scope: Scope
    state: SubscriptionState
    pending: int
    position: int | None
    missing: frozenset[int] = frozenset()  # holes in a booking's order below `position` (dal/timeline.py)


def _table() -> str:
    return get_settings().realtime_connections_table


def _connection_key(connection_id: str) -> dict[str, Any]:
    return to_item({"PK": f"CONN#{connection_id}", "SK": CONNECTION_SK})


def _subscription_key(filter_key: str, connection_id: str) -> dict[str, Any]:
    return to_item({"PK": f"SUB#{filter_key}", "SK": connection_id})


def put_connection(connection_id: str, scope: Scope, now: float | None = None) -> None:
    connected = int(time.time() if now is None else now)
    item = {
        "PK": f"CONN#{connection_id}",
        "SK": CONNECTION_SK,
        "connection_id": connection_id,
        "connected_at": connected,
        "expires_at": connected + LIFETIME_SECONDS,
        **scope.to_item(),
    }
    client("dynamodb").put_item(TableName=_table(), Item=to_item(item))


def get_connection(connection_id: str) -> tuple[Scope, set[str], int] | None:
    """The connection's scope, its subscriptions' filter keys and its expiry; None if unknown."""
    response = client("dynamodb").get_item(TableName=_table(), Key=_connection_key(connection_id), ConsistentRead=True)
    if "Item" not in response:
        return None
    item = from_item(response["Item"])
    return Scope.from_item(item), set(item.get("subscriptions") or ()), int(item["expires_at"])


def delete_connection(connection_id: str) -> None:
    """The connection and every subscription it holds (idempotent); their keys stay watched for the
    resume window from now."""
    found = get_connection(connection_id)
    dynamodb = client("dynamodb")
    for filter_key in sorted(found[1]) if found else ():
        watch(filter_key)
        dynamodb.delete_item(TableName=_table(), Key=_subscription_key(filter_key, connection_id))
    dynamodb.delete_item(TableName=_table(), Key=_connection_key(connection_id))


def add_subscription(connection_id: str, filter_key: str, scope: Scope, *, state: SubscriptionState) -> None:
    """Register (or restart) a subscription; raises TooManySubscriptions or ConnectionMissing."""
    dynamodb = client("dynamodb")
    try:
        response = dynamodb.update_item(
            TableName=_table(),
            Key=_connection_key(connection_id),
            UpdateExpression="ADD subscriptions :key",
            ConditionExpression=(
                "attribute_exists(PK) AND (attribute_not_exists(subscriptions) OR size(subscriptions) < :max "
                "OR contains(subscriptions, :one))"
            ),
            ExpressionAttributeValues={
                ":key": {"SS": [filter_key]},
                ":one": to_attr(filter_key),
                ":max": to_attr(MAX_SUBSCRIPTIONS),
            },
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException as error:
        if "Item" in error.response:
            raise TooManySubscriptions() from None
        raise ConnectionMissing() from None
    expires_at = int(from_item(response["Attributes"])["expires_at"])
    item = {
        "PK": f"SUB#{filter_key}",
        "SK": connection_id,
        "connection_id": connection_id,
        "filter_key": filter_key,
        "state": state,
        "pending": 0,
        "expires_at": expires_at,
        **scope.to_item(),
    }
    dynamodb.put_item(TableName=_table(), Item=to_item(item))


def remove_subscription(connection_id: str, filter_key: str) -> None:
    watch(filter_key)  # the resume window runs from the leave
    dynamodb = client("dynamodb")
    dynamodb.delete_item(TableName=_table(), Key=_subscription_key(filter_key, connection_id))
    with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):  # the connection is gone
        dynamodb.update_item(
            TableName=_table(),
            Key=_connection_key(connection_id),
            UpdateExpression="DELETE subscriptions :key",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":key": {"SS": [filter_key]}},
        )


def get_subscription(connection_id: str, filter_key: str) -> Subscription | None:
    response = client("dynamodb").get_item(
        TableName=_table(), Key=_subscription_key(filter_key, connection_id), ConsistentRead=True
    )
    return _subscription(from_item(response["Item"])) if "Item" in response else None


def subscribers(filter_key: str) -> Iterator[Subscription]:
    request: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": to_item({":pk": f"SUB#{filter_key}"}),
        "ConsistentRead": True,
    }
    while True:
        response = client("dynamodb").query(**request)
        for raw in response.get("Items") or []:
            yield _subscription(from_item(raw))
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def defer(connection_id: str, filter_key: str) -> bool:
    """Tell a replaying subscription that an event came (it re-reads the timeline before going live).

    False when the subscription is live (or gone): the broadcaster then posts the event itself."""
    dynamodb = client("dynamodb")
    try:
        dynamodb.update_item(
            TableName=_table(),
            Key=_subscription_key(filter_key, connection_id),
            UpdateExpression="ADD pending :one",
            ConditionExpression="#state = :replaying",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_item({":one": 1, ":replaying": "replaying"}),
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def go_live(
    connection_id: str,
    filter_key: str,
    *,
    seen_pending: int,
    position: int | None,
    missing: frozenset[int] = frozenset(),
) -> bool:
    """Switch to live if no event was deferred since `seen_pending` was read; False means read again.
    `missing`: the positions up to `position` the replay did not find (a booking's order only)."""
    dynamodb = client("dynamodb")
    values: dict[str, Any] = {":live": "live", ":seen": seen_pending, ":replaying": "replaying"}
    update = "SET #state = :live"
    if position is not None:
        update += ", #position = :position"
        values[":position"] = position
    if missing:
        update += ", #missing = :missing"
        values[":missing"] = sorted(missing)
    try:
        dynamodb.update_item(
            TableName=_table(),
            Key=_subscription_key(filter_key, connection_id),
            UpdateExpression=update,
            ConditionExpression="#state = :replaying AND pending = :seen",
            ExpressionAttributeNames={
                "#state": "state",
                **({"#position": _position_attribute(filter_key)} if position is not None else {}),
                **({"#missing": "missing"} if missing else {}),
            },
            ExpressionAttributeValues=to_item(values),
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


# --- watches: which keys have their events placed in the timeline ----------------------------------------


def _watch_key(filter_key: str) -> dict[str, str]:
    return {"PK": f"WATCH#{filter_key}", "SK": WATCH_SK}


def watch(filter_key: str, now: float | None = None) -> int:
    """Mark the key watched for WATCH_SECONDS from now (written at most once per WATCH_REFRESH_SECONDS);
    returns the watch's expiry. Only ever moved forwards."""
    now = time.time() if now is None else now
    until = int(now) + WATCH_SECONDS
    dynamodb = client("dynamodb")
    # An eventually consistent read can only be stale towards an earlier expiry (or none): a rewrite
    response = dynamodb.get_item(TableName=_table(), Key=to_item(_watch_key(filter_key)))
    current = int(from_item(response["Item"]).get("expires_at") or 0) if "Item" in response else 0
    if current >= until - WATCH_REFRESH_SECONDS:
        return current
    with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):  # moved further meanwhile
        dynamodb.put_item(
            TableName=_table(),
            Item=to_item({**_watch_key(filter_key), "filter_key": filter_key, "expires_at": until}),
            ConditionExpression="attribute_not_exists(expires_at) OR expires_at < :until",
            ExpressionAttributeValues=to_item({":until": until}),
        )
    return until


def watched(filter_keys: list[str], now: float | None = None) -> set[str]:
    """Which of the keys are watched now: one strongly consistent BatchGetItem (a watch written a moment
    ago by a subscribe must be seen, see logic/broadcast.py). TTL deletes lazily: the expiry is checked."""
    now = time.time() if now is None else now
    items = batch_get(_table(), [_watch_key(key) for key in filter_keys]) if filter_keys else []
    return {str(item["filter_key"]) for item in items if int(item.get("expires_at") or 0) > now}


def _position_attribute(filter_key: str) -> str:
    # A booking's order is its sequence since its events are its event items; a booking subscription
    # that went live before that has `position` in the order it had then, which is not compared with it
    return "seq_to" if filter_key.startswith("booking_id:") else "position"


def _subscription(item: dict[str, Any]) -> Subscription:
    position = item.get(_position_attribute(str(item["filter_key"])))
    return Subscription(
        connection_id=str(item["connection_id"]),
        filter_key=str(item["filter_key"]),
        scope=Scope.from_item(item),
        state="live" if item.get("state") == "live" else "replaying",
        pending=int(item.get("pending") or 0),
        position=int(position) if position is not None else None,
        missing=frozenset(int(p) for p in item.get("missing") or ()),
    )
