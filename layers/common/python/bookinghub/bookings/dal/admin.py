"""Operator reads and edits of bookings: always a Query on one of the Bookings indexes, never a Scan.

Listings (BookingsByWebsiteStatus: partition `list_key` = {website_id}#{status}, sort `date_key` =
{activity_date}#{booking_id}): a status filter is one partition per website; an unfiltered list merges a
website's few status partitions, and an organisation's list those of its websites and PMS hotels. Each
partition is read a little at a time (about its share of the page, then more as the merge uses it up), so
a page of 50 reads about 50 index entries. Search text (`q`):
- a customer name is found by prefix on the folded name (BookingsByName: partition organisation_id, sort
  search_name): the matching entries only, ordered by date here;
- an email, a booking ref, or a name matched inside (no name starts with the text) filter the entries of
  the listing partitions: these read every entry in scope (documented as scanning; no index of their own,
  which would cost a write unit on every booking write).
The bookings of a page are then fetched (BatchGetItem). The cursor is the last sort key returned, so a
page never repeats or skips a booking when others are added meanwhile.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any, Literal, get_args

from bookinghub.aws import keys
from bookinghub.aws.batch import batch_get
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.aws.query import query_items
from bookinghub.bookings.dal.bookings import (
    SEQUENCE,
    booking_record,
    index_attributes,
    index_removals,
    sequence_assignment,
    stored_event_id,
)
from bookinghub.bookings.dal.logs import event_item
from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.bookings.models.fields import BookingStatus
from bookinghub.core.settings import get_settings
from bookinghub.pms import keys as pms_keys

# Above every character of a sort key (dates, '#', uuids): the inclusive upper bound of a date
_HIGH = "~"
# Below every character of a sort key: "just after" a given sort key (exclusive cursor)
_AFTER = " "
_FIRST = "0000-00-00"
SORT_KEY = "date_key"
BY_STATUS, BY_NAME = "BookingsByWebsiteStatus", "BookingsByName"
STATUSES: tuple[str, ...] = get_args(BookingStatus)
# What a filtered read asks of a partition at most at once (a growing chunk: see _partition)
_MAX_CHUNK = 1000
_FIRST_FILTERED = 100
_MAX_IN = 100


@dataclass(frozen=True)
class BookingScope:
    """Whose bookings: some websites' (an organisation's are its websites'), of one organisation."""

    website_ids: tuple[str, ...]
    organisation_id: str  # every booking listed is this organisation's (checked on the index entries)
    status: str | None = None

    def partitions(self) -> tuple[str, ...]:
        statuses = (self.status,) if self.status else STATUSES
        return tuple(keys.list_key(website, status) for website in self.website_ids for status in statuses)


def organisation_sources(organisation_id: str) -> tuple[str, ...]:
    """The website ids an organisation's bookings carry: its websites' and its PMS hotels' (`pms:{slug}`),
    from the organisation's partition of GSI2 (where websites and hotels are listed), keys only."""
    found: list[str] = []
    for prefix, website_id in (("WEBSITE#", str), ("PMSHOTEL#", pms_keys.website_id)):
        request = {
            "TableName": get_settings().bookings_table,
            "IndexName": "GSI2",
            "KeyConditionExpression": "GSI2PK = :pk AND begins_with(GSI2SK, :prefix)",
            "ProjectionExpression": "GSI2SK",
            "ExpressionAttributeValues": {
                ":pk": to_attr(keys.org_pk(organisation_id)),
                ":prefix": to_attr(prefix),
            },
        }
        found += [website_id(str(item["GSI2SK"]).removeprefix(prefix)) for item in query_items(request)]
    return tuple(sorted(found))


# How `text` is read: a booking ref, a name prefix (keyed), a name substring (scanning); fixed by page one
SearchPlan = Literal["ref", "prefix", "name"]


@dataclass(frozen=True)
class BookingSearch:
    scope: BookingScope
    text: str | None = None  # an email, else a booking ref or a customer name
    date_from: str | None = None
    date_to: str | None = None
    after: str | None = None  # exclusive: the sort key of the last booking already returned
    plan: SearchPlan | None = None  # None: decided on this (the first) page


@dataclass(frozen=True)
class SearchPage:
    bookings: list[dict[str, Any]]
    after: str | None  # the sort key to go on after, when there are more
    plan: SearchPlan | None


def search_bookings(search: BookingSearch, limit: int) -> SearchPage:
    """One page of bookings (ascending by activity date, then id), with what the next page needs."""
    text = (search.text or "").strip()
    plan = search.plan
    if text and "@" not in text and plan is None:
        plan = _choose_plan(search, text)
    if plan == "prefix":
        entries: Iterator[dict[str, Any]] = iter(_by_name_prefix(search, text))
    else:
        entries = _entries(_listing_query(search, text, plan), limit + 1)
    items = _fetch(entries, search.scope, limit + 1)
    page, more = items[:limit], len(items) > limit
    after = page[-1][SORT_KEY] if more and page else None
    return SearchPage([booking_record(item) for item in page], after, plan)


def _choose_plan(search: BookingSearch, text: str) -> SearchPlan:
    """A name prefix if a name in scope starts with the text (one keyed read), else a booking ref if one
    matches (scanning), else a name substring."""
    first = replace(search, after=None)
    if _by_name_prefix(first, text, probe=True):
        return "prefix"
    if next(_entries(_listing_query(first, text, "ref"), 1), None) is not None:
        return "ref"
    return "name"


@dataclass(frozen=True)
class ListingQuery:
    partitions: tuple[str, ...]  # list_key values of BookingsByWebsiteStatus
    organisation_id: str
    date_from: str | None = None
    date_to: str | None = None
    after: str | None = None  # exclusive: the sort key of the last booking already returned
    # the filter on the entries beyond the organisation: (expression with #a/:v placeholders, names, values)
    filters: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)


def _listing_query(search: BookingSearch, text: str, plan: SearchPlan | None) -> ListingQuery:
    scope = search.scope
    filters: list[tuple[str, dict[str, str], dict[str, Any]]] = []
    if text and "@" in text:
        # The lower-cased email is the email itself unless it had capitals (then `email_key` holds it)
        names = {"#e": "customer_email", "#ek": "email_key"}
        filters.append(
            ("(#ek = :email OR (attribute_not_exists(#ek) AND #e = :email))", names, {":email": text.lower()})
        )
    elif text and plan == "ref":
        filters.append(("#ref = :ref", {"#ref": "booking_ref"}, {":ref": text}))
    elif text:  # "name": a substring of the folded name, case- and spacing-insensitive
        filters.append(("contains(#name, :name)", {"#name": keys.SEARCH_NAME}, {":name": keys.search_name(text)}))
    window = (search.date_from, search.date_to, search.after)
    return ListingQuery(scope.partitions(), scope.organisation_id, *window, filters=filters)


def _entries(query: ListingQuery, limit: int) -> Iterator[dict[str, Any]]:
    """The matching index entries, ascending by sort key, merged across the partitions; `limit`: about
    how many the caller needs (each partition is first asked for its share of them)."""
    share = max(1, -(-limit // max(1, len(query.partitions))))  # each partition's share of the page
    streams = [_partition(query, pk, share, limit) for pk in query.partitions]
    return heapq.merge(*streams, key=lambda entry: entry[SORT_KEY])


def _window(date_from: str | None, date_to: str | None, after: str | None) -> tuple[str, str] | None:
    low = date_from or _FIRST
    if after is not None and after + _AFTER > low:
        low = after + _AFTER
    high = (date_to or "9999-12-31") + _HIGH
    return (low, high) if low <= high else None


def _partition(query: ListingQuery, partition: str, first: int, most: int) -> Iterator[dict[str, Any]]:
    """The partition's matching entries in sort-key order: `first` entries asked for, then twice as many
    each time the merge uses them up (at most `most`, or _MAX_CHUNK when a filter drops entries)."""
    window = _window(query.date_from, query.date_to, query.after)
    if window is None:
        return
    names = {"#pk": keys.LIST_KEY, "#sk": SORT_KEY, "#org": "organisation_id"}
    values: dict[str, Any] = {":pk": partition, ":low": window[0], ":high": window[1], ":org": query.organisation_id}
    expressions = ["#org = :org"]  # the tenant, whichever websites were named
    for expression, more_names, more_values in query.filters:
        expressions.append(expression)
        names.update(more_names)
        values.update(more_values)
    request: dict[str, Any] = {
        "TableName": get_settings().bookings_table,
        "IndexName": BY_STATUS,
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
        "FilterExpression": " AND ".join(expressions),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {k: to_attr(v) for k, v in values.items()},
    }
    ceiling = _MAX_CHUNK if query.filters else max(most, 1)
    # A filter drops most entries: start larger (fewer round trips for the same entries read)
    chunk = min(max(first, _FIRST_FILTERED) if query.filters else first, ceiling)
    ddb = client("dynamodb")
    while True:
        response = ddb.query(**request, Limit=chunk)
        for raw in response["Items"]:
            yield from_item(raw)
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        chunk = min(chunk * 2, ceiling)


def _by_name_prefix(search: BookingSearch, text: str, *, probe: bool = False) -> list[dict[str, Any]]:
    """The entries in scope whose folded name starts with the folded text, in sort-key order: every
    entry of the prefix is read (the index is ordered by name), then sorted by date. `probe`: the first
    one found only."""
    scope = search.scope
    window = _window(search.date_from, search.date_to, search.after)
    prefix = keys.search_name(text)
    if window is None or not prefix:
        return []
    names = {"#org": "organisation_id", "#name": keys.SEARCH_NAME, "#sk": SORT_KEY, "#w": "website_id"}
    values: dict[str, Any] = {":org": scope.organisation_id, ":prefix": prefix, ":low": window[0], ":high": window[1]}
    # (The status is not on these entries, so that a status change writes no entry here: _fetch checks it)
    expressions = ["#sk BETWEEN :low AND :high"]
    if len(scope.website_ids) <= _MAX_IN:  # (DynamoDB's IN takes 100 values; else _fetch checks them)
        websites = [f":w{n}" for n in range(len(scope.website_ids))]
        values.update(zip(websites, scope.website_ids, strict=True))
        expressions.append(f"#w IN ({', '.join(websites)})")
    else:
        del names["#w"]
    request = {
        "TableName": get_settings().bookings_table,
        "IndexName": BY_NAME,
        "KeyConditionExpression": "#org = :org AND begins_with(#name, :prefix)",
        "FilterExpression": " AND ".join(expressions),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {k: to_attr(v) for k, v in values.items()},
    }
    if probe:
        return list(query_items(request, limit=1))
    return sorted(query_items(request), key=lambda entry: entry[SORT_KEY])


def _fetch(entries: Iterator[dict[str, Any]], scope: BookingScope, wanted: int) -> list[dict[str, Any]]:
    """Up to `wanted` bookings of the entries, in the entries' order, as they are now: an entry left
    behind by a change the index has yet to apply (another status, date or tenant) is skipped, and the
    next entries are fetched in its place."""
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    while len(items) < wanted:
        batch = list(islice(entries, wanted - len(items)))
        if not batch:
            break
        # Eventually consistent, like the index the entries came from
        found = batch_get(
            get_settings().bookings_table, [{"PK": e["PK"], "SK": e["SK"]} for e in batch], consistent=False
        )
        by_key = {item["PK"]: item for item in found}
        for entry in batch:
            item = by_key.get(entry["PK"])
            if item is None or item.get(SORT_KEY) != entry[SORT_KEY] or entry["PK"] in seen:
                continue  # deleted, moved to another date since the index was read, or listed already
            if item.get("organisation_id") != scope.organisation_id or item.get("website_id") not in scope.website_ids:
                continue
            if scope.status and item.get("status") != scope.status:
                continue
            seen.add(entry["PK"])
            items.append(item)
    return items


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
        **index_attributes(booking_id, set_columns, website_id=str(booking["website_id"])),
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
    removes += [stale for stale in index_removals(set_columns) if stale not in removes]
    names: dict[str, str] = {"#version": "version"}
    values: dict[str, Any] = {":expected": to_attr(expected_version), ":one": to_attr(1)}
    assignments = ["#version = #version + :one"]
    if event is not None:  # its event's sequence in the booking's realtime order
        names["#seq"], values[":zero"] = SEQUENCE, to_attr(0)
        assignments.append(sequence_assignment("#seq", ":zero", ":one"))
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
