"""Booking writes: the booking, its domain event (outbox) and its sync log in one transaction.

Two AWS calls make the whole acknowledge path of an inbound sync: the API key lookup and this
transaction. Conditions carry the rules that must hold under concurrency (one booking per source id,
no column overwritten by an older change, no write for a redelivery); when one fails, DynamoDB hands back the
stored booking (ReturnValuesOnConditionCheckFailure) so the caller can tell why without another read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.bookings.dal.logs import event_item, sync_log_item
from bookinghub.bookings.models.events import BookingDomainEvent, SyncLog
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


class WebsiteUnavailable(Exception):
    """The website vanished or was deactivated between key lookup and write (`exists`: only deactivated)."""

    def __init__(self, exists: bool) -> None:
        super().__init__("website missing or inactive")
        self.exists = exists


class WriteConflict(Exception):
    """Another transaction touched the same items at the same moment; safe to retry."""


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
    event: BookingDomainEvent | None  # written to the outbox (Bookings table); None: no column changes
    log: SyncLog  # the sync log row (IntegrationLogs table)
    defaults: dict[str, Any] = field(default_factory=dict)  # columns set only when the booking is created
    # Whether a column whose stored key equals `order_key` may be overwritten: only once the caller has
    # compared the values (logic.field_order); a first attempt leaves ties to that comparison.
    ties_apply: bool = False
    # Conflicts (bookinghub.conflicts): the operator's pending edits (`hub_edits`) as read, and as they are
    # to be written. None: not read, so the write refuses any column with a pending edit (the caller reads
    # the booking then and decides); else the write requires them unchanged since the read.
    markers: MarkersWrite | None = None
    extra_items: tuple[dict[str, Any], ...] = ()  # more transaction items (conflict records, their events)
    # Columns this change carried but leaves as the hub has them: their order keys still move to this
    # change's, so an older change of theirs stays stale (and is no new conflict)
    held: tuple[str, ...] = ()


@dataclass(frozen=True)
class MarkersWrite:
    read: dict[str, Any] | None
    new: dict[str, Any]


MARKERS = "hub_edits"


def _index_attributes(change: BookingChange) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "GSI1PK": keys.website_pk(change.website_id),
        "GSI2PK": keys.org_pk(change.organisation_id),
    }
    fields = change.fields
    if "activity_date" in fields:
        sort_key = keys.date_sort_key(fields["activity_date"], change.booking_id)
        attrs.update(GSI1SK=sort_key, GSI2SK=sort_key, GSI3SK=sort_key, GSI4SK=sort_key)
    if fields.get("customer_email"):
        attrs["GSI3PK"] = keys.email_pk(fields["customer_email"])
    if fields.get("booking_ref"):
        attrs["GSI4PK"] = keys.ref_pk(fields["booking_ref"])
    if fields.get("customer_name"):
        attrs[keys.SEARCH_NAME] = keys.search_name(fields["customer_name"])
    return attrs


def _identity(change: BookingChange) -> dict[str, Any]:
    return {
        "entity": "booking",
        "id": change.booking_id,
        "website_id": change.website_id,
        "organisation_id": change.organisation_id,
        "source_booking_id": change.source_booking_id,
    }


def _side_items(change: BookingChange) -> list[dict[str, Any]]:
    settings = get_settings()
    return [
        {
            "ConditionCheck": {
                "TableName": settings.bookings_table,
                "Key": to_item({"PK": keys.website_pk(change.website_id), "SK": keys.WEBSITE_SK}),
                "ConditionExpression": "attribute_exists(PK) AND is_active = :active",
                "ExpressionAttributeValues": {":active": to_attr(True)},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        *(
            [
                {
                    "Put": {
                        "TableName": settings.bookings_table,
                        "Item": to_item(event_item(change.event)),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            ]
            if change.event is not None
            else []
        ),
        {"Put": {"TableName": settings.integration_logs_table, "Item": to_item(sync_log_item(change.log))}},
        *change.extra_items,
    ]


def create_booking(change: BookingChange) -> None:
    """Insert a new booking; fails (BookingConditionFailed with the stored one) if it exists."""
    item = {
        "PK": keys.booking_pk(change.booking_id),
        "SK": keys.BOOKING_SK,
        **_identity(change),
        **_columns({**change.defaults, **change.fields}),
        **_index_attributes(change),
        "version": 1,
        "created_at": change.now,
        "updated_at": change.now,
        "order_key": change.order_key,
        "last_payload_hash": change.payload_hash,
        "created_payload_hash": change.payload_hash,
    }
    booking_put = {
        "Put": {
            "TableName": get_settings().bookings_table,
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(PK)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }
    _transact([booking_put, *_side_items(change)])


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
    always = {
        **_identity(change),
        **columns,
        **_index_attributes(change),
        "updated_at": change.now,
        "last_payload_hash": change.payload_hash,
    }
    if_absent: dict[str, Any] = {"created_at": change.now, "order_key": change.order_key}
    if may_create:
        if_absent.update({k: v for k, v in change.defaults.items() if k not in change.fields})
    ordered_columns = {**dict.fromkeys(change.held), **columns}
    if change.ordered:
        always.update({field_key_attribute(column): change.order_key for column in ordered_columns})
    assignments = [f"{expr.name(attr)} = {expr.value(value)}" for attr, value in always.items()]
    for attr, value in if_absent.items():
        assignments.append(f"{expr.name(attr)} = if_not_exists({expr.name(attr)}, {expr.value(value)})")
    version = expr.name("version")
    assignments.append(f"{version} = if_not_exists({version}, {expr.value(0)}) + {expr.value(1)}")
    # The booking version at which the source last set each column (a versioned operator's edit of a
    # column the source set since is a conflict, bookinghub.conflicts.logic.hub_edit)
    for column in columns:
        stamp = expr.name(f"{SOURCE_VERSION_PREFIX}{column}")
        assignments.append(f"{stamp} = if_not_exists({version}, {expr.value(0)}) + {expr.value(1)}")

    # Not a redelivery of the last applied payload, and (when ordered) no column set by a newer change
    conditions = [f"{expr.name('last_payload_hash')} <> {expr.value(change.payload_hash)}"]
    if change.ordered:
        conditions += _not_older(expr, ordered_columns, change.order_key, ties_apply=change.ties_apply)
    removals = _markers(expr, change, columns, assignments, conditions)
    fresh = " AND ".join(conditions)
    condition = f"attribute_not_exists(PK) OR ({fresh})" if may_create else f"attribute_exists(PK) AND {fresh}"
    booking_update = {
        "Update": {
            "TableName": get_settings().bookings_table,
            "Key": to_item({"PK": keys.booking_pk(change.booking_id), "SK": keys.BOOKING_SK}),
            "UpdateExpression": "SET " + ", ".join(assignments) + removals,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": expr.names,
            "ExpressionAttributeValues": expr.values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }
    _transact([booking_update, *_side_items(change)])


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
    fails the transaction instead of being overwritten.
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


def _columns(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in _RESERVED and not k.startswith(FIELD_KEY_PREFIX)}


def get_booking(booking_id: str) -> dict[str, Any] | None:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": keys.booking_pk(booking_id), "SK": keys.BOOKING_SK}),
        ConsistentRead=True,
    )
    return keys.without_layout(from_item(response["Item"])) if "Item" in response else None


def _transact(items: list[dict[str, Any]]) -> None:
    ddb = client("dynamodb")
    try:
        ddb.transact_write_items(TransactItems=items)
    except ddb.exceptions.TransactionCanceledException as error:
        reasons = error.response.get("CancellationReasons", [])
        codes = [reason.get("Code") for reason in reasons]
        # Item order: 0 booking, 1 website check, 2 event (if any), then the log and any extra items
        if len(reasons) > 1 and codes[1] == "ConditionalCheckFailed":
            raise WebsiteUnavailable(exists=bool(reasons[1].get("Item"))) from error
        if reasons and codes[0] == "ConditionalCheckFailed":
            raise BookingConditionFailed(_old(reasons[0])) from error
        if "TransactionConflict" in codes:
            raise WriteConflict() from error
        raise


def _old(reason: dict[str, Any]) -> dict[str, Any] | None:
    return keys.without_layout(from_item(reason["Item"])) if reason.get("Item") else None
