"""PMS configurations (Bookings table): one per hotel slug, listed by organisation on GSI2."""

from __future__ import annotations

from typing import Any

from bookinghub.aws import keys as hub_keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.core.settings import get_settings
from bookinghub.pms import keys
from bookinghub.pms.models.config import PMSConfiguration

_STORAGE = ("PK", "SK", "entity", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")


class ConfigurationConflict(Exception):
    """A create found the slug taken, or an update found another version stored."""


def _item(config: PMSConfiguration) -> dict[str, Any]:
    return {
        "PK": keys.hotel_pk(config.slug),
        "SK": keys.CONFIG_SK,
        "entity": "pms_config",
        "GSI1PK": keys.ALL_HOTELS,
        "GSI1SK": config.slug,
        "GSI2PK": hub_keys.org_pk(config.organisation_id),
        "GSI2SK": keys.org_sk(config.slug),
        **config.model_dump(exclude_none=True),
    }


def create(config: PMSConfiguration) -> None:
    ddb = client("dynamodb")
    try:
        ddb.put_item(
            TableName=get_settings().bookings_table,
            Item=to_item(_item(config)),
            ConditionExpression="attribute_not_exists(PK)",
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        raise ConfigurationConflict() from None


def replace(config: PMSConfiguration, *, expected_version: int) -> None:
    ddb = client("dynamodb")
    try:
        ddb.put_item(
            TableName=get_settings().bookings_table,
            Item=to_item(_item(config)),
            ConditionExpression="attribute_exists(PK) AND version = :v",
            ExpressionAttributeValues={":v": to_attr(expected_version)},
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        raise ConfigurationConflict() from None


def remove(slug: str, *, expected_version: int) -> None:
    """Take back a configuration just created (its schedule could not be made), unless it changed since."""
    ddb = client("dynamodb")
    try:
        ddb.delete_item(
            TableName=get_settings().bookings_table,
            Key=to_item({"PK": keys.hotel_pk(slug), "SK": keys.CONFIG_SK}),
            ConditionExpression="version = :v",
            ExpressionAttributeValues={":v": to_attr(expected_version)},
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        raise ConfigurationConflict() from None


def get(slug: str) -> PMSConfiguration | None:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": keys.hotel_pk(slug), "SK": keys.CONFIG_SK}),
        ConsistentRead=True,
    )
    if "Item" not in response:
        return None
    return _config(from_item(response["Item"]))


def of_organisation(organisation_id: str) -> list[PMSConfiguration]:
    paginator = client("dynamodb").get_paginator("query")
    pages = paginator.paginate(
        TableName=get_settings().bookings_table,
        IndexName="GSI2",
        KeyConditionExpression="GSI2PK = :pk AND begins_with(GSI2SK, :sk)",
        ExpressionAttributeValues={":pk": to_attr(hub_keys.org_pk(organisation_id)), ":sk": to_attr("PMSHOTEL#")},
    )
    return [_config(from_item(raw)) for page in pages for raw in page["Items"]]


def all_enabled() -> list[PMSConfiguration]:
    """Every enabled configuration (the scheduler's pass): one GSI1 partition holds every hotel's."""
    paginator = client("dynamodb").get_paginator("query")
    pages = paginator.paginate(
        TableName=get_settings().bookings_table,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        FilterExpression="enabled = :t",
        ExpressionAttributeValues={":pk": to_attr(keys.ALL_HOTELS), ":t": to_attr(True)},
    )
    return [_config(from_item(raw)) for page in pages for raw in page["Items"]]


def _config(item: dict[str, Any]) -> PMSConfiguration:
    return PMSConfiguration.model_validate({k: v for k, v in item.items() if k not in _STORAGE})
