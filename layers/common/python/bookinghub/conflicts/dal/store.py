"""Conflict records and per-organisation rules (Bookings table).

A record is its own item (`CONFLICT#<id>`), listed per organisation by status and time (GSI2:
`CONFLICTS#<org>`, `<status>#<detected_at>#<id>`) and per booking (GSI1: `CONFLICTS#<booking>`). Records
are written inside the transaction of the booking change that found them (as transaction items built
here), so a conflict never exists without the change, or the change without its conflict.
"""

from __future__ import annotations

from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.aws.query import query_items
from bookinghub.conflicts.models import ConflictRecord, Group, Rule, Status
from bookinghub.core.settings import get_settings

CONFLICT_SK = "CONFLICT"
RULES_SK = "CONFLICT_RULES"


def conflict_pk(conflict_id: str) -> str:
    return f"CONFLICT#{conflict_id}"


def _org_partition(organisation_id: str) -> str:
    return f"CONFLICTS#{organisation_id}"


def _booking_partition(booking_id: str) -> str:
    return f"CONFLICTS#{booking_id}"


def record_item(record: ConflictRecord) -> dict[str, Any]:
    return {
        "PK": conflict_pk(record.id),
        "SK": CONFLICT_SK,
        "entity": "conflict",
        "GSI1PK": _booking_partition(record.booking_id),
        "GSI1SK": f"{record.detected_at}#{record.id}",
        "GSI2PK": _org_partition(record.organisation_id),
        "GSI2SK": f"{record.status}#{record.detected_at}#{record.id}",
        **record.model_dump(mode="json"),
    }


def put_items(records: list[ConflictRecord]) -> list[dict[str, Any]]:
    """Transaction items storing these records. An open record may be overwritten (the same conflict
    seen with a newer source value); a resolved one never is (its outcome is final)."""
    table = get_settings().bookings_table
    return [
        {
            "Put": {
                "TableName": table,
                "Item": to_item(record_item(record)),
                "ConditionExpression": "attribute_not_exists(PK) OR #status = :open",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":open": to_attr("open")},
            }
        }
        for record in records
    ]


def resolve_item(record: ConflictRecord) -> dict[str, Any]:
    """The transaction item closing an open record with its resolution (fails if it is not open)."""
    item = put_items([record])[0]
    item["Put"]["ConditionExpression"] = "#status = :open"
    return item


def set_sync_back(conflict_id: str, sync_back: str, *, error: str | None, now: str) -> None:
    """Record whether a resolved conflict's value reached its source (a Beds24 write-back's outcome)."""
    names = {"#sb": "sync_back", "#err": "sync_error", "#at": "synced_at"}
    values: dict[str, Any] = {":sb": to_attr(sync_back), ":at": to_attr(now)}
    expression = "SET #sb = :sb, #at = :at"
    if error:
        values[":err"] = to_attr(error)
        expression += ", #err = :err"
    else:
        expression += " REMOVE #err"
    client("dynamodb").update_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": conflict_pk(conflict_id), "SK": CONFLICT_SK}),
        UpdateExpression=expression,
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def get_conflict(conflict_id: str) -> ConflictRecord | None:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": conflict_pk(conflict_id), "SK": CONFLICT_SK}),
        ConsistentRead=True,
    )
    if "Item" not in response:
        return None
    return ConflictRecord.model_validate(keys.without_layout(from_item(response["Item"])))


def list_conflicts(
    organisation_id: str, *, status: Status | None, booking_id: str | None, limit: int
) -> list[ConflictRecord]:
    """Newest first: an organisation's (by status, when given) or one booking's (filtered by status)."""
    names = {"#pk": "GSI1PK" if booking_id else "GSI2PK"}
    values: dict[str, Any] = {}
    request: dict[str, Any] = {"TableName": get_settings().bookings_table, "ScanIndexForward": False}
    if booking_id:
        request["IndexName"] = "GSI1"
        values[":pk"] = to_attr(_booking_partition(booking_id))
        request["KeyConditionExpression"] = "#pk = :pk"
        filters = ["organisation_id = :org"]
        values[":org"] = to_attr(organisation_id)
        if status:
            filters.append("#status = :status")
            names["#status"] = "status"
            values[":status"] = to_attr(status)
        request["FilterExpression"] = " AND ".join(filters)
    else:
        request["IndexName"] = "GSI2"
        values[":pk"] = to_attr(_org_partition(organisation_id))
        request["KeyConditionExpression"] = "#pk = :pk"
        if status:
            names["#sk"] = "GSI2SK"
            values[":prefix"] = to_attr(f"{status}#")
            request["KeyConditionExpression"] += " AND begins_with(#sk, :prefix)"
    request["ExpressionAttributeNames"] = names
    request["ExpressionAttributeValues"] = values
    return [ConflictRecord.model_validate(keys.without_layout(item)) for item in query_items(request, limit=limit)]


def open_conflicts_of(organisation_id: str, booking_ids: set[str]) -> list[ConflictRecord]:
    """The organisation's open conflicts on these bookings (a reconciliation report's)."""
    found = list_conflicts(organisation_id, status="open", booking_id=None, limit=10_000)
    return [record for record in found if record.booking_id in booking_ids]


# --- Rules ------------------------------------------------------------------------------------------------


def get_rules(organisation_id: str) -> dict[str, Any]:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": keys.org_pk(organisation_id), "SK": RULES_SK}),
    )
    return dict(from_item(response["Item"]).get("rules") or {}) if "Item" in response else {}


def put_rules(organisation_id: str, rules: dict[Group, Rule], *, updated_by: str, now: str) -> None:
    item = {
        "PK": keys.org_pk(organisation_id),
        "SK": RULES_SK,
        "entity": "conflict_rules",
        "organisation_id": organisation_id,
        "rules": dict(rules),
        "updated_by": updated_by,
        "updated_at": now,
    }
    client("dynamodb").put_item(TableName=get_settings().bookings_table, Item=to_item(item))


# --- Transactions of a resolution ----------------------------------------------------------------------


class ResolutionRaced(Exception):
    """The record was resolved, or the booking changed, since it was read: read again."""


def transact(items: list[dict[str, Any]]) -> None:
    ddb = client("dynamodb")
    try:
        ddb.transact_write_items(TransactItems=items)
    except ddb.exceptions.TransactionCanceledException as error:
        codes = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
            raise ResolutionRaced() from None
        raise
