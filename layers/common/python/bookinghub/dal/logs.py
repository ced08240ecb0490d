"""Items of the IntegrationLogs table (retention by TTL)."""

from __future__ import annotations

import json
import time
from typing import Any

from bookinghub.dal import keys
from bookinghub.models.events import SyncLog
from bookinghub.settings import get_settings


def sync_log_item(log: SyncLog) -> dict[str, Any]:
    retention = get_settings().log_retention_days * 86400
    item: dict[str, Any] = {
        "PK": keys.sync_log_pk(log.website_id),
        "SK": f"{log.created_at}#{log.id}",
        "entity": "sync_log",
        **log.model_dump(exclude={"payload"}),
        # JSON text: keeps the audit row exactly as sent, whatever its shape
        "payload": json.dumps(log.payload, separators=(",", ":")) if log.payload is not None else None,
        "expires_at": int(time.time()) + retention,
    }
    if log.booking_id:
        item["GSI1PK"] = keys.booking_pk(log.booking_id)
        item["GSI1SK"] = log.created_at
    return item


def event_item(event: dict[str, Any]) -> dict[str, Any]:
    """The outbox item of a domain event, stored beside its booking."""
    return {
        "PK": keys.booking_pk(event["booking_id"]),
        "SK": keys.event_sk(event["occurred_at"], event["event_id"]),
        "entity": "event",
        **{k: v for k, v in event.items() if k != "data"},
        "data": json.dumps(event["data"], separators=(",", ":"), default=str),
    }
