"""Operator reads and edits of bookings: always a Query on one of the Bookings table's GSIs, never a Scan.

A page is read from one or more index partitions (a website, an organisation, a customer email, a
booking ref) between two sort keys (`{activity_date}#{booking_id}`), with the remaining filters as a
FilterExpression; several partitions (a staff member's websites) are merged by sort key. The cursor is
the last sort key returned, so a page never repeats or skips a booking when others are added meanwhile.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any, Literal

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.aws.query import query_items
from bookinghub.bookings.dal.logs import event_item
from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.core.settings import get_settings

# Above every character of a sort key (dates, '#', uuids): the inclusive upper bound of a date
_HIGH = "~"
# Below every character of a sort key: "just after" a given sort key (exclusive cursor)
_AFTER = " "
_FIRST = "0000-00-00"


@dataclass(frozen=True)
class BookingScope:
    """Whose bookings: some websites' (GSI1 partitions) or else an organisation's (GSI2), narrowed by
    equality filters."""

    website_ids: tuple[str, ...] = ()
    organisation_id: str | None = None  # the partition when no websites are named
    organisation_filter: str | None = None  # only this organisation's bookings, whichever index serves
    status: str | None = None

    def index(self) -> tuple[str, tuple[str, ...]]:
        if self.website_ids:
            return "GSI1", tuple(keys.website_pk(website) for website in self.website_ids)
        return "GSI2", (keys.org_pk(str(self.organisation_id)),)

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
    text: str | None = None  # an email (GSI3), else a booking ref (GSI4) or a customer name (a filter)
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
    after = page[-1][f"{query.index}SK"] if more and page else None
    return SearchPage([keys.without_layout(item) for item in page], after, plan)


def _plan(search: BookingSearch) -> tuple[BookingQuery, SearchPlan | None]:
    """Which index and partitions serve the search: a text with '@' is an email, another a booking ref
    if one matches (decided on the first page), else a customer name."""
    index, partitions = search.scope.index()
    window = (search.date_from, search.date_to, search.after, search.scope.equals())
    text = (search.text or "").strip()
    if text and "@" in text:
        return BookingQuery("GSI3", (keys.email_pk(text),), *window), search.plan
    if not text:
        return BookingQuery(index, partitions, *window), search.plan
    by_ref = BookingQuery("GSI4", (keys.ref_pk(text),), *window)
    plan = search.plan
    if plan is None:
        plan = "ref" if _query_bookings(replace(by_ref, after=None), 1) else "name"
    if plan == "ref":
        return by_ref, plan
    return BookingQuery(index, partitions, *window, name_contains=text), plan


@dataclass(frozen=True)
class BookingQuery:
    index: str  # GSI1..GSI4
    partitions: tuple[str, ...]  # partition key values of that index
    date_from: str | None = None
    date_to: str | None = None
    after: str | None = None  # exclusive: the sort key of the last booking already returned
    # attribute -> allowed values (an equality or IN filter)
    equals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    name_contains: str | None = None


def _query_bookings(query: BookingQuery, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` bookings, ascending by activity date (then id), merged across the partitions."""
    streams = [islice(_partition(query, pk), limit) for pk in query.partitions]
    merged = heapq.merge(*streams, key=lambda item: item[f"{query.index}SK"])
    return list(islice(merged, limit))


def _partition(query: BookingQuery, partition: str) -> Iterator[dict[str, Any]]:
    index = query.index
    low = query.date_from or _FIRST
    if query.after is not None and query.after + _AFTER > low:
        low = query.after + _AFTER
    high = (query.date_to or "9999-12-31") + _HIGH
    if low > high:
        return
    values: dict[str, Any] = {":pk": to_attr(partition), ":low": to_attr(low), ":high": to_attr(high)}
    names = {"#pk": f"{index}PK", "#sk": f"{index}SK"}
    filters = ["#entity = :booking"]
    names["#entity"] = "entity"
    values[":booking"] = to_attr("booking")
    for position, (attribute, allowed) in enumerate(sorted(query.equals.items())):
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
        "FilterExpression": " AND ".join(filters),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "Limit": 100,
    }
    yield from query_items(request)


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
    """Apply an operator's edit if the booking is still at `expected_version`, with its outbox event.

    The index keys follow the columns they are built from (activity date, customer email).
    `extra_items`: more transaction items (a conflict's resolution and its events).
    """
    booking_id = str(booking["id"])
    attrs = {**set_columns, **_index_keys(booking_id, set_columns), "updated_at": now, "updated_by": updated_by}
    names: dict[str, str] = {"#version": "version"}
    values: dict[str, Any] = {":expected": to_attr(expected_version), ":one": to_attr(1)}
    assignments = ["#version = #version + :one"]
    for position, (attribute, value) in enumerate(attrs.items()):
        names[f"#s{position}"] = attribute
        values[f":s{position}"] = to_attr(value)
        assignments.append(f"#s{position} = :s{position}")
    expression = "SET " + ", ".join(assignments)
    if remove_columns:
        for position, attribute in enumerate(remove_columns):
            names[f"#r{position}"] = attribute
        expression += " REMOVE " + ", ".join(f"#r{position}" for position in range(len(remove_columns)))
    table = get_settings().bookings_table
    items: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": table,
                "Key": to_item({"PK": keys.booking_pk(booking_id), "SK": keys.BOOKING_SK}),
                "UpdateExpression": expression,
                "ConditionExpression": "attribute_exists(PK) AND #version = :expected",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
    ]
    if event is not None:
        items.append(
            {
                "Put": {
                    "TableName": table,
                    "Item": to_item(event_item(event)),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        )
    items.extend(extra_items)
    ddb = client("dynamodb")
    try:
        ddb.transact_write_items(TransactItems=items)
    except ddb.exceptions.TransactionCanceledException as error:
        reasons = error.response.get("CancellationReasons", [])
        if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons[1:]):
            raise StaleVersion(None) from error  # an extra item's condition (the conflict was resolved)
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            stored = keys.without_layout(from_item(reasons[0]["Item"])) if reasons[0].get("Item") else None
            raise StaleVersion(stored) from error
        if any(reason.get("Code") == "TransactionConflict" for reason in reasons):
            raise StaleVersion(None) from error
        raise


def _index_keys(booking_id: str, set_columns: dict[str, Any]) -> dict[str, Any]:
    """The index keys (and search copy) built from the columns an edit sets."""
    attrs: dict[str, Any] = {}
    if "activity_date" in set_columns:
        sort_key = keys.date_sort_key(set_columns["activity_date"], booking_id)
        attrs.update(GSI1SK=sort_key, GSI2SK=sort_key, GSI3SK=sort_key, GSI4SK=sort_key)
    if set_columns.get("customer_email"):
        attrs["GSI3PK"] = keys.email_pk(set_columns["customer_email"])
    if set_columns.get("customer_name"):
        attrs[keys.SEARCH_NAME] = keys.search_name(set_columns["customer_name"])
    return attrs


def put_event(event: BookingDomainEvent) -> None:
    """An outbox event on its own (a manually triggered webhook): the stream relays it like any other."""
    client("dynamodb").put_item(
        TableName=get_settings().bookings_table,
        Item=to_item(event_item(event)),
        ConditionExpression="attribute_not_exists(PK)",
    )
