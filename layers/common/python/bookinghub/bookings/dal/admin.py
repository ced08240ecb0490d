"""Operator reads and edits of bookings: always a Query on one of the Bookings indexes, never a Scan.

A page is read from one or more index partitions (a website's, an organisation's) between two sort
keys (`date_key` = `{activity_date}#{booking_id}`); several partitions (a staff member's websites) are
merged by sort key. The indexes project only keys and what a listing filters on (status, folded name,
email, booking ref, website, organisation), so the filters run on the index entries and only the
bookings of the page are fetched (BatchGetItem). The cursor is the last sort key returned, so a page
never repeats or skips a booking when others are added meanwhile.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any, Literal

from bookinghub.aws import keys
from bookinghub.aws.batch import batch_get
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.aws.query import query_items
from bookinghub.bookings.dal.bookings import booking_record, index_attributes, stored_event_id
from bookinghub.bookings.dal.logs import event_item
from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.core.settings import get_settings

# Above every character of a sort key (dates, '#', uuids): the inclusive upper bound of a date
_HIGH = "~"
# Below every character of a sort key: "just after" a given sort key (exclusive cursor)
_AFTER = " "
_FIRST = "0000-00-00"
SORT_KEY = "date_key"
BY_WEBSITE, BY_ORGANISATION = "BookingsByWebsite", "BookingsByOrganisation"
# What the indexes' entries carry beyond the keys (the rest is filtered on the fetched bookings)
_ON_INDEX = {"status", "organisation_id", "website_id", keys.SEARCH_NAME, "email_key", "booking_ref"}
_PARTITION_KEY = {BY_WEBSITE: "website_id", BY_ORGANISATION: "organisation_id"}


@dataclass(frozen=True)
class BookingScope:
    """Whose bookings: some websites' or else an organisation's, narrowed by equality filters."""

    website_ids: tuple[str, ...] = ()
    organisation_id: str | None = None  # the partition when no websites are named
    organisation_filter: str | None = None  # only this organisation's bookings, whichever index serves
    status: str | None = None

    def index(self) -> tuple[str, tuple[str, ...]]:
        if self.website_ids:
            return BY_WEBSITE, self.website_ids
        return BY_ORGANISATION, (str(self.organisation_id),)

    def equals(self) -> dict[str, tuple[str, ...]]:
        equals: dict[str, tuple[str, ...]] = {}
        if self.organisation_filter is not None:
            equals["organisation_id"] = (self.organisation_filter,)
        if self.status:
            equals["status"] = (self.status,)
        if self.website_ids:
            equals["website_id"] = self.website_ids
        return equals


SearchPlan = Literal["ref", "name"]


@dataclass(frozen=True)
class BookingSearch:
    scope: BookingScope
    text: str | None = None  # an email, else a booking ref or a customer name (folded, a substring)
    date_from: str | None = None
    date_to: str | None = None
    after: str | None = None  # exclusive: the sort key of the last booking already returned
    plan: SearchPlan | None = None  # how `text` is read, fixed by the first page (None: decide now)


@dataclass(frozen=True)
class SearchPage:
    bookings: list[dict[str, Any]]
    after: str | None  # the sort key to go on after, when there are more
    plan: SearchPlan | None


def search_bookings(search: BookingSearch, limit: int) -> SearchPage:
    """One page of bookings (ascending by activity date, then id), with what the next page needs."""
    query, plan = _plan(search)
    items = _query_bookings(query, limit + 1)
    page, more = items[:limit], len(items) > limit
    after = page[-1][SORT_KEY] if more and page else None
    return SearchPage([booking_record(item) for item in page], after, plan)


def _plan(search: BookingSearch) -> tuple[BookingQuery, SearchPlan | None]:
    """Which filter serves the search, on the scope's own partitions: a text with '@' is an email,
    another a booking ref if one matches (decided on the first page), else a customer name."""
    index, partitions = search.scope.index()
    equals = search.scope.equals()
    window = (search.date_from, search.date_to, search.after)
    text = (search.text or "").strip()
    if text and "@" in text:
        return BookingQuery(index, partitions, *window, {**equals, "email_key": (text.lower(),)}), search.plan
    if not text:
        return BookingQuery(index, partitions, *window, equals), search.plan
    by_ref = BookingQuery(index, partitions, *window, {**equals, "booking_ref": (text,)})
    plan = search.plan
    if plan is None:
        plan = "ref" if _query_bookings(replace(by_ref, after=None), 1) else "name"
    if plan == "ref":
        return by_ref, plan
    return BookingQuery(index, partitions, *window, equals, name_contains=text), plan


@dataclass(frozen=True)
class BookingQuery:
    index: str  # BookingsByWebsite or BookingsByOrganisation
    partitions: tuple[str, ...]  # partition key values of that index
    date_from: str | None = None
    date_to: str | None = None
    after: str | None = None  # exclusive: the sort key of the last booking already returned
    # attribute -> allowed values (an equality or IN filter)
    equals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    name_contains: str | None = None


def _query_bookings(query: BookingQuery, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` bookings, ascending by activity date (then id), merged across the partitions."""
    streams = [islice(_partition(query, pk, limit), limit) for pk in query.partitions]
    merged = heapq.merge(*streams, key=lambda item: item[SORT_KEY])
    return list(islice(merged, limit))


def _partition(query: BookingQuery, partition: str, limit: int) -> Iterator[dict[str, Any]]:
    """The partition's matching bookings in sort-key order, fetched a page of index entries at a time."""
    index = query.index
    low = query.date_from or _FIRST
    if query.after is not None and query.after + _AFTER > low:
        low = query.after + _AFTER
    high = (query.date_to or "9999-12-31") + _HIGH
    if low > high:
        return
    values: dict[str, Any] = {":pk": to_attr(partition), ":low": to_attr(low), ":high": to_attr(high)}
    names = {"#pk": _PARTITION_KEY[index], "#sk": SORT_KEY}
    on_index = _ON_INDEX
    filters = []
    later: dict[str, tuple[str, ...]] = {}  # filters the index cannot evaluate: on the fetched bookings
    for position, (attribute, allowed) in enumerate(sorted(query.equals.items())):
        if attribute == _PARTITION_KEY[index]:
            continue  # the partition itself
        if attribute not in on_index:
            later[attribute] = allowed
            continue
        names[f"#f{position}"] = attribute
        options = []
        for choice, value in enumerate(allowed):
            values[f":f{position}_{choice}"] = to_attr(value)
            options.append(f":f{position}_{choice}")
        filters.append(f"#f{position} IN ({', '.join(options)})")
    if query.name_contains:
        # Case-insensitive: the name is also stored folded (keys.search_name) when it is written
        names["#name"] = keys.SEARCH_NAME
        values[":name"] = to_attr(keys.search_name(query.name_contains))
        filters.append("contains(#name, :name)")
    request: dict[str, Any] = {
        "TableName": get_settings().bookings_table,
        "IndexName": index,
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        # A page of index entries about the size of the page asked for: what it fetches is what it returns
        "Limit": max(limit, 10),
    }
    if filters:
        request["FilterExpression"] = " AND ".join(filters)
    entries: list[dict[str, Any]] = []
    for entry in query_items(request):
        entries.append(entry)
        if len(entries) == request["Limit"]:
            yield from _fetch(entries, later)
            entries = []
    yield from _fetch(entries, later)


def _fetch(entries: list[dict[str, Any]], equals: dict[str, tuple[str, ...]]) -> Iterator[dict[str, Any]]:
    """The bookings of some index entries, in the entries' order, those matching `equals`."""
    if not entries:
        return
    # Eventually consistent, like the index the entries came from
    found = batch_get(
        get_settings().bookings_table, [{"PK": e["PK"], "SK": e["SK"]} for e in entries], consistent=False
    )
    by_key = {item["PK"]: item for item in found}
    for entry in entries:
        item = by_key.get(entry["PK"])
        if item is None or SORT_KEY not in item:
            continue  # deleted (or moved) since the index was read
        if all(item.get(attribute) in allowed for attribute, allowed in equals.items()):
            yield item


# --- Edits --------------------------------------------------------------------------------------------


class StaleVersion(Exception):
    """The booking is not at the expected version (or is gone); `stored` is the booking as it is now."""

    def __init__(self, stored: dict[str, Any] | None) -> None:
        super().__init__("booking version changed")
        self.stored = stored


def apply_edit(
    booking: dict[str, Any],
    *,
    expected_version: int,
    set_columns: dict[str, Any],
    remove_columns: list[str],
    updated_by: str,
    now: str,
    event: BookingDomainEvent | None,
    extra_items: tuple[dict[str, Any], ...] = (),
) -> None:
    """Apply an operator's edit if the booking is still at `expected_version`, stamping its event on the
    booking (the outbox relay builds the event from the stream). One UpdateItem, no transaction.

    The index keys follow the columns they are built from (activity date, customer email, name).
    `extra_items`: more items written in one transaction with it (a conflict's resolution and its events).
    """
    booking_id = str(booking["id"])
    attrs = {
        **set_columns,
        **index_attributes(booking_id, set_columns),
        "updated_at": now,
        "updated_by": updated_by,
    }
    removes = list(remove_columns)
    if event is not None:
        attrs.update(
            event_id=stored_event_id(event.event_id),
            event_type=event.event_type,
            origin=event.origin,
            changed_fields=sorted(event.changed_fields),
        )
    # An index key (or search copy) whose column is removed goes with it
    removes += [derived for column, derived in _DERIVED.items() if column in remove_columns]
    names: dict[str, str] = {"#version": "version"}
    values: dict[str, Any] = {":expected": to_attr(expected_version), ":one": to_attr(1)}
    assignments = ["#version = #version + :one"]
    for position, (attribute, value) in enumerate(attrs.items()):
        names[f"#s{position}"] = attribute
        values[f":s{position}"] = to_attr(value)
        assignments.append(f"#s{position} = :s{position}")
    expression = "SET " + ", ".join(assignments)
    if removes:
        for position, attribute in enumerate(removes):
            names[f"#r{position}"] = attribute
        expression += " REMOVE " + ", ".join(f"#r{position}" for position in range(len(removes)))
    update = {
        "TableName": get_settings().bookings_table,
        "Key": to_item({"PK": keys.booking_pk(booking_id), "SK": keys.BOOKING_SK}),
        "UpdateExpression": expression,
        "ConditionExpression": "attribute_exists(PK) AND #version = :expected",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    ddb = client("dynamodb")
    if extra_items:  # rare (a conflict is settled with the edit): the only edit that needs a transaction
        _transact_edit(update, extra_items, own_event_id=attrs.get("event_id"))
        return
    try:
        ddb.update_item(**update)
    except ddb.exceptions.ConditionalCheckFailedException as error:
        old = from_item(error.response["Item"]) if error.response.get("Item") else None
        if old is not None and event is not None and old.get("event_id") == attrs["event_id"]:
            return  # this edit itself, committed by an attempt whose answer was lost (botocore retried)
        raise StaleVersion(booking_record(old) if old else None) from error


def _transact_edit(update: dict[str, Any], extra_items: tuple[dict[str, Any], ...], *, own_event_id: Any) -> None:
    ddb = client("dynamodb")
    try:
        ddb.transact_write_items(TransactItems=[{"Update": update}, *extra_items])
    except ddb.exceptions.TransactionCanceledException as error:
        reasons = error.response.get("CancellationReasons", [])
        if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons[1:]):
            raise StaleVersion(None) from error  # an extra item's condition (the conflict was resolved)
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            old = from_item(reasons[0]["Item"]) if reasons[0].get("Item") else None
            if old is not None and own_event_id is not None and old.get("event_id") == own_event_id:
                return  # this edit itself, committed by an attempt whose answer was lost
            raise StaleVersion(booking_record(old) if old else None) from error
        if any(reason.get("Code") == "TransactionConflict" for reason in reasons):
            raise StaleVersion(None) from error
        raise


# Columns an index key or search copy is built from, and that attribute
_DERIVED = {"activity_date": "date_key", "customer_email": "email_key", "customer_name": keys.SEARCH_NAME}


def put_event(event: BookingDomainEvent) -> None:
    """An outbox event on its own (a manually triggered webhook): the stream relays it like any other."""
    client("dynamodb").put_item(
        TableName=get_settings().bookings_table,
        Item=to_item(event_item(event)),
        ConditionExpression="attribute_not_exists(PK)",
    )
