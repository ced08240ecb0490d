"""Endpoints and their status items (Bookings table). Only this module touches them in DynamoDB."""

from __future__ import annotations

from typing import Any

from bookinghub.aws import keys as hub_keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.core.recent import Recent
from bookinghub.core.settings import get_settings
from bookinghub.delivery.dal import keys
from bookinghub.delivery.models import Endpoint, EndpointStatus

_STATUS_FIELDS = set(EndpointStatus.model_fields)
# An organisation's endpoints as read by `recent_endpoints`, by organisation (the last 256)
_RECENT: Recent[str, list[Endpoint]] = Recent(max_entries=256)


def _table() -> str:
    return get_settings().bookings_table


def put_endpoint(endpoint: Endpoint, *, new: bool) -> None:
    item = {
        "PK": keys.endpoint_pk(endpoint.id),
        "SK": keys.ENDPOINT_SK,
        "GSI2PK": hub_keys.org_pk(endpoint.organisation_id),
        "GSI2SK": f"{keys.ENDPOINT_GSI2_PREFIX}{endpoint.id}",
        "entity": "endpoint",
        **endpoint.model_dump(),
    }
    extra: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"} if new else {}
    client("dynamodb").put_item(TableName=_table(), Item=to_item(item), **extra)
    _RECENT.forget(endpoint.organisation_id)  # this environment sees its own change at once


def get_endpoint(endpoint_id: str) -> tuple[Endpoint | None, EndpointStatus]:
    """The endpoint and its status in one read (both items share the partition)."""
    response = client("dynamodb").query(
        TableName=_table(),
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.endpoint_pk(endpoint_id)}},
        ConsistentRead=True,
    )
    endpoint, status = None, EndpointStatus(endpoint_id=endpoint_id)
    for raw in response["Items"]:
        item = from_item(raw)
        if item["SK"] == keys.ENDPOINT_SK:
            endpoint = Endpoint.model_validate(item)
        elif item["SK"] == keys.STATUS_SK:
            status = _status(item)
    return endpoint, status


def get_status(endpoint_id: str) -> EndpointStatus:
    response = client("dynamodb").get_item(
        TableName=_table(), Key=to_item(status_key(endpoint_id)), ConsistentRead=True
    )
    return status_from_item(endpoint_id, from_item(response["Item"]) if "Item" in response else None)


def status_key(endpoint_id: str) -> dict[str, str]:
    """The status item's key (plain values): for a batch read that includes it."""
    return {"PK": keys.endpoint_pk(endpoint_id), "SK": keys.STATUS_SK}


def status_from_item(endpoint_id: str, item: dict[str, Any] | None) -> EndpointStatus:
    """The status in a read item; a fresh one when there is no item yet (it is created at first use)."""
    return _status(item) if item is not None else EndpointStatus(endpoint_id=endpoint_id)


def _status(item: dict[str, Any]) -> EndpointStatus:
    return EndpointStatus.model_validate({k: v for k, v in item.items() if k in _STATUS_FIELDS})


def list_endpoints(organisation_id: str) -> list[Endpoint]:
    """Every subscription endpoint of an organisation (GSI2, paged)."""
    found: list[Endpoint] = []
    start: dict[str, Any] | None = None
    while True:
        response = client("dynamodb").query(
            TableName=_table(),
            IndexName="GSI2",
            KeyConditionExpression="GSI2PK = :org AND begins_with(GSI2SK, :prefix)",
            ExpressionAttributeValues={
                ":org": {"S": hub_keys.org_pk(organisation_id)},
                ":prefix": {"S": keys.ENDPOINT_GSI2_PREFIX},
            },
            **({"ExclusiveStartKey": start} if start else {}),
        )
        found += [Endpoint.model_validate(from_item(item)) for item in response["Items"]]
        start = response.get("LastEvaluatedKey")
        if not start:
            return found


def recent_endpoints(organisation_id: str, *, max_age_seconds: float) -> list[Endpoint]:
    """`list_endpoints`, read at most once per `max_age_seconds` in this execution environment (bounded
    to the last 256 organisations): for a decision that may lag a change of subscriptions by that much."""
    return _RECENT.get(organisation_id, lambda: list_endpoints(organisation_id), max_age_seconds=max_age_seconds)


def forget_recent_endpoints() -> None:
    _RECENT.forget()


def update_status(
    endpoint_id: str,
    *,
    set_fields: dict[str, Any] | None = None,
    add: dict[str, int] | None = None,
    remove: tuple[str, ...] = (),
    condition: str | None = None,
    condition_values: dict[str, Any] | None = None,
) -> EndpointStatus:
    """One atomic change of the status item (created on first use); returns it as it now is."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {":eid": to_attr(endpoint_id)}
    sets = ["endpoint_id = :eid"]
    for n, (name, value) in enumerate((set_fields or {}).items()):
        names[f"#s{n}"] = name
        values[f":s{n}"] = to_attr(value)
        sets.append(f"#s{n} = :s{n}")
    expression = "SET " + ", ".join(sets)
    if add:
        parts = []
        for n, (name, amount) in enumerate(add.items()):
            names[f"#a{n}"] = name
            values[f":a{n}"] = to_attr(amount)
            parts.append(f"#a{n} :a{n}")
        expression += " ADD " + ", ".join(parts)
    if remove:
        for n, name in enumerate(remove):
            names[f"#r{n}"] = name
        expression += " REMOVE " + ", ".join(f"#r{n}" for n in range(len(remove)))
    extra: dict[str, Any] = {}
    if condition:
        extra["ConditionExpression"] = condition
        values.update({k: to_attr(v) for k, v in (condition_values or {}).items()})
    if names:
        extra["ExpressionAttributeNames"] = names
    response = client("dynamodb").update_item(
        TableName=_table(),
        Key={"PK": {"S": keys.endpoint_pk(endpoint_id)}, "SK": {"S": keys.STATUS_SK}},
        UpdateExpression=expression,
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
        **extra,
    )
    return _status(from_item(response["Attributes"]))


def take_rate_slot(endpoint_id: str, *, window: int, limit: int) -> bool:
    """Count one send in this one-second window; False when the endpoint's limit is used up."""
    dynamodb = client("dynamodb")
    key = {"PK": {"S": keys.endpoint_pk(endpoint_id)}, "SK": {"S": keys.STATUS_SK}}
    try:
        dynamodb.update_item(
            TableName=_table(),
            Key=key,
            UpdateExpression="SET rl_window = :w, endpoint_id = :eid ADD rl_count :one",
            ConditionExpression="rl_window = :w AND rl_count < :limit",
            ExpressionAttributeValues={
                ":w": to_attr(window),
                ":one": to_attr(1),
                ":limit": to_attr(limit),
                ":eid": to_attr(endpoint_id),
            },
        )
        return True
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass
    try:  # a new window starts at one
        dynamodb.update_item(
            TableName=_table(),
            Key=key,
            UpdateExpression="SET rl_window = :w, rl_count = :one, endpoint_id = :eid",
            ConditionExpression="attribute_not_exists(rl_window) OR rl_window < :w",
            ExpressionAttributeValues={":w": to_attr(window), ":one": to_attr(1), ":eid": to_attr(endpoint_id)},
        )
        return True
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False


def claim_probe(endpoint_id: str, *, seen_open_until: float | None, hold_until: float) -> bool:
    """Move an open circuit to half-open, only if no other attempt did since `seen_open_until` was read:
    the one attempt that wins probes the receiver, the others wait."""
    from botocore.exceptions import ClientError

    try:
        update_status(
            endpoint_id,
            set_fields={"circuit": "half_open", "circuit_open_until": hold_until},
            condition="circuit_open_until = :seen",
            condition_values={":seen": seen_open_until},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True
