"""Each hotel's sync status (Bookings table, PK=PMSHOTEL#{slug} SK=STATUS), written from the PMS bus.

One map attribute per kind of news (the latest sync of each entity type, the latest synced booking),
each replaced only by news at least as recent: the bus delivers out of order and more than once.
"""

from __future__ import annotations

from typing import Any

from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.core.settings import get_settings
from bookinghub.pms import keys


def record(slug: str, attribute: str, value: dict[str, Any]) -> bool:
    """Set `attribute` to `value` (which carries `at`, ISO 8601) unless it holds newer news; True if set."""
    ddb = client("dynamodb")
    try:
        ddb.update_item(
            TableName=get_settings().bookings_table,
            Key=to_item({"PK": keys.hotel_pk(slug), "SK": keys.STATUS_SK}),
            UpdateExpression="SET #a = :v, entity = :e",
            ConditionExpression="attribute_not_exists(#a) OR #a.#at <= :at",
            ExpressionAttributeNames={"#a": attribute, "#at": "at"},
            ExpressionAttributeValues={
                ":v": to_attr(value),
                ":at": to_attr(value["at"]),
                ":e": to_attr("pms_status"),
            },
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def get(slug: str) -> dict[str, Any]:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": keys.hotel_pk(slug), "SK": keys.STATUS_SK}),
    )
    item = from_item(response["Item"]) if "Item" in response else {}
    return {k: v for k, v in item.items() if k not in ("PK", "SK", "entity")}
