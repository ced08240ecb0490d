"""Where normalised PMS records land in the hub (Bookings table).

A booking becomes a hub booking item, the same item `GET /api/bookings` lists (website id `pms:{slug}`,
organisation GSI2, email GSI3), written together with its domain event (the outbox) in one transaction:
either both are stored or neither, so a failed sync leaves no half-applied booking behind. The write
is conditional on the version it read, so two writers of the same booking never interleave.
"""

from __future__ import annotations

from typing import Any

from bookinghub.aws import keys as hub_keys
from bookinghub.aws.batch import batch_write
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.core.settings import get_settings
from bookinghub.pms import keys


class VersionMoved(Exception):
    """Another writer changed the booking since it was read: read again and retry."""


def get_booking(booking_id: str) -> dict[str, Any] | None:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": hub_keys.booking_pk(booking_id), "SK": hub_keys.BOOKING_SK}),
        ConsistentRead=True,
    )
    return from_item(response["Item"]) if "Item" in response else None


def write_booking(
    booking_id: str,
    fields: dict[str, Any],
    *,
    read_version: int | None,
    now: str,
    event_item: dict[str, Any],
    extra_items: tuple[dict[str, Any], ...] = (),
) -> None:
    """Set `fields` (identity, columns and index keys) and store the event, if the booking is still at
    `read_version` (None: it must not exist yet). Other attributes (an operator's notes) are kept."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets = []
    for position, (name, value) in enumerate(sorted(fields.items())):
        names[f"#a{position}"] = name
        values[f":a{position}"] = to_attr(value)
        sets.append(f"#a{position} = :a{position}")
    names.update({"#version": "version", "#created": "created_at", "#updated": "updated_at"})
    values.update({":one": to_attr(1), ":zero": to_attr(0), ":now": to_attr(now)})
    sets += ["#version = if_not_exists(#version, :zero) + :one", "#created = if_not_exists(#created, :now)"]
    sets.append("#updated = :now")
    if read_version is None:
        condition = "attribute_not_exists(PK)"
    else:
        condition = "#version = :read"
        values[":read"] = to_attr(read_version)
    table = get_settings().bookings_table
    items = [
        {
            "Update": {
                "TableName": table,
                "Key": to_item({"PK": hub_keys.booking_pk(booking_id), "SK": hub_keys.BOOKING_SK}),
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        },
        {"Put": {"TableName": table, "Item": to_item(event_item), "ConditionExpression": "attribute_not_exists(PK)"}},
        *extra_items,  # conflict records and their events (bookinghub.conflicts)
    ]
    ddb = client("dynamodb")
    try:
        ddb.transact_write_items(TransactItems=items)
    except ddb.exceptions.TransactionCanceledException as error:
        codes = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
            raise VersionMoved() from None
        raise


def put_rooms(slug: str, provider: str, rooms: list[dict[str, Any]]) -> int:
    items = [
        {"PK": keys.hotel_pk(slug), "SK": keys.room_sk(provider, room["external_id"]), "entity": "pms_room", **room}
        for room in rooms
    ]
    return batch_write(get_settings().bookings_table, items) if items else 0


def hotel_items(slug: str, prefix: str) -> list[dict[str, Any]]:
    paginator = client("dynamodb").get_paginator("query")
    pages = paginator.paginate(
        TableName=get_settings().bookings_table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
        ExpressionAttributeValues={":pk": to_attr(keys.hotel_pk(slug)), ":sk": to_attr(prefix)},
        ConsistentRead=True,
    )
    return [
        {k: v for k, v in from_item(raw).items() if k not in ("PK", "SK", "entity")}
        for page in pages
        for raw in page["Items"]
    ]


def put_guest_profiles(slug: str, provider: str, profiles: list[dict[str, Any]]) -> int:
    items = [
        {"PK": keys.hotel_pk(slug), "SK": keys.guest_sk(provider, p["external_id"]), "entity": "pms_guest", **p}
        for p in profiles
    ]
    return batch_write(get_settings().bookings_table, items) if items else 0
