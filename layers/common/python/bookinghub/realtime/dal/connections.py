"""Open connections and their subscriptions (RealtimeConnections table, TTL on `expires_at`).

  Connection    PK=CONN#{connection id}  SK=CONN            the caller's scope, its subscriptions' keys
  Subscription  PK=SUB#{filter key}      SK={connection id}  the scope again (the broadcaster checks
                tenancy without another read), `state` replaying|live, `pending`, `position`
                (the last timeline position of the filter's order the replay covered)
  Hub watches   PK=WATCH#HUB             SK=WATCH            one attribute per watched key, named by the
                key, valued its expiry: the key is watched (its events are placed in its timeline) until
                then, WATCH_SECONDS after its last subscribe or leave; `b` the bytes those attributes take
                (at most SUMMARY_BYTES: one read unit), `overflow` an expiry (keys below, see next)
  Watches       PK=WATCH#ORG#{org}       SK=WATCH            the same, for an organisation's keys that
                did not fit in the hub's (`WATCH#ORG#*`: keys watched in every organisation)
  Watch         PK=WATCH#{filter key}    SK=WATCH            `expires_at`: a key that did not fit there
                either (both levels above it then carry `overflow` until as late); also every watched
                key's item as the relay before the summaries kept them (no marks: copy_watch copies them)

Why a watch: placing an event in a key's timeline costs about 10 write units; an event none of whose
keys is watched costs only the outbox relay's strongly consistent read of the hub's watches (1 read
unit while they fit in one item: some 60 keys) and never invokes the broadcaster. Which organisation a
key belongs to (logic/watch.py): its booking's, website's or provider's; a `user_id` the subscriber's
(a superadmin's watches it in every organisation, including ones that first appear later). A key stays
watched for the resume window after its last subscriber left, so a client that dropped can resume with
its cursor and miss nothing. A subscription marks its key watched before it reads its starting position
(logic/subscribe.py). Watch writers never lose each other's keys: each key is its own attribute, set
and removed by conditional single-item updates, and `b` moves with it in the same update, so a summary
never outgrows SUMMARY_BYTES. A key that does not fit goes a level down (its organisation's watches,
then an item of its own), and only then is the level above marked `overflow`: a reader goes down a
level only past a mark, so it finds every key written before the mark it saw.

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
WATCH_IN = "watch_in"  # on a subscription: the organisation whose watches hold its key
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
    for filter_key in sorted(found[1]) if found else ():
        _delete_subscription(connection_id, filter_key)
    client("dynamodb").delete_item(TableName=_table(), Key=_connection_key(connection_id))


def _delete_subscription(connection_id: str, filter_key: str) -> None:
    """Delete the subscription, then refresh its key's watch (in the watches its subscribe wrote): the
    resume window runs from the leave. Its subscribe's watch lasts past that window already, so a leave
    stopped between the two loses nothing."""
    response = client("dynamodb").delete_item(
        TableName=_table(), Key=_subscription_key(filter_key, connection_id), ReturnValues="ALL_OLD"
    )
    if "Attributes" in response:
        old = from_item(response["Attributes"])
        # One written before watches were kept per organisation has none: the hub's watches, read always
        watch(filter_key, old.get(WATCH_IN))


def add_subscription(
    connection_id: str, filter_key: str, scope: Scope, *, state: SubscriptionState, watch_in: str | None = None
) -> None:
    """Register (or restart) a subscription; raises TooManySubscriptions or ConnectionMissing. `watch_in`:
    the organisation whose watches hold its key (None: the hub's), refreshed when it ends."""
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
    if watch_in is not None:
        item[WATCH_IN] = watch_in
    dynamodb.put_item(TableName=_table(), Item=to_item(item))


def remove_subscription(connection_id: str, filter_key: str) -> None:
    _delete_subscription(connection_id, filter_key)
    dynamodb = client("dynamodb")
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

# The watched keys' attributes of one summary item: with its keys and `b`/`overflow`, under 4 KB (one
# read unit, strongly consistent)
SUMMARY_BYTES = 3200
_COUNTER, _OVERFLOW = "b", "overflow"
HUB_SUMMARY = {"PK": "WATCH#HUB", "SK": WATCH_SK}
ACROSS_ORGANISATIONS = "*"  # the second-level summary of keys watched in every organisation


def _organisation_summary(organisation_id: str | None) -> dict[str, str]:
    return {"PK": f"WATCH#ORG#{organisation_id or ACROSS_ORGANISATIONS}", "SK": WATCH_SK}


def _watch_key(filter_key: str) -> dict[str, str]:
    return {"PK": f"WATCH#{filter_key}", "SK": WATCH_SK}


def _size(filter_key: str) -> int:
    """What a key's attribute adds to its summary (DynamoDB: name bytes + a number's, at most 21)."""
    return len(filter_key.encode()) + 21


def _overflowed(summary: dict[str, Any], now: float) -> bool:
    return int(summary.get(_OVERFLOW) or 0) > now


def watch(filter_key: str, organisation_id: str | None, now: float | None = None) -> int:
    """Mark the key watched for WATCH_SECONDS from now (written at most once per WATCH_REFRESH_SECONDS):
    in the hub's watches if it fits, else in its organisation's (None: the cross-organisation ones),
    else in an item of its own, each level passed over marked `overflow` after the key is written (a
    reader goes down a level only past a mark). Returns the watch's expiry; only ever moved forwards."""
    now = time.time() if now is None else now
    return _place(filter_key, organisation_id, int(now) + WATCH_SECONDS, now, slack=WATCH_REFRESH_SECONDS)[0]


def copy_watch(filter_key: str, until: int, now: float | None = None) -> int | None:
    """Place a per-key watch (its `WATCH#<key>` item, expiring at `until`) in the summaries as
    watch(key, None) places it, keeping its expiry: the cross-organisation level, as the item names no
    organisation. Returns the level written (0 the hub's, 1 the cross-organisation one, 2 left in its own
    item with both levels marked `overflow`), None when the summaries hold it as late already. Idempotent
    and safe beside watch(): every write only moves an expiry forwards, `b` moves only with a new key."""
    now = time.time() if now is None else now
    return _place(filter_key, None, until, now, slack=0)[1]


def _place(
    filter_key: str, organisation_id: str | None, until: int, now: float, *, slack: int
) -> tuple[int, int | None]:
    """watch()'s body: the expiry now held and the level written (None: none, it was as late already)."""
    levels = [HUB_SUMMARY, _organisation_summary(organisation_id)]
    current, holder, marks = _current(filter_key, levels, now)
    # A key in its own item is found only while both marks last: an old per-key item outlasting them
    # (it was written without marks) is placed again, so that they are moved up to it
    if current >= until - slack and (holder != len(levels) or marks >= current):
        return current, None
    placed = next(
        (n for n, level in enumerate(levels) if _summarise(level, filter_key, until, now, known=holder == n)),
        len(levels),
    )
    if placed == len(levels):
        _put_if_later(_watch_key(filter_key), {"filter_key": filter_key, "expires_at": until}, "expires_at", until)
    for level in reversed(levels[:placed]):
        _put_if_later(level, {}, _OVERFLOW, until, update=True)
    return until, placed


def own_watches(page_size: int = 500) -> Iterator[tuple[str, int]]:
    """Every per-key watch item (`WATCH#<key>`: its key and expiry), a Scan page at a time (they have no
    partition of their own), strongly consistent: one written before the scan reaches its page is seen."""
    dynamodb = client("dynamodb")
    request: dict[str, Any] = {
        "TableName": _table(),
        "ConsistentRead": True,
        "Limit": page_size,
        "FilterExpression": "SK = :sk AND begins_with(PK, :watch) AND attribute_exists(filter_key)",
        "ProjectionExpression": "filter_key, expires_at",
        "ExpressionAttributeValues": to_item({":sk": WATCH_SK, ":watch": "WATCH#"}),
    }
    while True:
        response = dynamodb.scan(**request)
        for raw in response["Items"]:
            item = from_item(raw)
            yield str(item["filter_key"]), int(item.get("expires_at") or 0)
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _current(filter_key: str, levels: list[dict[str, str]], now: float) -> tuple[int, int | None, int]:
    """The key's expiry as last written, the level holding it (len(levels): its own item) and, for its
    own item, until when the levels' `overflow` marks lead readers to it; read eventually consistent:
    stale only towards an earlier expiry (or none), which means a rewrite."""
    dynamodb = client("dynamodb")
    marks: list[int] = []
    for n, level in enumerate(levels):
        found = dynamodb.get_item(TableName=_table(), Key=to_item(level)).get("Item")
        summary = from_item(found) if found else {}
        if filter_key in summary:
            return int(summary[filter_key]), n, 0
        if not _overflowed(summary, now):
            return 0, None, 0  # not below a level without the mark
        marks.append(int(summary[_OVERFLOW]))
    own = dynamodb.get_item(TableName=_table(), Key=to_item(_watch_key(filter_key))).get("Item")
    if not own:
        return 0, None, 0
    return int(from_item(own).get("expires_at") or 0), len(levels), min(marks)


def _summarise(summary: dict[str, str], filter_key: str, until: int, now: float, *, known: bool) -> bool:
    """Set the key's expiry in the summary; False when it is not there and does not fit. `known`: the
    key was in the summary as read (so its refresh is tried first: a failed write costs a unit too)."""
    steps = (_refresh, _add) if known else (_add, _refresh)
    for attempt in range(2):
        if any(step(summary, filter_key, until) for step in steps):
            return True
        if attempt == 0 and not _prune(summary, now):
            return False  # nothing expired to make room
    return False


def _refresh(summary: dict[str, str], filter_key: str, until: int) -> bool:
    """Move an expiry already in the summary forwards (True also when it is further already)."""
    dynamodb = client("dynamodb")
    try:
        dynamodb.update_item(
            TableName=_table(),
            Key=to_item(summary),
            UpdateExpression="SET #k = :until",
            ConditionExpression="attribute_exists(#k) AND #k < :until",
            ExpressionAttributeNames={"#k": filter_key},
            ExpressionAttributeValues=to_item({":until": until}),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException as error:
        return filter_key in from_item(error.response.get("Item") or {})
    return True


def _add(summary: dict[str, str], filter_key: str, until: int) -> bool:
    """Add the key to the summary if it fits (its bytes counted in `b` by the same update)."""
    dynamodb = client("dynamodb")
    size = _size(filter_key)
    try:
        dynamodb.update_item(
            TableName=_table(),
            Key=to_item(summary),
            UpdateExpression="SET #k = :until ADD #b :size",
            ConditionExpression="attribute_not_exists(#k) AND (attribute_not_exists(#b) OR #b <= :room)",
            ExpressionAttributeNames={"#k": filter_key, "#b": _COUNTER},
            ExpressionAttributeValues=to_item({":until": until, ":size": size, ":room": SUMMARY_BYTES - size}),
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def _prune(summary: dict[str, str], now: float) -> bool:
    """Remove the summary's expired keys (each only if unchanged since read); whether any went."""
    dynamodb = client("dynamodb")
    key = to_item(summary)
    found = dynamodb.get_item(TableName=_table(), Key=key, ConsistentRead=True).get("Item")
    removed = False
    for name, value in _watched_attributes(from_item(found) if found else {}).items():
        if value > now:
            continue
        with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):  # refreshed meanwhile
            dynamodb.update_item(
                TableName=_table(),
                Key=key,
                UpdateExpression="REMOVE #k ADD #b :minus",
                ConditionExpression="#k = :was",
                ExpressionAttributeNames={"#k": name, "#b": _COUNTER},
                ExpressionAttributeValues=to_item({":was": value, ":minus": -_size(name)}),
            )
            removed = True
    return removed


def _put_if_later(key: dict[str, str], item: dict[str, Any], name: str, until: int, *, update: bool = False) -> None:
    """Write `name` = until (a put of the whole item, or an update of that attribute) unless it is later."""
    dynamodb = client("dynamodb")
    condition = "attribute_not_exists(#n) OR #n < :until"
    with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):  # moved further meanwhile
        if update:
            dynamodb.update_item(
                TableName=_table(),
                Key=to_item(key),
                UpdateExpression="SET #n = :until",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#n": name},
                ExpressionAttributeValues=to_item({":until": until}),
            )
        else:
            dynamodb.put_item(
                TableName=_table(),
                Item=to_item({**key, **item}),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#n": name},
                ExpressionAttributeValues=to_item({":until": until}),
            )


def _watched_attributes(summary: dict[str, Any]) -> dict[str, int]:
    """A summary's watched keys and their expiries (every attribute that names a filter key)."""
    return {str(k): int(v) for k, v in summary.items() if ":" in str(k)}


def watched(filter_keys: list[str], organisation_id: str | None, now: float | None = None) -> set[str]:
    """Which of an event's keys are watched now (read after its item is written, see logic/watch.py):
    one strongly consistent read of the hub's watches (1 read unit); past an `overflow` mark, of its
    organisation's and the cross-organisation ones, and past theirs, of the keys' own items. TTL
    deletes lazily: expiries are checked."""
    now = time.time() if now is None else now
    if not filter_keys:
        return set()
    found: set[str] = set()
    levels = [[HUB_SUMMARY], [_organisation_summary(organisation_id), _organisation_summary(None)]]
    for level in levels:
        summaries = batch_get(_table(), level)
        for summary in summaries:
            expiries = _watched_attributes(summary)
            found |= {key for key in filter_keys if expiries.get(key, 0) > now}
        if len(found) == len(filter_keys) or not any(_overflowed(summary, now) for summary in summaries):
            return found
    rest = [key for key in filter_keys if key not in found]
    items = batch_get(_table(), [_watch_key(key) for key in rest])
    return found | {str(item["filter_key"]) for item in items if int(item.get("expires_at") or 0) > now}


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
