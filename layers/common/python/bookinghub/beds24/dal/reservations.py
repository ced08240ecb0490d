"""Reservations made from Beds24 bookings, and the rooms' occupancy (Bookings table).

Ordering rule, enforced by the write itself: a reservation is replaced only by a newer Beds24
modification time, ties broken by content hash, so every delivery order ends in the same state; a
deletion is final (Beds24 never reuses a booking id) and is never undone by a late modification. One
exception to the tie rule: the echo of the hub's own write-back (`over_source`, beds24/logic/apply.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.batch import batch_get, batch_write
from bookinghub.aws.clients import client
from bookinghub.aws.codec import to_attr, to_item
from bookinghub.aws.query import query_items
from bookinghub.beds24.dal import write_index
from bookinghub.beds24.models.entities import Reservation
from bookinghub.core.settings import get_settings

_STORAGE = ("PK", "SK", "entity", "GSI1PK", "GSI1SK", "GSI3PK", "GSI3SK", *write_index.INDEX_ATTRIBUTES)


def reservation_item(reservation: Reservation) -> dict[str, Any]:
    arrival = reservation.arrival or "0000-00-00"
    item: dict[str, Any] = {
        "PK": keys.reservation_pk(reservation.id),
        "SK": keys.RESERVATION_SK,
        "entity": "reservation",
        "GSI1PK": keys.property_pk(reservation.organisation_id, reservation.property_id),
        "GSI1SK": f"{arrival}#{reservation.id}",
        **reservation.model_dump(),
    }
    # No guest index (GSI3): nothing reads a guest's reservations, and each write would copy the whole
    # reservation into it. Items written before keep their entry until rewritten.
    # A write-back pending (kept by a pull's rewrite too): findable if its queue message was lost
    item.update(write_index.index_keys(reservation.id, reservation.hub_edits, deleted=reservation.deleted))
    return item


def stored_fields(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in _STORAGE}


def get_reservations(reservation_ids: Iterable[str], *, consistent: bool = True) -> dict[str, dict[str, Any]]:
    """id -> stored reservation (plain values), for those that exist; one call per 100 ids. An eventually
    consistent read (`consistent=False`) is for a writer that says so to put_if_newer (`as_read`)."""
    keys_ = [{"PK": keys.reservation_pk(i), "SK": keys.RESERVATION_SK} for i in set(reservation_ids)]
    if not keys_:
        return {}
    found = batch_get(get_settings().bookings_table, keys_, consistent=consistent)
    return {str(item["id"]): stored_fields(item) for item in found}


# The ordering rule, shared by both writes below (the service applies the same rule before writing):
# a newer Beds24 modification time wins; at the same time a greater source hash wins (any delivery
# order converges); the same Beds24 version is rewritten only if what the hub derives from it changed.
_NEWER = (
    "modified_time < :mt OR (modified_time = :mt AND (source_hash < :source OR "
    "(source_hash = :source AND content_hash <> :content)))"
)


def _ordering_values(reservation: Reservation) -> dict[str, Any]:
    return {
        ":true": to_attr(True),
        ":mt": to_attr(reservation.modified_time),
        ":source": to_attr(reservation.source_hash),
        ":content": to_attr(reservation.content_hash),
    }


MARKERS = "hub_edits"  # operators' pending edits (bookinghub.conflicts)


def put_if_newer(
    reservation: Reservation,
    *,
    restore: bool = False,
    read_markers: dict[str, Any] | None = None,
    extra_items: Sequence[dict[str, Any]] = (),
    as_read: dict[str, Any] | bool | None = True,
    over_source: str | None = None,
) -> bool:
    """Write unless the stored reservation is newer, or deleted; False if the stored one won.

    `as_read`: True when the caller's read was consistent (the ordering rule is all the write checks);
    else the reservation as an eventually consistent read found it (None: absent), and the write also
    requires the stored one to be that very version, so a read that lagged fails the write (False) and the
    caller decides again on a consistent read.

    A deletion is final and wins over anything but another deletion; `restore` (an operator's repair
    from Beds24 itself) may replace a deleted reservation with the booking Beds24 still has.
    The operators' pending edits must be as read (`read_markers`): an edit made since the read is not
    overwritten blind (the next pull sees it). `extra_items` (conflict records, their events) are
    written in the same transaction. `over_source`: the stored version's source hash when this one is
    known newer at the same modification time (the echo of the hub's write-back): the write then also
    replaces that very version, whatever the tie rule says.
    """
    names = {"#m": MARKERS}
    if reservation.deleted:
        condition, values = "attribute_not_exists(PK) OR deleted <> :true", {":true": to_attr(True)}
    else:
        deleted_rule = "deleted = :true OR " if restore else ""
        newer = f"{_NEWER} OR (modified_time = :mt AND source_hash = :over)" if over_source else _NEWER
        condition = f"attribute_not_exists(PK) OR {deleted_rule}(deleted <> :true AND ({newer}))"
        values = _ordering_values(reservation)
        if over_source:
            values[":over"] = to_attr(over_source)
    if as_read is None:
        condition = "attribute_not_exists(PK)"
    elif isinstance(as_read, dict):
        condition = f"({condition}) AND content_hash = :read"
        values[":read"] = to_attr(as_read.get("content_hash") or "")
    if read_markers:
        condition = f"({condition}) AND #m = :markers"
        values[":markers"] = to_attr(read_markers)
    else:
        condition = f"({condition}) AND attribute_not_exists(#m)"
    put = {
        "TableName": get_settings().bookings_table,
        "Item": to_item(reservation_item(reservation)),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    ddb = client("dynamodb")
    if extra_items:
        try:
            ddb.transact_write_items(TransactItems=[{"Put": put}, *extra_items])
        except ddb.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True
    try:
        ddb.put_item(**put)
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def edit_item(
    reservation_id: str,
    changed: dict[str, Any],
    *,
    markers: dict[str, Any],
    read_markers: dict[str, Any] | None,
    now: str,
    updated_by: str | None = None,
    read_content: str | None = None,
) -> dict[str, Any]:
    """The transaction item of an operator's change (or a conflict's resolution) to a reservation: the
    fields, the pending-edit markers, and the arrival index; only if the markers (and, when given, the
    Beds24 content) are as read, so a pull in between is never overwritten."""
    sets = {**changed, "updated_at": now}
    if updated_by:
        sets["updated_by"] = updated_by
    if "arrival" in changed:  # the indexes sort by arrival
        sets["GSI1SK"] = f"{changed['arrival']}#{reservation_id}"
    pending = write_index.index_keys(reservation_id, markers)  # (in the write that queues it, dal/write_index)
    sets |= pending
    names = {"#m": MARKERS}
    values: dict[str, Any] = {}
    assignments = []
    for position, (name, value) in enumerate(sorted(sets.items())):
        names[f"#s{position}"] = name
        values[f":s{position}"] = to_attr(value)
        assignments.append(f"#s{position} = :s{position}")
    expression = "SET " + ", ".join(assignments)
    removed = [] if pending else list(write_index.INDEX_ATTRIBUTES)
    if markers:
        values[":new"] = to_attr(markers)
        expression += ", #m = :new"
    else:
        removed.insert(0, "#m")
    if removed:
        expression += " REMOVE " + ", ".join(removed)
    conditions = ["attribute_exists(PK)", "deleted <> :true"]
    values[":true"] = to_attr(True)
    if read_markers:
        conditions.append("#m = :read")
        values[":read"] = to_attr(read_markers)
    else:
        conditions.append("attribute_not_exists(#m)")
    if read_content is not None:
        conditions.append("content_hash = :content")
        values[":content"] = to_attr(read_content)
    return {
        "Update": {
            "TableName": get_settings().bookings_table,
            "Key": to_item({"PK": keys.reservation_pk(reservation_id), "SK": keys.RESERVATION_SK}),
            "UpdateExpression": expression,
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


class EditRaced(Exception):
    """The reservation changed (a pull, another edit) since it was read."""


def apply_edit(item: dict[str, Any], extra_items: Sequence[dict[str, Any]] = ()) -> None:
    """The edit, with its conflict records and their events (`extra_items`) in the same transaction."""
    ddb = client("dynamodb")
    try:
        ddb.transact_write_items(TransactItems=[item, *extra_items])
    except ddb.exceptions.TransactionCanceledException as error:
        raise EditRaced() from error


def put_new(reservations: Sequence[Reservation]) -> int:
    """Batch-write reservations the hub did not have when the page was read; returns the calls made.

    Unconditional (BatchWriteItem takes no conditions), which is safe because a page is only written
    while its run holds the property's sync lease, and the webhook consumer defers while a lease is held
    (services/beds24_events.py): nothing else writes the property's new reservations meanwhile.
    """
    return batch_write(get_settings().bookings_table, [reservation_item(r) for r in reservations])


QUERY_PAGE_SIZE = 200  # items per Query page: what a large property's scan-free reads hold in memory


def property_reservations(
    organisation_id: str,
    property_id: str,
    *,
    arrival_from: str,
    arrival_to: str,
    attributes: Sequence[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """A property's reservations arriving in [from, to] (GSI1), in arrival order, page by page: flat
    memory. `attributes`: only those (a projection), for reads that need a few fields of many."""
    request: dict[str, Any] = {
        "TableName": get_settings().bookings_table,
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK BETWEEN :low AND :high",
        "ExpressionAttributeValues": {
            ":pk": to_attr(keys.property_pk(organisation_id, property_id)),
            ":low": to_attr(arrival_from),
            ":high": to_attr(arrival_to + "~"),
        },
    }
    if attributes:
        request["ProjectionExpression"] = ", ".join(f"#a{i}" for i in range(len(attributes)))
        request["ExpressionAttributeNames"] = {f"#a{i}": name for i, name in enumerate(attributes)}
    for item in query_items({**request, "Limit": QUERY_PAGE_SIZE}):
        yield stored_fields(item)


# --- Rooms ---------------------------------------------------------------------------------------------


def room_key(beds24_room_id: Any, unit_id: Any) -> str:
    """Identifies a room (and unit) of a property, in `rooms` and `put_rooms`; sorts as the rooms do."""
    return keys.room_sk(beds24_room_id, unit_id)


def rooms(organisation_id: str, property_id: str) -> dict[str, dict[str, Any]]:
    """room key -> the room's fields, for the property's known rooms."""
    items = query_items(
        {
            "TableName": get_settings().bookings_table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :room)",
            "ExpressionAttributeValues": {
                ":pk": to_attr(keys.property_pk(organisation_id, property_id)),
                ":room": to_attr("ROOM#"),
            },
            "ConsistentRead": True,
        }
    )
    return {str(item["SK"]): stored_fields(item) for item in items}


def put_rooms(organisation_id: str, property_id: str, updated: dict[str, dict[str, Any]]) -> int:
    """Store these rooms' fields, by room key."""
    items = [
        {"PK": keys.property_pk(organisation_id, property_id), "SK": sk, "entity": "room", **fields}
        for sk, fields in updated.items()
    ]
    return batch_write(get_settings().bookings_table, items) if items else 0
