"""Sync logs (IntegrationLogs table): one item per run, rewritten as it progresses."""

from __future__ import annotations

import time
from typing import Any

from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.core.settings import get_settings
from bookinghub.pms import keys
from bookinghub.pms.models.sync import SyncLog

_STORAGE = ("PK", "SK", "entity", "GSI1PK", "GSI1SK", "expires_at")


def put(log: SyncLog) -> None:
    item = {
        "PK": keys.sync_pk(log.hotel_slug),
        "SK": f"{log.started_at}#{log.id}",
        "entity": "pms_sync_log",
        "GSI1PK": keys.sync_log_gsi(log.id),
        "GSI1SK": log.started_at,
        **log.model_dump(exclude_none=True),
        "expires_at": int(time.time()) + get_settings().log_retention_days * 86400,
    }
    client("dynamodb").put_item(TableName=get_settings().integration_logs_table, Item=to_item(item))


def claim_fire(slug: str, scheduled_time: str, log_id: str) -> bool:
    """True the first time a schedule's fire is seen (a strongly consistent claim, unlike the log's GSI)."""
    ddb = client("dynamodb")
    item = {
        "PK": keys.fire_pk(slug, scheduled_time),
        "SK": keys.FIRE_SK,
        "entity": "pms_schedule_fire",
        "sync_log_id": log_id,
        "expires_at": int(time.time()) + 7 * 86400,
    }
    try:
        ddb.put_item(
            TableName=get_settings().integration_logs_table,
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(PK)",
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def get(log_id: str) -> SyncLog | None:
    response = client("dynamodb").query(
        TableName=get_settings().integration_logs_table,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": to_attr(keys.sync_log_gsi(log_id))},
        Limit=1,
    )
    items = response["Items"]
    return _log(from_item(items[0])) if items else None


def of_hotel(slug: str, limit: int) -> list[SyncLog]:
    response = client("dynamodb").query(
        TableName=get_settings().integration_logs_table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": to_attr(keys.sync_pk(slug))},
        ScanIndexForward=False,
        Limit=limit,
    )
    return [_log(from_item(raw)) for raw in response["Items"]]


def _log(item: dict[str, Any]) -> SyncLog:
    return SyncLog.model_validate({k: v for k, v in item.items() if k not in _STORAGE})
