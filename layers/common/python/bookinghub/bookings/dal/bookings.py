"""Booking writes: the booking, its domain event (outbox) and its sync log in one transaction.

Two AWS calls make the whole acknowledge path of an inbound sync: the API key lookup and this
transaction. Conditions carry the rules that must hold under concurrency (one booking per source id,
no overwrite by an older change, no write for a redelivery); when one fails, DynamoDB hands back the
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
}


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
    event: BookingDomainEvent  # written to the outbox (Bookings table)
    log: SyncLog  # the sync log row (IntegrationLogs table)
    defaults: dict[str, Any] = field(default_factory=dict)  # columns set only when the booking is created


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
        {
            "Put": {
                "TableName": settings.bookings_table,
                "Item": to_item(event_item(change.event)),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
        {"Put": {"TableName": settings.integration_logs_table, "Item": to_item(sync_log_item(change.log))}},
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
    """Apply the given fields if this change is not older than the stored one and not a redelivery.

    `may_create` (a complete payload) turns it into an upsert; otherwise the booking must exist.
    Fields the payload does not carry (and admin-only fields) are left as stored. A change without
    ordering information (`ordered` false) is applied in arrival order and leaves the stored order key.
    """
    expr = _Expression()
    always = {
        **_identity(change),
        **_columns(change.fields),
        **_index_attributes(change),
        "updated_at": change.now,
        "last_payload_hash": change.payload_hash,
    }
    if_absent: dict[str, Any] = {"created_at": change.now}
    if may_create:
        if_absent.update({k: v for k, v in change.defaults.items() if k not in change.fields})
    if change.ordered:
        always["order_key"] = change.order_key
    else:
        if_absent["order_key"] = change.order_key
    assignments = [f"{expr.name(attr)} = {expr.value(value)}" for attr, value in always.items()]
    for attr, value in if_absent.items():
        assignments.append(f"{expr.name(attr)} = if_not_exists({expr.name(attr)}, {expr.value(value)})")
    version = expr.name("version")
    assignments.append(f"{version} = if_not_exists({version}, {expr.value(0)}) + {expr.value(1)}")

    # Not a redelivery of the last applied payload, and (when ordered) not older than what is stored
    fresh = f"{expr.name('last_payload_hash')} <> {expr.value(change.payload_hash)}"
    if change.ordered:
        fresh += f" AND {expr.name('order_key')} <= {expr.value(change.order_key)}"
    condition = f"attribute_not_exists(PK) OR ({fresh})" if may_create else f"attribute_exists(PK) AND {fresh}"
    booking_update = {
        "Update": {
            "TableName": get_settings().bookings_table,
            "Key": to_item({"PK": keys.booking_pk(change.booking_id), "SK": keys.BOOKING_SK}),
            "UpdateExpression": "SET " + ", ".join(assignments),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": expr.names,
            "ExpressionAttributeValues": expr.values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }
    _transact([booking_update, *_side_items(change)])


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
    return {k: v for k, v in fields.items() if k not in _RESERVED}


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
        # Item order: 0 booking, 1 website check, 2 event, 3 log
        if len(reasons) > 1 and codes[1] == "ConditionalCheckFailed":
            raise WebsiteUnavailable(exists=bool(reasons[1].get("Item"))) from error
        if reasons and codes[0] == "ConditionalCheckFailed":
            raise BookingConditionFailed(_old(reasons[0])) from error
        if "TransactionConflict" in codes:
            raise WriteConflict() from error
        raise


def _old(reason: dict[str, Any]) -> dict[str, Any] | None:
    return keys.without_layout(from_item(reason["Item"])) if reason.get("Item") else None
