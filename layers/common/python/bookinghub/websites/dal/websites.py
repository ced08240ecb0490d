"""Websites and their API keys in the Bookings table."""

from __future__ import annotations

from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_item
from bookinghub.core.recent import Recent
from bookinghub.core.settings import get_settings
from bookinghub.websites.models import ApiKeyRecord, Website

# Key pointers as read by `recent_api_key`, by hash (the last 1,024 found)
_RECENT_KEYS: Recent[str, ApiKeyRecord | None] = Recent(max_entries=1024)


def get_api_key(key_hash: str) -> ApiKeyRecord | None:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": keys.api_key_pk(key_hash), "SK": keys.APIKEY_SK}),
    )
    if "Item" not in response:
        return None
    return ApiKeyRecord.model_validate(from_item(response["Item"]))


def recent_api_key(key_hash: str, *, max_age_seconds: float) -> ApiKeyRecord | None:
    """`get_api_key`, read at most once per `max_age_seconds` in this execution environment. Only found
    keys are kept: a key registered a moment ago works at once, wherever it is checked."""
    return _RECENT_KEYS.get(
        key_hash, lambda: get_api_key(key_hash), max_age_seconds=max_age_seconds, keep=lambda r: r is not None
    )


def forget_recent_api_keys() -> None:
    """After a write of key pointers (a website registered, (de)activated, its key rotated): this
    environment sees it at once."""
    _RECENT_KEYS.forget()


def website_key(website_id: str) -> dict[str, str]:
    """The website item's key (plain values): for a caller's batch read that includes it."""
    return {"PK": keys.website_pk(website_id), "SK": keys.WEBSITE_SK}


def website_from_item(item: dict[str, Any]) -> Website:
    """The website in a read item (plain values, as the codec's from_item gives it)."""
    return Website.model_validate(item)


def get_website(website_id: str) -> Website | None:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table, Key=to_item(website_key(website_id)), ConsistentRead=True
    )
    if "Item" not in response:
        return None
    return website_from_item(from_item(response["Item"]))


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
    try:
        client("dynamodb").transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": to_item(website_item(website, api_key_hash))}},
                {"Put": {"TableName": table, "Item": to_item(key_item(website, api_key_hash))}},
            ]
        )
    finally:
        forget_recent_api_keys()
