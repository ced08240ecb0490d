"""The integrations registry in the Bookings table, and the integration call logs in IntegrationLogs."""

from __future__ import annotations

import json
import time
from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import to_attr, to_item
from bookinghub.aws.query import query_items
from bookinghub.core.settings import get_settings
from bookinghub.registry.models import Integration, IntegrationCallLog


def put_integration(integration: Integration) -> None:
    item = {
        "PK": keys.org_pk(integration.organisation_id),
        "SK": keys.integration_sk(integration.integration_type, integration.id),
        "entity": "integration",
        "GSI1PK": keys.integration_type_pk(integration.integration_type),
        "GSI1SK": f"ORG#{integration.organisation_id}#{integration.id}",
        **integration.model_dump(),
    }
    client("dynamodb").put_item(TableName=get_settings().bookings_table, Item=to_item(item))


def organisation_integrations(
    organisation_id: str, integration_type: str, *, consistent: bool = True
) -> list[Integration]:
    return [_integration(item) for item in organisation_items(organisation_id, integration_type, consistent=consistent)]


def integrations_of_type(integration_type: str) -> list[Integration]:
    """Every organisation's integrations of one type (GSI1), for operators."""
    return [_integration(item) for item in items_of_type(integration_type)]


# Registry items (plain values), shared with integration types stored in models of their own (beds24/dal)


def organisation_items(organisation_id: str, integration_type: str, *, consistent: bool = True) -> list[dict[str, Any]]:
    """An organisation's registry items of one type (its own partition: never a scan; consistent unless
    the caller can do with a read a second old)."""
    request = {
        "TableName": get_settings().bookings_table,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
        "ExpressionAttributeValues": {
            ":pk": to_attr(keys.org_pk(organisation_id)),
            ":sk": to_attr(keys.integration_type_pk(integration_type) + "#"),
        },
        "ConsistentRead": consistent,
    }
    return list(query_items(request))


def items_of_type(integration_type: str) -> list[dict[str, Any]]:
    """Every organisation's registry items of one type (GSI1)."""
    request = {
        "TableName": get_settings().bookings_table,
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk",
        "ExpressionAttributeValues": {":pk": to_attr(keys.integration_type_pk(integration_type))},
    }
    return list(query_items(request))


def touch_integration(integration: Integration, now: str) -> None:
    """last_used_at: set on every call, whatever its outcome."""
    client("dynamodb").update_item(
        TableName=get_settings().bookings_table,
        Key=to_item(
            {
                "PK": keys.org_pk(integration.organisation_id),
                "SK": keys.integration_sk(integration.integration_type, integration.id),
            }
        ),
        UpdateExpression="SET last_used_at = :now",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues={":now": to_attr(now)},
    )


def _integration(item: dict[str, Any]) -> Integration:
    return Integration.model_validate(item)


# --- Call logs ---------------------------------------------------------------------------------------

_PAYLOADS = ("request_payload", "response_payload")


def put_call_log(log: IntegrationCallLog, *, index_success: bool = True) -> None:
    """One call's row and at most one index entry: a pass's calls are the item's own partition (an older
    call of a pass sits under INTLOG# with a GSI2 entry instead: call_logs_of_pass reads both).
    `index_success=False`: a successful call is not put in GSI1's by-type listing (a failure always is),
    for callers whose successes nobody lists by type and would pay an index copy on every call (Beds24's
    reads)."""
    sort_key = f"{log.created_at}#{log.id}"
    failed = log.status != "success"
    item: dict[str, Any] = {
        "PK": keys.pass_calls_pk(log.pass_id) if log.pass_id else keys.integration_log_pk(log.integration_id),
        "SK": sort_key,
        "entity": "integration_log",
        **(
            {"GSI1PK": keys.integration_calls_pk(log.integration_type, failed=failed), "GSI1SK": sort_key}
            if failed or index_success
            else {}
        ),
        **log.model_dump(exclude=set(_PAYLOADS)),
        "expires_at": int(time.time()) + get_settings().log_retention_days * 86400,
    }
    for name in _PAYLOADS:  # JSON text: the audit row keeps the payload's exact shape
        value = getattr(log, name)
        item[name] = json.dumps(value, separators=(",", ":")) if value is not None else None
    client("dynamodb").put_item(TableName=get_settings().integration_logs_table, Item=to_item(item))


def call_logs_of_pass(pass_id: str) -> list[IntegrationCallLog]:
    """A pass's calls (Rooms pincode requests), oldest first: its own partition, and GSI2 for the calls
    logged before the partition existed (until log retention expires them)."""
    table = get_settings().integration_logs_table
    own = {
        "TableName": table,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": to_attr(keys.pass_calls_pk(pass_id))},
    }
    older = {
        "TableName": table,
        "IndexName": "GSI2",
        "KeyConditionExpression": "GSI2PK = :pk",
        "ExpressionAttributeValues": {":pk": to_attr(keys.pass_pk(pass_id))},
    }
    items = sorted([*query_items(older), *query_items(own)], key=lambda item: str(item["SK"]))
    return [_call_log(item) for item in items]


def _call_log(item: dict[str, Any]) -> IntegrationCallLog:
    for name in _PAYLOADS:
        item[name] = json.loads(item[name]) if isinstance(item.get(name), str) else None
    return IntegrationCallLog.model_validate(item)


def call_logs(integration_type: str, *, failed: bool, limit: int) -> list[IntegrationCallLog]:
    """The newest calls of one type, successes or failures, newest first."""
    request = {
        "TableName": get_settings().integration_logs_table,
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :pk",
        "ExpressionAttributeValues": {":pk": to_attr(keys.integration_calls_pk(integration_type, failed=failed))},
        "ScanIndexForward": False,
        "Limit": min(limit, 100),
    }
    logs = []
    for item in query_items(request, limit=limit):
        for name in _PAYLOADS:
            item[name] = json.loads(item[name]) if isinstance(item.get(name), str) else None
        logs.append(IntegrationCallLog.model_validate(item))
    return logs
