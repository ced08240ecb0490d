"""Passes and their lock codes in the Bookings table (keys: aws/keys.py).

One pass per payment is enforced by the key (the pass id derives from the payment intent id) and a
conditional put; one lock code per pass and provider the same way. Conditions carry every rule that
must hold when two deliveries race.

Write budget (issue 11): a paid payment costs the pass's put and its lock code's put, nothing else on
the way. A pass is in no index (no query lists passes by organisation; an older pass may still carry
GSI2 keys, harmlessly). The pincode's claim (who may call Rooms for it now) lives on the pass: the
webhook sets it in the put, so the first message needs no write of its own (payments/logic/pincodes.py).
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
    stored = _put_new(item)
    if stored is None:
        return None
    return stored or get_pass(fields["id"]) or {}


def activate_pass(pass_id: str, fields: dict[str, Any], now: str) -> bool:
    """Turn a needs_attention pass into an active one (a later event carried valid metadata); `fields`
    include its queueing marks (queued_at, queue_event_id and the claim)."""
    values = {**fields, "status": "active", "pincode_status": "pending", "updated_at": now}
    return _set_if(
        pass_id, values, "#status = :attention", {":attention": to_attr("needs_attention")}, remove=_ATTENTION
    )


def requeue(pass_id: str, fields: dict[str, Any], seen_queued_at: str | None) -> bool:
    """Queue the pass again (new queued_at and claim), unless another delivery did since it was read."""
    if seen_queued_at is None:
        return _set_if(pass_id, fields, "attribute_exists(PK) AND attribute_not_exists(queued_at)", {})
    return _set_if(pass_id, fields, "queued_at = :seen", {":seen": to_attr(seen_queued_at)})


def unmark_queued(pass_id: str, queued_at: str) -> None:
    """The message was not sent after all: a redelivery of the event must queue the pass again."""
    _update_if(
        pass_id,
        UpdateExpression=f"REMOVE queued_at, {CLAIM}, {CLAIM_UNTIL}",
        ConditionExpression="queued_at = :mine",
        ExpressionAttributeValues={":mine": to_attr(queued_at)},
    )


# The pincode's claim: the token of the message (or invocation) that may call Rooms until CLAIM_UNTIL
CLAIM, CLAIM_UNTIL = "pincode_claim", "pincode_claim_until"
_ATTENTION = ("attention_reason", "raw_metadata")


def take_claim(pass_id: str, token: str, until: int, now: int) -> bool:
    """Claim the pass's Rooms call until `until` (epoch s), unless an unexpired claim is someone else's."""
    return _update_if(
        pass_id,
        UpdateExpression=f"SET {CLAIM} = :token, {CLAIM_UNTIL} = :until",
        ConditionExpression=f"attribute_exists(PK) AND (attribute_not_exists({CLAIM_UNTIL}) OR {CLAIM_UNTIL} < :now)",
        ExpressionAttributeValues={":token": to_attr(token), ":until": to_attr(until), ":now": to_attr(now)},
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
    """Record the latest pincode attempt on the pass. A pass already `issued` is never set back. A failed
    attempt (`error`) also gives up the pass's claim, so the next message may call Rooms at once."""
    attrs = {":status": to_attr(status), ":now": to_attr(now), ":attempts": to_attr(attempts)}
    update = "SET pincode_status = :status, updated_at = :now, pincode_attempts = :attempts"
    if error is not None:
        update += f", pincode_error = :error REMOVE {CLAIM}, {CLAIM_UNTIL}"
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


def _set_if(
    pass_id: str, values: dict[str, Any], condition: str, attrs: dict[str, Any], remove: tuple[str, ...] = ()
) -> bool:
    names = {f"#f{i}": name for i, name in enumerate(values)}
    attrs = {**attrs, **{f":f{i}": to_attr(value) for i, value in enumerate(values.values())}}
    update = "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(values)))
    if remove:
        update += " REMOVE " + ", ".join(remove)
    extra_names = {"#status": "status"} if "#status" in condition else {}
    return _update_if(
        pass_id,
        UpdateExpression=update,
        ConditionExpression=condition,
        ExpressionAttributeNames={**names, **extra_names},
        ExpressionAttributeValues=attrs,
    )


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
