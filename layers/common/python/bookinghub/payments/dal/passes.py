"""Passes and their lock codes in the Bookings table (keys: aws/keys.py).

One pass per payment is enforced by the key (the pass id derives from the payment intent id) and a
conditional put; one lock code per pass and provider the same way. Conditions carry every rule that
must hold when two deliveries race.
"""

from __future__ import annotations

from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.core.settings import get_settings


def pass_id_for(payment_ref: str) -> str:
    """A pass's id from its payment intent id (or, without one, the Stripe object's id): one pass per payment."""
    return keys.pass_id_for(payment_ref)


def create_pass(fields: dict[str, Any]) -> dict[str, Any] | None:
    """Store a new pass; None if this call created it, else the pass already stored."""
    item = {"PK": keys.pass_pk(fields["id"]), "SK": keys.PASS_SK, "entity": "pass", **fields}
    stored = _put_new({**item, **_organisation_index(fields)})
    if stored is None:
        return None
    return stored or get_pass(fields["id"]) or {}


def _organisation_index(fields: dict[str, Any]) -> dict[str, Any]:
    """GSI2: an organisation's passes by arrival date, once the pass has both (valid metadata)."""
    if not fields.get("organisation_id") or not fields.get("arrival_date"):
        return {}
    return {
        "GSI2PK": keys.org_pk(fields["organisation_id"]),
        "GSI2SK": keys.pass_org_sk(fields["arrival_date"], fields["id"]),
    }


def activate_pass(pass_id: str, fields: dict[str, Any], now: str) -> bool:
    """Turn a needs_attention pass into an active one (a later event carried valid metadata)."""
    index = _organisation_index({**fields, "id": pass_id})
    values = {**fields, **index, "status": "active", "pincode_status": "pending", "updated_at": now}
    names = {f"#f{i}": name for i, name in enumerate(values)}
    attrs = {f":f{i}": to_attr(value) for i, value in enumerate(values.values())}
    attrs[":attention"] = to_attr("needs_attention")
    assignments = ", ".join(f"#f{i} = :f{i}" for i in range(len(values)))
    return _update_if(
        pass_id,
        UpdateExpression=f"SET {assignments} REMOVE attention_reason, raw_metadata",
        ConditionExpression="#status = :attention",
        ExpressionAttributeNames={**names, "#status": "status"},
        ExpressionAttributeValues=attrs,
    )


def mark_queued(pass_id: str, now: str) -> None:
    """Note that the pass's pincode request is on the queue, so a redelivered event does not queue it again."""
    client("dynamodb").update_item(
        TableName=get_settings().bookings_table,
        Key=_pass_key(pass_id),
        UpdateExpression="SET queued_at = :now",
        ExpressionAttributeValues={":now": to_attr(now)},
    )


def get_pass(pass_id: str) -> dict[str, Any] | None:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table, Key=_pass_key(pass_id), ConsistentRead=True
    )
    return keys.without_layout(from_item(response["Item"])) if "Item" in response else None


def get_pass_and_lock_code(
    pass_id: str, provider: str = "rooms"
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The pass and its lock code from this provider, in one query (they share a partition)."""
    response = client("dynamodb").query(
        TableName=get_settings().bookings_table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": to_attr(keys.pass_pk(pass_id))},
        ConsistentRead=True,
    )
    items = {item["SK"]: keys.without_layout(item) for item in (from_item(raw) for raw in response["Items"])}
    return items.get(keys.PASS_SK), items.get(keys.lock_code_sk(provider))


def put_lock_code(pass_id: str, provider: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    """Store a pass's lock code unless it has one from this provider; None if stored, else the existing one."""
    key = {"PK": keys.pass_pk(pass_id), "SK": keys.lock_code_sk(provider), "entity": "lock_code"}
    return _put_new({**key, "pass_id": pass_id, "provider": provider, **fields})


def set_pincode_outcome(
    pass_id: str, *, status: str, now: str, attempts: int, error: str | None = None, only_if_not_issued: bool = True
) -> bool:
    """Record the latest pincode attempt on the pass. A pass already `issued` is never set back."""
    attrs = {":status": to_attr(status), ":now": to_attr(now), ":attempts": to_attr(attempts)}
    update = "SET pincode_status = :status, updated_at = :now, pincode_attempts = :attempts"
    if error is not None:
        update += ", pincode_error = :error"
        attrs[":error"] = to_attr(error)
    else:
        update += " REMOVE pincode_error"
    condition = "attribute_exists(PK)"
    if only_if_not_issued:
        condition += " AND pincode_status <> :issued"
        attrs[":issued"] = to_attr("issued")
    return _update_if(pass_id, UpdateExpression=update, ConditionExpression=condition, ExpressionAttributeValues=attrs)


def _put_new(item: dict[str, Any]) -> dict[str, Any] | None:
    """Put an item that must not exist yet: None if stored, else the stored one ({} if DynamoDB did not
    hand it back)."""
    ddb = client("dynamodb")
    try:
        ddb.put_item(
            TableName=get_settings().bookings_table,
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(PK)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ddb.exceptions.ConditionalCheckFailedException as error:
        stored = error.response.get("Item")
        return keys.without_layout(from_item(stored)) if stored else {}
    return None


def _update_if(pass_id: str, **update: Any) -> bool:
    """Update the pass; False if the update's condition did not hold (nothing written)."""
    ddb = client("dynamodb")
    try:
        ddb.update_item(TableName=get_settings().bookings_table, Key=_pass_key(pass_id), **update)
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def _pass_key(pass_id: str) -> dict[str, Any]:
    return to_item({"PK": keys.pass_pk(pass_id), "SK": keys.PASS_SK})
