"""Booking writes: one conditional write of the booking item, which also carries its change's event.

The acknowledge path of an inbound sync is the API key lookup and this write (its sync log is the
timeline item the relay writes from the stream, dal/logs.py); an update first reads the stored values of
its columns (one consistent GetItem, a fifth of a write's price), so that only the columns it changes are
stamped as the source's (`source_v#`). Conditions carry the rules that must hold under concurrency (one
booking per source id, no column overwritten by an older change, no write for a redelivery); when one
fails, DynamoDB hands back the stored booking (ReturnValuesOnConditionCheckFailure) so the caller can tell
why without another read. A failed condition writes nothing, so it leaves no event behind either.

The change's event is stamped on the item itself (`event_id`, `origin`, `event_type`, and on an update
`changed_fields`); the outbox relay builds the domain event from the stream's old and new images
(logic/outbox.py). Item layout (no attribute stored twice):
  PK=BOOKING#{id} SK=BOOKING (the id is the key's), the website, organisation and source id, the columns,
  `list_key` ({website_id}#{status}) and `date_key` ({activity_date}#{id}): BookingsByWebsiteStatus's
  keys; `search_name` (the name case-folded: BookingsByName's sort key); `email_key` (the customer email
  lower-cased, only when that differs from the email as given), version, created_at,
  updated_at (from the first update on), `order_key` (the creating change's) and `order_key#<column>`
  (the change that last set the column, when that was not the creating one), `source_v#<column>` (the
  booking version at which the source last changed the column), `created_payload_hash` /
  `last_payload_hash`.
"""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_attr, from_item, to_attr, to_item
from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.core.settings import get_settings

# Attributes the hub owns; a sync payload never sets them through `fields`.
_RESERVED = {
    "PK",
    "SK",
    "version",
    "created_at",
    "updated_at",
    "order_key",
    "last_payload_hash",
    "created_payload_hash",
    "hub_edits",
    *keys.BOOKING_CHANGE_ATTRIBUTES,
    *keys.BOOKING_INDEX_ATTRIBUTES,
}
# Each column's order key (the change that last set it) is stored beside it under this prefix
FIELD_KEY_PREFIX = "order_key#"
SOURCE_VERSION_PREFIX = "source_v#"  # each column's booking version when the source last set it


def field_key_attribute(column: str) -> str:
    return f"{FIELD_KEY_PREFIX}{column}"


def booking_id(website_id: str, source_booking_id: str) -> str:
    """The booking's id, derived from (website, source id): one booking per source booking."""
    return keys.booking_id_for(website_id, source_booking_id)


class BookingConditionFailed(Exception):
    """The booking's condition failed; `stored` is the booking as stored (None if absent)."""

    def __init__(self, stored: dict[str, Any] | None) -> None:
        super().__init__("booking condition failed")
        self.stored = stored


class WriteConflict(Exception):
    """Another transaction touched the same items at the same moment (only a change that records
    conflicts is a transaction); safe to retry after a fresh read."""


@dataclass(frozen=True)
class BookingChange:
    booking_id: str
    website_id: str
    organisation_id: str
    source_booking_id: str
    fields: dict[str, Any]  # booking columns to set (flattened seed columns)
    payload_hash: str
    order_key: str  # sortable; compared only when `ordered` (the payload carried updated_at or version)
    ordered: bool
    now: str
    event_type: str  # of the domain event this change makes (stamped on the item)
    origin: str  # who made it: `website:<id>`
    defaults: dict[str, Any] = field(default_factory=dict)  # columns set only when the booking is created
    # Whether a column whose stored key equals `order_key` may be overwritten: only once the caller has
    # compared the values (logic.field_order); a first attempt leaves ties to that comparison.
    ties_apply: bool = False
    # Conflicts (bookinghub.conflicts): the operator's pending edits (`hub_edits`) as read, and as they are
    # to be written. None: not read, so the write refuses any column with a pending edit (the caller reads
    # the booking then and decides); else the write requires them unchanged since the read.
    markers: MarkersWrite | None = None
    # More items written with it in one transaction (conflict records and their events): only a change
    # that meets an operator's pending edit has any, so every other write stays one UpdateItem
    extra_items: tuple[dict[str, Any], ...] = ()
    # Columns this change carried but leaves as the hub has them: their order keys still move to this
    # change's, so an older change of theirs stays stale (and is no new conflict)
    held: tuple[str, ...] = ()

    @classmethod
    def of(cls, **values: Any) -> BookingChange:
        """BookingChange(**values) given every field by name (else that call, with its errors): the same
        frozen instance, without the generated __init__'s object.__setattr__ per field (16 calls, most of
        a sync's change cost; tests/unit/test_booking_change.py compares them)."""
        if values.keys() != _CHANGE_FIELDS:
            return cls(**values)
        change = object.__new__(cls)
        change.__dict__.update(values)
        return change


_CHANGE_FIELDS = {f.name for f in dataclass_fields(BookingChange)}


@dataclass(frozen=True)
class MarkersWrite:
    read: dict[str, Any] | None
    new: dict[str, Any]


MARKERS = "hub_edits"


def new_event_id() -> str:
    """A change's event id as stored on the booking: a UUID's 16 bytes in 22 characters (base64url); the
    relay renders it as the UUID."""
    # uuid4's bytes, built directly (uuid.UUID's constructor checks were most of the cost)
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def stored_event_id(event_id: str) -> str:
    return base64.urlsafe_b64encode(uuid.UUID(event_id).bytes).decode().rstrip("=")


def _event_uuid(stamp: str) -> str:
    """The UUID of a stored event id (ValueError if it is none)."""
    if len(stamp) != 22:
        return str(uuid.UUID(stamp))  # written in full by hand or by another tool
    return str(uuid.UUID(bytes=base64.urlsafe_b64decode(stamp + "==")))


# The booking's realtime order (bookinghub/realtime): every write that stamps an event moves it on by one,
# in the same write, so a booking's events are numbered 1, 2, 3... in the order the changes were made
SEQUENCE = "seq"


def sequence_assignment(seq: str, zero: str, one: str) -> str:
    """The SET clause that gives a stamped change the booking's next sequence (placeholders of the
    caller's expression: the attribute's name, the values 0 and 1)."""
    return f"{seq} = if_not_exists({seq}, {zero}) + {one}"


def change_stamp(event_type: str, origin: str, changed_fields: list[str] | None) -> dict[str, Any]:
    """What the relay needs of a change beyond the booking itself. `changed_fields` None: every column
    (a creation); the relay builds the event only when `event_id` differs from the old image's."""
    stamp: dict[str, Any] = {"event_id": new_event_id(), "event_type": event_type, "origin": origin}
    if changed_fields is not None:
        stamp["changed_fields"] = sorted(changed_fields)
    return stamp


# The columns index_attributes reads (besides website_id, which a booking's own attributes carry)
INDEXED_COLUMNS = ("status", "activity_date", "customer_email", "customer_name")


def index_attributes(booking_id: str, columns: dict[str, Any], *, website_id: str | None = None) -> dict[str, Any]:
    """The index keys (and search copies) built from the columns a write sets. `website_id`: the
    booking's, when `columns` does not carry it (the listing partition is built from it and the status).

    The item stays one write unit for a typical booking, so nothing is stored twice that need not be:
    `email_key` only when the lower-cased email differs from the email as given (see index_removals)."""
    attrs: dict[str, Any] = {}
    website = columns.get("website_id") or website_id
    if columns.get("status") and website:
        attrs[keys.LIST_KEY] = keys.list_key(str(website), str(columns["status"]))
    if columns.get("activity_date"):
        attrs["date_key"] = keys.date_sort_key(columns["activity_date"], booking_id)
    email = columns.get("customer_email")
    if email and str(email).lower() != email:
        attrs["email_key"] = str(email).lower()
    if columns.get("customer_name"):
        attrs[keys.SEARCH_NAME] = keys.search_name(columns["customer_name"])
    return attrs


def index_removals(columns: dict[str, Any]) -> list[str]:
    """The search copies an update must remove: an `email_key` left from an email that needed one."""
    email = columns.get("customer_email")
    return ["email_key"] if email and str(email).lower() == email else []


def _identity(change: BookingChange) -> dict[str, Any]:
    return {
        "website_id": change.website_id,
        "organisation_id": change.organisation_id,
        "source_booking_id": change.source_booking_id,
    }


def create_booking(change: BookingChange, values: dict[str, Any] | None = None) -> None:
    """Insert a new booking; fails (BookingConditionFailed with the stored one) if it exists.

    `values`: its columns already as attribute values (dal.payload_values.column_values), in place of
    `change.fields` (then empty); the defaults fill in what they lack, as they fill in `change.fields`."""
    if values is None:
        columns = _columns({**change.defaults, **change.fields}, copy=False)  # (a new dict already)
        column_values = to_item(columns)
    else:
        defaults = {name: value for name, value in change.defaults.items() if name not in values}
        column_values = {**to_item(defaults), **values}
        # What index_attributes reads, as plain text: the rest of the columns are only written
        columns = {**defaults, **{name: values[name]["S"] for name in INDEXED_COLUMNS if name in values}}
    event_id = new_event_id()
    # The hub's own attributes are written as attribute values here (all text but two numbers): only the
    # booking's columns and their index copies go through the codec, a pass over each value (a sync's
    # largest share of our own CPU was that pass over the whole item)
    item = {
        "PK": {"S": keys.booking_pk(change.booking_id)},
        "SK": {"S": keys.BOOKING_SK},
        "website_id": {"S": change.website_id},  # _identity(change), without its dict
        "organisation_id": {"S": change.organisation_id},
        "source_booking_id": {"S": change.source_booking_id},
        **column_values,
        **to_item(index_attributes(change.booking_id, columns, website_id=change.website_id)),
        "version": {"N": "1"},
        "created_at": {"S": change.now},  # and its updated_at, until it is updated (not stored twice)
        "order_key": {"S": change.order_key},
        "created_payload_hash": {"S": change.payload_hash},
        # change_stamp(change.event_type, change.origin, None), as attribute values
        "event_id": {"S": event_id},
        "event_type": {"S": change.event_type},
        "origin": {"S": change.origin},
        SEQUENCE: {"N": "1"},  # its first event
    }
    _write("put_item", event_id, Item=item, ConditionExpression="attribute_not_exists(PK)")


def update_booking(change: BookingChange, *, may_create: bool) -> None:
    """Apply the given columns if none is older than its stored change and this is not a redelivery.

    `may_create` (a complete payload) turns it into an upsert; otherwise the booking must exist.
    Columns the payload does not carry (and admin-only columns) are left as stored. An ordered change
    records its key on each column it sets; the booking's own `order_key` is set once, when it is
    created, and stands for every column without a key of its own. A change without ordering
    information (`ordered` false) is applied in arrival order and records no key.
    """
    expr = _Expression()
    columns = _columns(change.fields)
    # The stored values of the columns, to stamp only those the change changes (none to set: no read)
    stored = _stored_columns(change.booking_id, columns) if columns else _NOT_READ
    if stored is None and not may_create:
        raise BookingConditionFailed(None)  # a partial change needs the booking: nothing to write
    always = {
        **_identity(change),
        **columns,
        **index_attributes(change.booking_id, columns, website_id=change.website_id),
        "updated_at": change.now,
        "last_payload_hash": change.payload_hash,
        # A change that sets no column (it only records conflicts) makes no booking event
        **(change_stamp(change.event_type, change.origin, list(columns)) if columns else {}),
    }
    if_absent: dict[str, Any] = {"created_at": change.now, "order_key": change.order_key}
    if may_create:
        defaults = {k: v for k, v in change.defaults.items() if k not in change.fields}
        if_absent.update(defaults)
        default_keys = index_attributes(change.booking_id, defaults, website_id=change.website_id)
        if_absent.update({k: v for k, v in default_keys.items() if k not in always})
    ordered_columns = {**dict.fromkeys(change.held), **columns}
    if change.ordered:
        always.update({field_key_attribute(column): change.order_key for column in ordered_columns})
    assignments = [f"{expr.name(attr)} = {expr.value(value)}" for attr, value in always.items()]
    for attr, value in if_absent.items():
        assignments.append(f"{expr.name(attr)} = if_not_exists({expr.name(attr)}, {expr.value(value)})")
    version = expr.name("version")
    assignments.append(f"{version} = if_not_exists({version}, {expr.value(0)}) + {expr.value(1)}")
    if columns:  # its event's sequence: one more than the booking's last event's
        assignments.append(sequence_assignment(expr.name(SEQUENCE), expr.value(0), expr.value(1)))
    # The booking version at which the source last changed each column (a versioned operator's edit of a
    # column the source changed since is a conflict, bookinghub.conflicts.logic.hub_edit). Only a value
    # that differs from the stored one is stamped: a full payload repeats every column it does not change.
    unchanged = _unchanged(stored, columns)
    for column in columns:
        if column not in unchanged:
            stamp = expr.name(f"{SOURCE_VERSION_PREFIX}{column}")
            assignments.append(f"{stamp} = if_not_exists({version}, {expr.value(0)}) + {expr.value(1)}")

    # Not a redelivery of the last applied payload, and (when ordered) no column set by a newer change
    # (A booking created by a creation has no last hash until its first update)
    last = expr.name("last_payload_hash")
    not_redelivered = f"attribute_not_exists({last}) OR {last} <> {expr.value(change.payload_hash)}"
    older = _not_older(expr, ordered_columns, change.order_key, ties_apply=change.ties_apply) if change.ordered else []
    removals = _markers(expr, change, columns, assignments, older)
    if stale_copies := index_removals(columns):
        names = ", ".join(expr.name(attr) for attr in stale_copies)
        removals = f"{removals}, {names}" if removals else f" REMOVE {names}"
    condition = _update_condition(expr, stored, columns, unchanged, not_redelivered, older, may_create=may_create)
    request = {
        "Key": to_item({"PK": keys.booking_pk(change.booking_id), "SK": keys.BOOKING_SK}),
        "UpdateExpression": "SET " + ", ".join(assignments) + removals,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": expr.names,
        "ExpressionAttributeValues": expr.values,
    }
    if change.extra_items:
        _transact(request, change.extra_items, always.get("event_id"))
    else:
        _write("update_item", always.get("event_id"), **request)


_NOT_READ: dict[str, Any] = {}  # a change with no column to set reads nothing (and stamps nothing)


def _update_condition(
    expr: _Expression,
    stored: dict[str, Any] | None,
    columns: dict[str, Any],
    unchanged: set[str],
    not_redelivered: str,
    older: list[str],
    *,
    may_create: bool,
) -> str:
    """What must hold for the update to apply: not a redelivery, no column set by a newer change, and
    the booking as it was read (present, absent, or its unstamped columns unchanged)."""
    fresh = " AND ".join([f"({not_redelivered})", *older])
    if stored is not None and stored is not _NOT_READ:
        # The unstamped columns still hold the value read: one changed since would be changed unstamped
        same = [f"{expr.name(column)} = {expr.value(columns[column])}" for column in sorted(unchanged)]
        return " AND ".join(["attribute_exists(PK)", fresh, *same])
    if may_create:
        # DynamoDB refuses redundant parentheses: the hash check alone is not wrapped twice
        condition = f"attribute_not_exists(PK) OR ({fresh if older else not_redelivered})"
        if stored is None:  # absent when read: still absent, else a change created it since (unstamped)
            condition = f"attribute_not_exists(PK) AND ({condition})"
        return condition
    return f"attribute_exists(PK) AND {fresh}"


def _stored_columns(booking_id: str, columns: dict[str, Any]) -> dict[str, Any] | None:
    """The stored values of these columns (None: no such booking)."""
    names = {f"#c{i}": column for i, column in enumerate(sorted(columns))}
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": keys.booking_pk(booking_id), "SK": keys.BOOKING_SK}),
        ConsistentRead=True,  # (a read just after the source's previous change must see it)
        ProjectionExpression=", ".join(["PK", *names]),
        ExpressionAttributeNames=names,
    )
    return from_item(response["Item"]) if "Item" in response else None


def _unchanged(stored: dict[str, Any] | None, columns: dict[str, Any]) -> set[str]:
    """The columns whose value the change repeats (compared as stored: 3 and 3.0 are one number)."""
    if not stored:
        return set()
    return {c for c, v in columns.items() if c in stored and from_attr(to_attr(v)) == stored[c]}


def _markers(
    expr: _Expression, change: BookingChange, columns: dict[str, Any], assignments: list[str], conditions: list[str]
) -> str:
    """The conflict markers' part of the write (see BookingChange.markers); returns a REMOVE clause."""
    if change.markers is None:
        if columns:  # (a name placeholder must be used, so only when there are columns to guard)
            markers = expr.name(MARKERS)
            conditions += [f"attribute_not_exists({markers}.{expr.name(column)})" for column in sorted(columns)]
        return ""
    markers = expr.name(MARKERS)
    read = change.markers.read
    conditions.append(f"{markers} = {expr.value(read)}" if read else f"attribute_not_exists({markers})")
    if change.markers.new:
        assignments.append(f"{markers} = {expr.value(change.markers.new)}")
        return ""
    return f" REMOVE {markers}" if read else ""


def _not_older(expr: _Expression, columns: dict[str, Any], order_key: str, *, ties_apply: bool) -> list[str]:
    """Per column: its key (or, without one, the booking's `order_key`) is below this change's key.

    Checked in the write itself, so a newer change that lands between the caller's read and this write
    fails the condition instead of being overwritten.
    """
    below = "<=" if ties_apply else "<"
    key = expr.value(order_key)
    booking_key = expr.name("order_key")
    conditions = []
    for column in sorted(columns):
        column_key = expr.name(field_key_attribute(column))
        conditions.append(
            f"((attribute_not_exists({column_key}) AND {booking_key} {below} {key}) OR {column_key} {below} {key})"
        )
    return conditions


class _Expression:
    """Placeholders for an update/condition expression: one per attribute name, one per value."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self._placeholders: dict[str, str] = {}

    def name(self, attr: str) -> str:
        if attr not in self._placeholders:
            self._placeholders[attr] = f"#n{len(self._placeholders)}"
            self.names[self._placeholders[attr]] = attr
        return self._placeholders[attr]

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = to_attr(value)
        return placeholder


def _columns(fields: dict[str, Any], *, copy: bool = True) -> dict[str, Any]:
    """The columns of `fields` (a copy, unless `copy` is false and none is dropped): without the hub's own
    attributes and per-column order keys."""
    # The common case checked in C: no reserved name, and no "#" in any name (so no order key's prefix)
    if _RESERVED.isdisjoint(fields) and "#" not in "".join(fields):
        return dict(fields) if copy else fields
    # `"#" in k` first: no column name has one, so the prefix is looked for only where it can be
    return {k: v for k, v in fields.items() if k not in _RESERVED and not ("#" in k and k.startswith(FIELD_KEY_PREFIX))}


def booking_record(item: dict[str, Any]) -> dict[str, Any]:
    """A stored booking item (plain values) as the booking: its id, without layout or change stamp."""
    record = {k: v for k, v in keys.without_layout(item).items() if k not in keys.BOOKING_LAYOUT_ATTRIBUTES}
    record["id"] = str(item["PK"]).removeprefix("BOOKING#")
    if "updated_at" not in record and "created_at" in record:
        record["updated_at"] = record["created_at"]  # never updated since it was created
    return record


def get_booking(booking_id: str) -> dict[str, Any] | None:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": keys.booking_pk(booking_id), "SK": keys.BOOKING_SK}),
        ConsistentRead=True,
    )
    return booking_record(from_item(response["Item"])) if "Item" in response else None


def _write(operation: str, stamp: str | None, **request: Any) -> None:
    """The booking's write. `stamp`: the event id it stamps; a failed condition that finds that very
    stamp stored is this write itself, committed by an attempt whose answer was lost (botocore retried)."""
    ddb = client("dynamodb")
    try:
        getattr(ddb, operation)(
            TableName=get_settings().bookings_table, ReturnValuesOnConditionCheckFailure="ALL_OLD", **request
        )
    except ddb.exceptions.ConditionalCheckFailedException as error:
        old = from_item(error.response["Item"]) if error.response.get("Item") else None
        if old is not None and stamp is not None and old.get("event_id") == stamp:
            return
        raise BookingConditionFailed(booking_record(old) if old else None) from error


def _transact(update: dict[str, Any], extra_items: tuple[dict[str, Any], ...], stamp: str | None) -> None:
    """The booking's update with the items it must not be written without (conflict records, events)."""
    ddb = client("dynamodb")
    booking_update = {
        "Update": {
            **update,
            "TableName": get_settings().bookings_table,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }
    try:
        ddb.transact_write_items(TransactItems=[booking_update, *extra_items])
    except ddb.exceptions.TransactionCanceledException as error:
        reasons = error.response.get("CancellationReasons", [])
        codes = [reason.get("Code") for reason in reasons]
        if codes and codes[0] == "ConditionalCheckFailed":
            old = from_item(reasons[0]["Item"]) if reasons[0].get("Item") else None
            if old is not None and stamp is not None and old.get("event_id") == stamp:
                return  # this write itself, committed by an attempt whose answer was lost
            raise BookingConditionFailed(booking_record(old) if old else None) from error
        # A conflict record written meanwhile (its condition) or a concurrent transaction: read again
        if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
            raise WriteConflict() from error
        raise


# Attributes of a booking item that are not its columns (a creation's event carries every column)
_NOT_COLUMNS = {
    *_RESERVED,
    *keys.BOOKING_LAYOUT_ATTRIBUTES,
    "entity",
    "id",
    "website_id",
    "organisation_id",
    "source_booking_id",
    "updated_by",
    "expires_at",
}


def change_event(new_image: dict[str, Any], old_image: dict[str, Any] | None) -> BookingDomainEvent | None:
    """The domain event of a booking item's stream record (DynamoDB-typed images): None when the write
    made no event (its stamp is the old image's: a writer that does not stamp, such as the PMS path
    with its own outbox item). ValueError/KeyError/ValidationError: a stamp that is not a valid event."""
    stamp = new_image.get("event_id", {}).get("S")
    if stamp is None or (old_image or {}).get("event_id", {}).get("S") == stamp:
        return None
    new = from_item(new_image)
    booking = booking_record(new)
    changed = new.get("changed_fields")
    if changed is None:
        changed = sorted(k for k in new if k not in _NOT_COLUMNS and not k.startswith(FIELD_KEY_PREFIX))
    origin = str(new["origin"])
    return BookingDomainEvent(
        event_id=_event_uuid(stamp),
        event_type=new["event_type"],
        booking_id=booking["id"],
        website_id=str(new["website_id"]),
        organisation_id=str(new["organisation_id"]),
        source_booking_id=str(new["source_booking_id"]),
        origin=origin,
        actor=origin.removeprefix("admin:") if origin.startswith("admin:") else None,
        changed_fields=list(changed),
        data={column: booking.get(column) for column in changed},
        occurred_at=str(booking["updated_at"]),
    )


def made_by_sync(new_image: dict[str, Any], old_image: dict[str, Any] | None) -> bool:
    """Whether a booking item's stream record is a website's sync (DynamoDB-typed images): only the sync
    writes the payload hashes, and each applied sync writes a new one (a redelivery writes nothing)."""
    old = old_image or {}
    return any(
        attr in new_image and new_image[attr] != old.get(attr) for attr in ("last_payload_hash", "created_payload_hash")
    )


def change_sequence(new_image: dict[str, Any], old_image: dict[str, Any] | None) -> int | None:
    """The sequence a booking change's write gave its event (DynamoDB-typed images); None when the write
    did not number it (a writer from before the booking carried `seq`): the realtime broadcaster does."""
    new = new_image.get(SEQUENCE, {}).get("N")
    if new is None or (old_image or {}).get(SEQUENCE, {}).get("N") == new:
        return None
    return int(new)
