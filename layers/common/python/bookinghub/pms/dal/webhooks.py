"""Provider webhook events (Bookings table): stored once per provider event, then queued.

The conditional insert is the idempotency: a redelivery finds its event already stored and is
acknowledged without a second write (a still-unapplied one is queued again, in case the first
acknowledgement crashed between the write and the queue).
"""

from __future__ import annotations

import json
from typing import Any

from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.core.settings import get_settings
from bookinghub.pms import keys


def put_new(
    *, slug: str, provider: str, event_key: str, payload: dict[str, Any], correlation_id: str, received_at: str
) -> tuple[str, dict[str, Any] | None]:
    """(event pk, None) if stored now; (event pk, the stored event) if it already was."""
    pk = keys.webhook_pk(slug, provider, event_key)
    item = {
        "PK": pk,
        "SK": keys.WEBHOOK_SK,
        "entity": "pms_webhook",
        "hotel_slug": slug,
        "provider": provider,
        "event_key": event_key,
        "payload": json.dumps(payload, separators=(",", ":")),
        "correlation_id": correlation_id,
        "status": "queued",
        "received_at": received_at,
    }
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
        return pk, from_item(stored) if stored else {"status": "queued"}
    return pk, None


def get(pk: str) -> dict[str, Any] | None:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": pk, "SK": keys.WEBHOOK_SK}),
        ConsistentRead=True,
    )
    if "Item" not in response:
        return None
    item = from_item(response["Item"])
    item["payload"] = json.loads(item["payload"])
    return item


def mark(pk: str, status: str, *, booking_id: str | None = None, error: str | None = None, at: str) -> None:
    values: dict[str, Any] = {":s": to_attr(status), ":at": to_attr(at)}
    expression = "SET #status = :s, processed_at = :at"
    if booking_id:
        expression += ", booking_id = :b"
        values[":b"] = to_attr(booking_id)
    if error:
        expression += ", last_error = :e"
        values[":e"] = to_attr(error[:500])
    client("dynamodb").update_item(
        TableName=get_settings().bookings_table,
        Key=to_item({"PK": pk, "SK": keys.WEBHOOK_SK}),
        UpdateExpression=expression,
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=values,
    )


def send(queue_url: str, message: dict[str, Any]) -> None:
    client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(message, separators=(",", ":")))
