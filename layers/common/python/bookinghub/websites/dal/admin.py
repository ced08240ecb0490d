"""Operator writes to the websites registry: conditional create, partial update, API key rotation.

The website item remembers the hash of its current API key (`api_key_hash`), so a rotation can find
the key item it retires; the key itself is never stored.
"""

from __future__ import annotations

from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.aws.query import query_items
from bookinghub.core.settings import get_settings
from bookinghub.websites.dal.websites import forget_recent_api_keys, key_item, website_item
from bookinghub.websites.models import Website


class WebsiteExists(Exception):
    pass


class WebsiteChanged(Exception):
    """The website is gone, or its key was rotated by someone else in the meantime."""


def create_website(website: Website, api_key_hash: str) -> None:
    """The website and its key pointer, atomically; WebsiteExists if the id is taken."""
    table = get_settings().bookings_table
    ddb = client("dynamodb")
    try:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": to_item(website_item(website, api_key_hash)),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": to_item(key_item(website, api_key_hash)),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    except ddb.exceptions.TransactionCanceledException as error:
        raise WebsiteExists() from error
    finally:
        forget_recent_api_keys()


# DynamoDB refuses (ValidationException) a partition key over 2048 bytes: no website can have such an id
_MAX_KEY_BYTES = 2048


def get_website_record(website_id: str) -> dict[str, Any] | None:
    """The website as stored (with its key's hash and encrypted secret: callers choose what to show)."""
    key = keys.website_pk(website_id)
    if not website_id or len(key.encode("utf-8", errors="surrogatepass")) > _MAX_KEY_BYTES:
        return None  # an id from a URL that cannot exist: absent, not a failed request
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": key, "SK": keys.WEBSITE_SK}),
        ConsistentRead=True,
    )
    return keys.without_layout(from_item(response["Item"])) if "Item" in response else None


def organisation_websites(organisation_id: str) -> list[dict[str, Any]]:
    """The organisation's websites (GSI2: ORG#{org}, WEBSITE#{id}), ordered by id."""
    request = {
        "TableName": get_settings().bookings_table,
        "IndexName": "GSI2",
        "KeyConditionExpression": "GSI2PK = :pk AND begins_with(GSI2SK, :prefix)",
        "ExpressionAttributeValues": {":pk": to_attr(keys.org_pk(organisation_id)), ":prefix": to_attr("WEBSITE#")},
    }
    return [keys.without_layout(item) for item in query_items(request)]


def update_website(website_id: str, changes: dict[str, Any], now: str) -> dict[str, Any]:
    """Set (or, for None, remove) the given attributes; returns the website as stored after the update.

    A change of `is_active` is copied onto the current API key's pointer in the same transaction: the
    inbound sync checks the website's state on that pointer alone (one read, no check in its write).
    """
    names = {"#updated_at": "updated_at"}
    values: dict[str, Any] = {":now": to_attr(now)}
    sets = ["#updated_at = :now"]
    removes = []
    for position, (attribute, value) in enumerate(sorted(changes.items())):
        names[f"#a{position}"] = attribute
        if value is None:
            removes.append(f"#a{position}")
        else:
            values[f":a{position}"] = to_attr(value)
            sets.append(f"#a{position} = :a{position}")
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    key = to_item({"PK": keys.website_pk(website_id), "SK": keys.WEBSITE_SK})
    table = get_settings().bookings_table
    ddb = client("dynamodb")
    if "is_active" in changes:
        _update_with_key_pointer(website_id, key, expression, names, values, bool(changes["is_active"]))
        stored = get_website_record(website_id)
        if stored is None:
            raise WebsiteChanged()
        return stored
    try:
        response = ddb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ddb.exceptions.ConditionalCheckFailedException as error:
        raise WebsiteChanged() from error
    return keys.without_layout(from_item(response["Attributes"]))


def _update_with_key_pointer(
    website_id: str, key: dict[str, Any], expression: str, names: dict[str, str], values: dict[str, Any], active: bool
) -> None:
    stored = get_website_record(website_id)
    if stored is None:
        raise WebsiteChanged()
    table = get_settings().bookings_table
    items: list[dict[str, Any]] = []
    condition = "attribute_exists(PK)"
    key_hash = stored.get("api_key_hash")
    if key_hash:
        # Guarded: a rotation in between would leave the new key's pointer with the old state
        condition += " AND api_key_hash = :key_hash"
        values = {**values, ":key_hash": to_attr(key_hash)}
        items.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": to_item({"PK": keys.api_key_pk(str(key_hash)), "SK": keys.APIKEY_SK}),
                    "UpdateExpression": "SET is_active = :active",
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeValues": {":active": to_attr(active)},
                }
            }
        )
    update = {
        "TableName": table,
        "Key": key,
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    ddb = client("dynamodb")
    try:
        ddb.transact_write_items(TransactItems=[{"Update": update}, *items])
    except ddb.exceptions.TransactionCanceledException as error:
        raise WebsiteChanged() from error
    finally:
        forget_recent_api_keys()  # the pointer's state changed


def rotate_key(website: Website, *, old_hash: str, new_hash: str, grace_until: int, now: str) -> None:
    """New key live now; the old one keeps working until `grace_until` (epoch s; the table's TTL then
    deletes it). Fails with WebsiteChanged if the website's current key is no longer `old_hash`."""
    table = get_settings().bookings_table
    ddb = client("dynamodb")
    try:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": to_item({"PK": keys.website_pk(website.id), "SK": keys.WEBSITE_SK}),
                        "UpdateExpression": "SET api_key_hash = :new, api_key_prefix = :prefix, updated_at = :now",
                        "ConditionExpression": "api_key_hash = :old",
                        "ExpressionAttributeValues": {
                            ":new": to_attr(new_hash),
                            ":old": to_attr(old_hash),
                            ":prefix": to_attr(website.api_key_prefix),
                            ":now": to_attr(now),
                        },
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": to_item({"PK": keys.api_key_pk(old_hash), "SK": keys.APIKEY_SK}),
                        # An old key already in its grace period keeps the earlier end
                        "UpdateExpression": "SET expires_at = if_not_exists(expires_at, :until)",
                        "ConditionExpression": "attribute_exists(PK)",
                        "ExpressionAttributeValues": {":until": to_attr(grace_until)},
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": to_item(key_item(website, new_hash)),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    except ddb.exceptions.TransactionCanceledException as error:
        raise WebsiteChanged() from error
    finally:
        forget_recent_api_keys()  # the old key's pointer now has its end
