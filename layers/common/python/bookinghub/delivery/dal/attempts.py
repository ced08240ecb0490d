"""The attempts log (IntegrationLogs table): one item per attempt, expiring after the retention period."""

from __future__ import annotations

import time
from typing import Any

from bookinghub.aws.batch import batch_write
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_item
from bookinghub.aws.query import query_items
from bookinghub.bookings.dal.logs import sync_log_item
from bookinghub.bookings.models.events import SyncLog
from bookinghub.core.settings import get_settings
from bookinghub.delivery.dal import keys
from bookinghub.delivery.models import Attempt
from bookinghub.delivery.settings import get_delivery_settings

_FIELDS = set(Attempt.model_fields)


def put_attempt(attempt: Attempt) -> None:
    retention = get_delivery_settings().attempt_retention_days * 86400
    item = attempt_item(attempt, int(time.time()) + retention)
    client("dynamodb").put_item(TableName=get_settings().integration_logs_table, Item=to_item(item))


def put_log_rows(attempts: list[Attempt], sync_logs: list[SyncLog]) -> None:
    """A batch's attempt rows and their seed-002 sync log rows, in BatchWriteItem calls of 25 (one table)."""
    expires_at = int(time.time()) + get_delivery_settings().attempt_retention_days * 86400
    rows = [attempt_item(a, expires_at) for a in attempts] + [sync_log_item(s) for s in sync_logs]
    if rows:
        batch_write(get_settings().integration_logs_table, rows)


def attempt_item(attempt: Attempt, expires_at: int) -> dict[str, Any]:
    """An attempt's log row (plain values), expiring at `expires_at` (epoch seconds)."""
    sort_key = f"{attempt.at}#{attempt.delivery_id}#{attempt.attempt:04d}"
    return {
        "PK": keys.attempts_pk(attempt.endpoint_id),
        "SK": sort_key,
        "GSI1PK": keys.attempts_class_pk(attempt.endpoint_id, attempt.status_class),
        "GSI1SK": sort_key,
        "GSI2PK": keys.delivery_attempts_pk(attempt.delivery_id),
        "GSI2SK": f"{attempt.at}#{attempt.attempt:04d}",
        "entity": "delivery_attempt",
        "expires_at": expires_at,
        **attempt.model_dump(),
    }


def list_attempts(
    endpoint_id: str,
    *,
    since: str,
    until: str,
    status_class: str | None = None,
    limit: int = 100,
    newest_first: bool = True,
) -> list[Attempt]:
    """An endpoint's attempts between two times, optionally of one status class (its own index partition)."""
    if status_class:
        index: dict[str, Any] = {"IndexName": "GSI1"}
        condition = "GSI1PK = :pk AND GSI1SK BETWEEN :since AND :until"
        pk = keys.attempts_class_pk(endpoint_id, status_class)
    else:
        index, condition, pk = {}, "PK = :pk AND SK BETWEEN :since AND :until", keys.attempts_pk(endpoint_id)
    found: list[Attempt] = []
    start: dict[str, Any] | None = None
    while len(found) < limit:
        response = client("dynamodb").query(
            TableName=get_settings().integration_logs_table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues={":pk": {"S": pk}, ":since": {"S": since}, ":until": {"S": until + "\uffff"}},
            ScanIndexForward=not newest_first,
            Limit=limit - len(found),
            **index,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        found += [
            Attempt.model_validate({k: v for k, v in from_item(i).items() if k in _FIELDS}) for i in response["Items"]
        ]
        start = response.get("LastEvaluatedKey")
        if not start:
            break
    return found


def attempts_of_delivery(delivery_id: str) -> list[Attempt]:
    """One delivery's attempts, oldest first (GSI2: only attempt items carry its keys)."""
    request = {
        "TableName": get_settings().integration_logs_table,
        "IndexName": "GSI2",
        "KeyConditionExpression": "GSI2PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": keys.delivery_attempts_pk(delivery_id)}},
    }
    return [Attempt.model_validate({k: v for k, v in i.items() if k in _FIELDS}) for i in query_items(request)]
