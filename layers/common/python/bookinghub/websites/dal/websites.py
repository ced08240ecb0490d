"""Websites and their API keys in the Bookings table."""

from __future__ import annotations

from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_item
from bookinghub.core.settings import get_settings
from bookinghub.websites.models import ApiKeyRecord, Website


def get_api_key(key_hash: str) -> ApiKeyRecord | None:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": keys.api_key_pk(key_hash), "SK": keys.APIKEY_SK}),
    )
    if "Item" not in response:
        return None
    return ApiKeyRecord.model_validate(from_item(response["Item"]))


def get_website(website_id: str) -> Website | None:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": keys.website_pk(website_id), "SK": keys.WEBSITE_SK}),
        ConsistentRead=True,
    )
    if "Item" not in response:
        return None
    return Website.model_validate(from_item(response["Item"]))


def website_item(website: Website, api_key_hash: str) -> dict[str, Any]:
    """The website, remembering the hash of its current API key (a rotation finds the pointer it retires)."""
    return {
        "PK": keys.website_pk(website.id),
        "SK": keys.WEBSITE_SK,
        "entity": "website",
        "GSI2PK": keys.org_pk(website.organisation_id),
        "GSI2SK": f"WEBSITE#{website.id}",
        **website.model_dump(),
        "api_key_hash": api_key_hash,
    }


def key_item(website: Website, api_key_hash: str) -> dict[str, Any]:
    """The pointer from an API key's hash to its website (the key itself is never stored)."""
    return {
        "PK": keys.api_key_pk(api_key_hash),
        "SK": keys.APIKEY_SK,
        "entity": "api_key",
        "key_hash": api_key_hash,
        "website_id": website.id,
        "organisation_id": website.organisation_id,
        "is_active": website.is_active,
    }


def put_website(website: Website, api_key_hash: str) -> None:
    """Create or replace a website together with the pointer from its API key's hash, atomically."""
    table = get_settings().bookings_table
    client("dynamodb").transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": to_item(website_item(website, api_key_hash))}},
            {"Put": {"TableName": table, "Item": to_item(key_item(website, api_key_hash))}},
        ]
    )
