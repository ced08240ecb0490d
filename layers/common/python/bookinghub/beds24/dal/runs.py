"""Beds24 sync runs, their reconciliation reports, and the webhook events (the seed's webhook_events).

A run is one item, rewritten after each page (its counters live in memory between pages, so a page costs
one write however many bookings it holds). A reconciliation keeps the Beds24 ids it has seen one item per
page and its report in parts, so neither is bound by DynamoDB's 400 KB item limit.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.batch import batch_write
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.aws.query import query_items
from bookinghub.beds24.models.entities import SyncRun
from bookinghub.core.settings import get_settings

# A recorded event never queued (its queue call failed) may be taken over by a redelivery after this long;
# sooner, the first delivery may still be queueing it, and the redelivery is a duplicate.
TAKEOVER_AFTER_SECONDS = 30
REPORT_PART_SIZE = 200  # discrepancy entries per report item (well below 400 KB)
SCRATCH_TTL_SECONDS = 7 * 86400  # the ids a reconciliation has seen are only needed while it runs


class EventExists(Exception):
    def __init__(self, stored: dict[str, Any]) -> None:
        super().__init__("webhook event already recorded")
        self.stored = stored


def _table() -> str:
    return get_settings().bookings_table


def _retention() -> int:
    return int(time.time()) + get_settings().log_retention_days * 86400


# --- Runs ------------------------------------------------------------------------------------------------


def put_run(run: SyncRun) -> None:
    item = {
        "PK": keys.run_pk(run.run_id),
        "SK": keys.RUN_SK,
        "entity": "sync_run",
        "GSI1PK": keys.runs_pk(run.organisation_id, run.property_id),
        "GSI1SK": f"{run.started_at}#{run.run_id}",
        **run.model_dump(),
        "expires_at": _retention(),
    }
    client("dynamodb").put_item(TableName=_table(), Item=to_item(item))


def get_run(run_id: str) -> SyncRun | None:
    response = client("dynamodb").get_item(
        TableName=_table(), Key=to_item({"PK": keys.run_pk(run_id), "SK": keys.RUN_SK}), ConsistentRead=True
    )
    return SyncRun.model_validate(from_item(response["Item"])) if "Item" in response else None


def property_runs(organisation_id: str, property_id: str, limit: int) -> list[SyncRun]:
    response = client("dynamodb").query(
        TableName=_table(),
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": to_attr(keys.runs_pk(organisation_id, property_id))},
        ScanIndexForward=False,
        Limit=limit,
    )
    return [SyncRun.model_validate(from_item(item)) for item in response["Items"]]


def put_seen(run_id: str, page: int, beds24_ids: list[int]) -> None:
    item = {"PK": keys.run_pk(run_id), "SK": f"SEEN#{page:06d}", "ids": beds24_ids}
    client("dynamodb").put_item(
        TableName=_table(), Item=to_item({**item, "expires_at": int(time.time()) + SCRATCH_TTL_SECONDS})
    )


def seen_ids(run_id: str) -> set[int]:
    return {int(i) for item in _run_items(run_id, "SEEN#") for i in item.get("ids", [])}


def put_report_page(run_id: str, page: int, entries: list[dict[str, Any]]) -> None:
    """Store one page's reconciliation entries, in parts (a page never holds more than Beds24's 100)."""
    parts = [entries[i : i + REPORT_PART_SIZE] for i in range(0, len(entries), REPORT_PART_SIZE)]
    items = [
        {
            "PK": keys.run_pk(run_id),
            "SK": f"REPORT#{page:06d}#{n:03d}",
            "entries": json.dumps(part, separators=(",", ":"), default=str),
            "expires_at": _retention(),
        }
        for n, part in enumerate(parts)
    ]
    batch_write(_table(), items)


def report_entries(run_id: str, limit: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for item in _run_items(run_id, "REPORT#"):
        entries.extend(json.loads(item["entries"]))
        if len(entries) >= limit:
            break
    return entries[:limit]


def _run_items(run_id: str, prefix: str) -> list[dict[str, Any]]:
    request = {
        "TableName": _table(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": to_attr(keys.run_pk(run_id)), ":prefix": to_attr(prefix)},
        "ConsistentRead": True,
    }
    return list(query_items(request))


# --- Webhook events -------------------------------------------------------------------------------------


def record_event(event: dict[str, Any]) -> None:
    """Store a received webhook once (idempotency on its key); EventExists carries the stored one.

    An event whose earlier delivery was recorded but never queued (the queue call failed) may be taken
    again after TAKEOVER_AFTER_SECONDS, so Beds24's retry of it is not lost.
    """
    item = {
        "PK": keys.webhook_pk(event["event_key"]),
        "SK": keys.WEBHOOK_SK,
        "entity": "beds24_webhook",
        "GSI1PK": keys.webhooks_pk(event["organisation_id"], event["property_id"]),
        "GSI1SK": f"{event['received_at']}#{event['event_key']}",
        **event,
        "received_epoch": int(time.time()),
        "expires_at": _retention(),
    }
    try:
        client("dynamodb").put_item(
            TableName=_table(),
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(PK) OR (#status = :received AND received_epoch < :stale)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":received": to_attr("received"),
                ":stale": to_attr(int(time.time()) - TAKEOVER_AFTER_SECONDS),
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except client("dynamodb").exceptions.ConditionalCheckFailedException as error:
        raise EventExists(keys.without_layout(from_item(error.response.get("Item") or {}))) from None


def mark_queued(event_key: str) -> None:
    """received -> queued, unless the consumer already finished it (it may be faster than this call)."""
    try:
        client("dynamodb").update_item(
            TableName=_table(),
            Key=to_item({"PK": keys.webhook_pk(event_key), "SK": keys.WEBHOOK_SK}),
            UpdateExpression="SET #status = :queued",
            ConditionExpression="#status = :received",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":queued": to_attr("queued"), ":received": to_attr("received")},
        )
    except client("dynamodb").exceptions.ConditionalCheckFailedException:
        pass


def count_deferral(event_key: str) -> None:
    client("dynamodb").update_item(
        TableName=_table(),
        Key=to_item({"PK": keys.webhook_pk(event_key), "SK": keys.WEBHOOK_SK}),
        UpdateExpression="ADD deferrals :one",
        ExpressionAttributeValues={":one": to_attr(1)},
    )


def get_event(event_key: str) -> dict[str, Any] | None:
    response = client("dynamodb").get_item(
        TableName=_table(), Key=to_item({"PK": keys.webhook_pk(event_key), "SK": keys.WEBHOOK_SK}), ConsistentRead=True
    )
    return keys.without_layout(from_item(response["Item"])) if "Item" in response else None


def set_event_status(event_key: str, status: str, **fields: Any) -> None:
    names = {"#status": "status", **{f"#f{i}": name for i, name in enumerate(fields)}}
    values = {":status": to_attr(status), **{f":f{i}": to_attr(v) for i, v in enumerate(fields.values())}}
    sets = ["#status = :status", *(f"#f{i} = :f{i}" for i in range(len(fields)))]
    client("dynamodb").update_item(
        TableName=_table(),
        Key=to_item({"PK": keys.webhook_pk(event_key), "SK": keys.WEBHOOK_SK}),
        UpdateExpression="SET " + ", ".join(sets),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def property_events(organisation_id: str, property_id: str, limit: int) -> list[dict[str, Any]]:
    response = client("dynamodb").query(
        TableName=_table(),
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": to_attr(keys.webhooks_pk(organisation_id, property_id))},
        ScanIndexForward=False,
        Limit=limit,
    )
    return [keys.without_layout(from_item(item)) for item in response["Items"]]
