"""The seed's three Rooms Event Hub monitoring queries, for operators (admin API and CLI call these).

- integration_status(): every organisation's Rooms integration: name, type, status, last_used_at, created_at
- recent_calls(limit=50): the newest calls, with lock id and whether a pincode came back (never the pincode)
- failed_calls(limit=50): the newest calls with status error or timeout, with their (masked) request

Call logs are indexed per type and outcome (aws/keys.py), so each query reads only what it returns.
"""

from __future__ import annotations

import heapq
from typing import Any

from bookinghub.registry.dal import integrations as integration_store
from bookinghub.registry.models import ROOMS_EVENT_HUB, IntegrationCallLog

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def integration_status() -> list[dict[str, Any]]:
    integrations = integration_store.integrations_of_type(ROOMS_EVENT_HUB)
    return [
        {
            "id": i.id,
            "organisation_id": i.organisation_id,
            "name": i.name,
            "integration_type": i.integration_type,
            "status": i.status,
            "last_used_at": i.last_used_at,
            "created_at": i.created_at,
        }
        for i in sorted(integrations, key=lambda i: (i.organisation_id, i.created_at))
    ]


def recent_calls(limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
    limit = _bounded(limit)
    ok = integration_store.call_logs(ROOMS_EVENT_HUB, failed=False, limit=limit)
    failed = integration_store.call_logs(ROOMS_EVENT_HUB, failed=True, limit=limit)
    newest = heapq.merge(ok, failed, key=lambda log: (log.created_at, log.id), reverse=True)
    return [_recent(log) for _, log in zip(range(limit), newest, strict=False)]


def failed_calls(limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
    return [
        {
            "created_at": log.created_at,
            "status": log.status,
            "http_status_code": log.http_status_code,
            "error_message": log.error_message,
            "request_payload": log.request_payload,
            "organisation_id": log.organisation_id,
            "pass_id": log.pass_id,
            "reservation_id": log.reservation_id,
        }
        for log in integration_store.call_logs(ROOMS_EVENT_HUB, failed=True, limit=_bounded(limit))
    ]


def _recent(log: IntegrationCallLog) -> dict[str, Any]:
    request = log.request_payload or {}
    response = log.response_payload or {}
    return {
        "created_at": log.created_at,
        "operation": log.operation,
        "status": log.status,
        "http_status_code": log.http_status_code,
        "duration_ms": log.duration_ms,
        "error_message": log.error_message,
        "lock_id": request.get("lockId"),
        # The seed selects the pincode itself; the hub never keeps it in a log, only whether one came back
        "pincode_returned": bool(response.get("pincode")),
        "organisation_id": log.organisation_id,
        "pass_id": log.pass_id,
        "reservation_id": log.reservation_id,
    }


def _bounded(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    return limit
