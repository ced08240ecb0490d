"""The durable timeline: every booking domain event of the last TIMELINE_DAYS, in each filter key's order.

Each filter key (booking_id:..., website_id:..., user_id:..., provider_id:...) has its own durable order,
positions 1, 2, 3... A booking's order is its event items in the Bookings table (bookings/dal/logs.py:
written by the outbox relay from the booking's stream, or with their change by the PMS and conflict
paths), each at its sequence (`seq`: the booking write that made the event gave it the booking's next
one) with its realtime id (`rt`, computed from the item: logic/ids.py); this table holds nothing of it.
The keys many bookings share hold, here, small references to those items, and only while watched
(dal/connections.py):
Counter    PK=TL#{shared key}     SK=N                 the last position placed in the key's order and
           the id there (never expires, so positions never go back)
Entry      PK=TL#{shared key}     SK=P#{position:012}  id, booking, sequence, tenancy, and `ek`: the event
           item's sort key (its body, in the Bookings table)
Placement  PK=ID#{event id}       SK=ID                the event's position in each shared key, written
           before its entries: `since=<event id>` finds its position there, and a redelivery where it
           may have placed the event already
Written before the booking's order moved to its event items, and read until they expire (7 days): the
bodies PK=TL#booking_id:{b} SK=P#{sequence} that entries without `ek` point to, and markers PK=EVT#...
(unread).

Why positions and not the ids: ids carry the time they were minted, and two writers (two bookings'
broadcasters) can store theirs in the other order, even within one millisecond; a reader between the two
writes would take the later id as its cursor and never see the earlier one.

How a position is taken in a shared key, without a transaction: the writer reads the key's counter (n),
puts its entry at n+1 only if nothing is there, then advances the counter to n+1 (only forwards). The
counter reaches p only once P#p exists (a writer that finds P#p taken advances it for the one that took
it), so P#p is written only by a writer that saw P#p-1 written: a reader always sees a gapless prefix of
the order, and anything placed after it read lands after its cursor. A redelivery that places its entries
days late gets new positions at the end, so it is never behind a cursor either. Each write is a
single-item conditional write (one write unit per KB).

A booking's order is numbered by its writes, but its items appear when the relay writes them, so a reader
can briefly see sequence n+1 before n (an item written with its change, such as a conflict event, while
the relay has yet to write the one before it): readers step over a hole, and a subscription remembers the
holes below its position (logic/subscribe.py) so their events still reach it live.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from bookinghub.aws.batch import batch_get
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_item
from bookinghub.core.clock import to_iso
from bookinghub.core.settings import get_settings
from bookinghub.realtime.logic.ids import id_millis
from bookinghub.realtime.models import TIMELINE_DAYS, TimelineEvent

COUNTER_SK = "N"
PLACEMENT_SK = "ID"
COPY_PREFIX = "P#"
RETENTION_SECONDS = TIMELINE_DAYS * 86400
PAGE = 200
PLACE_ATTEMPTS = 60  # concurrent writers on one key retry; each loss means another event got placed
BOOKING_KEY = "booking_id"


class PlacementContended(RuntimeError):
    """A filter key's order stayed contended for every attempt: the event is redelivered."""


@dataclass(frozen=True)
class Ref:
    """An event's place in one key's order; `event` is the event itself when it was read whole (a
    booking's order), `ek` the sort key of its event item (a shared key's entry)."""

    id: str
    position: int
    booking_id: str
    sequence: int
    organisation_id: str
    website_id: str
    event: TimelineEvent | None = None
    ek: str | None = None


def copy_sk(position: int) -> str:
    return f"{COPY_PREFIX}{position:012d}"


def timeline_pk(filter_key: str) -> str:
    return f"TL#{filter_key}"


def _table() -> str:
    return get_settings().realtime_timeline_table


def expiry(event_id: str) -> int:
    """When every item of an event expires: TIMELINE_DAYS after its id's time, however late placed."""
    return id_millis(event_id) // 1000 + RETENTION_SECONDS


def booking_key(booking_id: str) -> str:
    return f"{BOOKING_KEY}:{booking_id}"


def is_booking_key(filter_key: str) -> bool:
    return filter_key.startswith(f"{BOOKING_KEY}:")


# --- a booking's order: its event items (Bookings table) ---------------------------------------------------


def event_of_item(item: dict[str, Any], user_id: str | None = None) -> TimelineEvent:
    """The event a numbered event item holds, at its sequence in its booking's order."""
    from bookinghub.bookings.dal.logs import REALTIME_ID, SEQUENCE, event_from_outbox_item

    event = event_from_outbox_item(item)
    sequence = int(item[SEQUENCE])
    return TimelineEvent(
        id=str(item[REALTIME_ID]),
        booking_id=event.booking_id,
        sequence=sequence,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        data=event.data,
        website_id=event.website_id,
        organisation_id=event.organisation_id,
        user_id=user_id.lower() if user_id else None,
        positions={booking_key(event.booking_id): sequence},
    )


def booking_events(booking_id: str, after_sequence: int = 0) -> list[TimelineEvent]:
    """The booking's kept events (numbered, within the window) after `after_sequence`, in its order:
    one strongly consistent Query of its event items from TIMELINE_DAYS ago."""
    from bookinghub.bookings.dal.logs import SEQUENCE, recent_event_items

    now = time.time()
    since = to_iso(_utc(now - RETENTION_SECONDS))
    found = []
    for item in recent_event_items(booking_id, since):
        if SEQUENCE not in item or int(item[SEQUENCE]) <= after_sequence:
            continue  # written before it was numbered (its broadcaster numbers it), or already had
        event = event_of_item(item)
        if expiry(event.id) > now:
            found.append(event)
    return sorted(found, key=lambda e: e.sequence)


def _utc(epoch: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC)


# --- placing in the shared keys ----------------------------------------------------------------------------


def counter(filter_key: str) -> tuple[int, str | None]:
    """The last position placed in a shared key's order (0 before its first event) and the id there."""
    item = _get(timeline_pk(filter_key), COUNTER_SK)
    return (int(item["n"]), item.get("id")) if item else (0, None)


def last_position(filter_key: str) -> int:
    """The last position given in the key's order (0 before its first event); it never goes back."""
    if is_booking_key(filter_key):
        events = booking_events(filter_key.removeprefix(f"{BOOKING_KEY}:"))
        return events[-1].sequence if events else 0
    return counter(filter_key)[0]


def put_copies(event: TimelineEvent, event_sk: str, only: set[str]) -> dict[str, int]:
    """Place the event in the order of each of its shared keys that is in `only` (the watched ones, see
    dal/connections.py), idempotently: a key where it was placed already keeps that position; returns
    its position per shared key. A redelivery also finishes the keys an earlier delivery recorded in the
    placement. `event_sk`: its event item's sort key, which the entries point to."""
    intents = placement(event.id)
    shared = [key for key in event.filter_keys()[1:] if key in only or key in (intents or {})]
    if not shared:
        return {}
    known = {key: counter(key)[0] for key in shared}
    if intents is None:
        intents = {key: n + 1 for key, n in known.items()}
        # Before any entry: a client can only hold an id whose placement is recorded
        if _put_new(_placement_item(event.id, intents)) is not None:
            intents = placement(event.id) or {}
    return {key: _place(key, event, event_sk, intents.get(key), known[key]) for key in shared}


def _place(filter_key: str, event: TimelineEvent, event_sk: str, intent: int | None, last: int | None) -> int:
    """The event's position in a shared key's order: the one it has, else the next free one."""
    for attempt in range(PLACE_ATTEMPTS):
        if last is None:
            last = counter(filter_key)[0]
        if intent is not None and intent <= last and _id_at(filter_key, intent) == event.id:
            return intent  # placed by an earlier delivery
        position = last + 1
        if intent != position:
            # Recorded before the entry is written, so a retry after a crash looks there first
            if not _set_intent(event.id, filter_key, position, intent):
                intent, last = (placement(event.id) or {}).get(filter_key), None
                continue  # a concurrent delivery of the same event moved it: look again
            intent = position
        holder = _put_new(_entry(filter_key, position, event, event_sk))
        _advance(filter_key, position, holder or event.id)  # a holder may not have advanced it yet
        if holder is None or holder == event.id:
            return position
        last = None  # another writer took this position: read the counter again
        time.sleep(random.uniform(0, min(0.05, 0.002 * 2**attempt)))
    raise PlacementContended(f"could not place event {event.id} in {filter_key}")


def _entry(filter_key: str, position: int, event: TimelineEvent, event_sk: str) -> dict[str, Any]:
    return {
        "PK": timeline_pk(filter_key),
        "SK": copy_sk(position),
        "id": event.id,
        "booking_id": event.booking_id,
        "sequence": event.sequence,
        "website_id": event.website_id,
        "organisation_id": event.organisation_id,
        "ek": event_sk,
        "expires_at": expiry(event.id),
    }


def _advance(filter_key: str, position: int, event_id: str) -> None:
    """Move the key's counter forwards to `position` (never back; a counter further on stays)."""
    dynamodb = client("dynamodb")
    with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(
            TableName=_table(),
            Key=to_item({"PK": timeline_pk(filter_key), "SK": COUNTER_SK}),
            UpdateExpression="SET n = :p, #id = :id",
            ConditionExpression="attribute_not_exists(n) OR n < :p",
            ExpressionAttributeNames={"#id": "id"},
            ExpressionAttributeValues=to_item({":p": position, ":id": event_id}),
        )


def _put_new(item: dict[str, Any]) -> str | None:
    """Put an item that must not exist yet; None if put, else the id of the item already there."""
    dynamodb = client("dynamodb")
    try:
        dynamodb.put_item(
            TableName=_table(),
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(PK)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException as error:
        return str(from_item(error.response.get("Item") or {}).get("id", ""))
    return None


def _id_at(filter_key: str, position: int) -> str | None:
    item = _get(timeline_pk(filter_key), copy_sk(position))
    return str(item["id"]) if item else None


# --- placements: an event's position per shared key -------------------------------------------------------


def _placement_item(event_id: str, positions: dict[str, int]) -> dict[str, Any]:
    return {"PK": f"ID#{event_id}", "SK": PLACEMENT_SK, "positions": positions, "expires_at": expiry(event_id)}


def placement(event_id: str) -> dict[str, int] | None:
    item = _get(f"ID#{event_id}", PLACEMENT_SK)
    return {str(k): int(v) for k, v in (item.get("positions") or {}).items()} if item else None


def _set_intent(event_id: str, filter_key: str, position: int, previous: int | None) -> bool:
    """Record the position the event is about to take in a key, if no one changed it since `previous`."""
    dynamodb = client("dynamodb")
    values: dict[str, Any] = {":p": position}
    if previous is None:
        condition = "attribute_not_exists(positions.#k)"
    else:
        condition, values[":was"] = "positions.#k = :was", previous
    try:
        dynamodb.update_item(
            TableName=_table(),
            Key=to_item({"PK": f"ID#{event_id}", "SK": PLACEMENT_SK}),
            UpdateExpression="SET positions.#k = :p",
            ConditionExpression=f"attribute_exists(PK) AND {condition}",
            ExpressionAttributeNames={"#k": filter_key},
            ExpressionAttributeValues=to_item(values),
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        if placement(event_id) is None:  # a placement item that expired and went: start it again
            _put_new(_placement_item(event_id, {filter_key: position}))
            return True
        return False
    return True


def position_of(filter_key: str, event_id: str) -> int | None:
    """The position `event_id` has in the key's order; None if it never had one or it has expired."""
    if expiry(event_id) <= time.time():
        return None
    if is_booking_key(filter_key):  # its sequence, if it is one of the booking's kept events
        booking = filter_key.removeprefix(f"{BOOKING_KEY}:")
        return next((e.sequence for e in booking_events(booking) if e.id == event_id), None)
    return (placement(event_id) or {}).get(filter_key)


# --- reading ----------------------------------------------------------------------------------------------


def pages(filter_key: str, after_position: int = 0, *, newest_first: bool = False) -> Iterator[list[Ref]]:
    """The key's kept entries placed after `after_position`, a page at a time, in the key's order."""
    if is_booking_key(filter_key):
        events = booking_events(filter_key.removeprefix(f"{BOOKING_KEY}:"), after_position)
        if newest_first:
            events.reverse()
        for start in range(0, len(events), PAGE):
            yield [_ref_of(event) for event in events[start : start + PAGE]]
        return
    request: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :from AND :to",
        # TTL deletes lazily (up to days late): an expired entry is past the window all the same
        "FilterExpression": "expires_at > :now",
        "ExpressionAttributeValues": to_item(
            {
                ":pk": timeline_pk(filter_key),
                ":now": int(time.time()),
                ":from": copy_sk(after_position + 1),
                ":to": COPY_PREFIX + "~",  # past every zero-padded position
            }
        ),
        "ConsistentRead": True,
        "ScanIndexForward": not newest_first,
        "Limit": PAGE,
    }
    while True:
        response = client("dynamodb").query(**request)
        items = [from_item(raw) for raw in response.get("Items") or []]
        if items:
            yield [_ref(item) for item in items]
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def bodies(filter_key: str, refs: list[Ref]) -> dict[str, TimelineEvent]:
    """The events `refs` point to, by id, with their position in `filter_key`'s order (strongly
    consistent batch reads: an event item is written before any entry that points to it; one gone is
    left out, as expired)."""
    from bookinghub.bookings.dal.logs import REALTIME_ID, event_items

    found: dict[str, TimelineEvent] = {ref.id: ref.event for ref in refs if ref.event is not None}
    wanted = [ref for ref in refs if ref.event is None and ref.ek is not None]
    for item in event_items([(ref.booking_id, str(ref.ek)) for ref in wanted]):
        if REALTIME_ID in item:
            event = event_of_item(item)
            found[event.id] = event
    # Entries placed before the booking's order moved to its event items point to bodies of this table
    older = {(ref.booking_id, ref.sequence): ref for ref in refs if ref.event is None and ref.ek is None}
    keys = [{"PK": timeline_pk(booking_key(b)), "SK": copy_sk(s)} for b, s in older]
    for item in batch_get(_table(), keys) if keys else ():
        body = _older_body(item)
        ref = older.get((body.booking_id, body.sequence))
        if ref is not None and body.id == ref.id:
            found[ref.id] = body
    return {ref.id: replace(found[ref.id], positions={filter_key: ref.position}) for ref in refs if ref.id in found}


def after(filter_key: str, after_position: int = 0, *, newest_first: bool = False) -> Iterator[TimelineEvent]:
    """The filter's kept events placed after `after_position`, in the key's order (or newest first)."""
    for page in pages(filter_key, after_position, newest_first=newest_first):
        events = bodies(filter_key, page)
        yield from (events[ref.id] for ref in page if ref.id in events)


def latest(filter_key: str) -> tuple[int, str | None]:
    """The key's last position and the id of the last event still kept (None when none is). The
    position is at least the newest entry's: a counter a writer has not advanced yet (it placed its
    entry a moment ago, or stopped there) must not put that entry after the cursor as well."""
    if is_booking_key(filter_key):
        events = booking_events(filter_key.removeprefix(f"{BOOKING_KEY}:"))
        return (events[-1].sequence, events[-1].id) if events else (0, None)
    response = client("dynamodb").query(
        TableName=_table(),
        KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
        ExpressionAttributeValues=to_item({":pk": timeline_pk(filter_key), ":p": COPY_PREFIX}),
        ScanIndexForward=False,
        Limit=1,
        ConsistentRead=True,
    )
    newest = [from_item(raw) for raw in response.get("Items") or []]
    position = max([last_position(filter_key), *(_position(item) for item in newest)])
    if newest and int(newest[0].get("expires_at") or 0) > time.time():
        return position, str(newest[0]["id"])
    kept = next(pages(filter_key, 0, newest_first=True), [])
    return position, kept[0].id if kept else None


def _position(item: dict[str, Any]) -> int:
    return int(str(item["SK"]).removeprefix(COPY_PREFIX))


def _ref_of(event: TimelineEvent) -> Ref:
    return Ref(
        id=event.id,
        position=event.sequence,
        booking_id=event.booking_id,
        sequence=event.sequence,
        organisation_id=event.organisation_id,
        website_id=event.website_id,
        event=event,
    )


def _ref(item: dict[str, Any]) -> Ref:
    return Ref(
        id=str(item["id"]),
        position=_position(item),
        booking_id=str(item["booking_id"]),
        sequence=int(item["sequence"]),
        organisation_id=str(item["organisation_id"]),
        website_id=str(item["website_id"]),
        ek=item.get("ek"),
    )


def _older_body(item: dict[str, Any]) -> TimelineEvent:
    """An event body written in this table before the booking's order moved to its event items."""
    key = str(item["PK"]).removeprefix("TL#")
    packed = item.get("data_z")
    text = zlib.decompress(bytes(packed)) if packed is not None else item.get("data") or "{}"
    return TimelineEvent(
        id=str(item["id"]),
        booking_id=key.removeprefix(f"{BOOKING_KEY}:"),
        sequence=_position(item),
        event_type=str(item["event_type"]),
        occurred_at=str(item["occurred_at"]),
        data=json.loads(text),
        website_id=str(item["website_id"]),
        organisation_id=str(item["organisation_id"]),
        user_id=item.get("user_id"),
        positions={key: _position(item)},
    )


def _get(pk: str, sk: str) -> dict[str, Any] | None:
    response = client("dynamodb").get_item(TableName=_table(), Key=to_item({"PK": pk, "SK": sk}), ConsistentRead=True)
    return from_item(response["Item"]) if "Item" in response else None
