"""The PMS module's events and metrics.

`pms.booking.synced` and `pms.sync.completed` go to the PMS EventBridge bus (PMS_EVENT_BUS_NAME): on AWS
the stack's bus, under `make run` the same bus and rules in the embedded AWS; both deliver to the rules'
queues and so to the same consumers (infra/topology/pms.py). The booking's own hub domain event
(booking.created/updated/status_changed, for the outbound delivery) is written with the booking itself,
in its transaction (dal/store.py), never here.
"""

from __future__ import annotations

import json
from typing import Any

from bookinghub.aws.clients import client
from bookinghub.core.observability import emit_metric, logger, metrics
from bookinghub.core.settings import get_settings
from bookinghub.pms.models.sync import SyncLog

SOURCE = "bookinghub.pms"


def publish(detail_type: str, detail: dict[str, Any]) -> None:
    """Best effort: the change is already stored; a lost notification must not undo or fail it."""
    bus = get_settings().pms_event_bus_name
    if not bus:  # no bus configured (unit tests, a bare process): the event as a structured log line
        logger.info("pms event", extra={"detail_type": detail_type, "detail": detail})
        return
    try:
        answer = client("events").put_events(
            Entries=[{"EventBusName": bus, "Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail)}]
        )
        if answer.get("FailedEntryCount"):
            logger.warning("pms event not published", extra={"detail_type": detail_type})
    except Exception as error:
        logger.warning("pms event not published", extra={"detail_type": detail_type, "error": type(error).__name__})


def booking_synced(*, booking_id: str, slug: str, provider: str, external_id: str, outcome: str) -> None:
    detail = {
        "bookingId": booking_id,
        "hotelSlug": slug,
        "provider": provider,
        "externalId": external_id,
        "outcome": outcome,
    }
    publish("pms.booking.synced", detail)


def sync_completed(log: SyncLog) -> None:
    emit_metric("PMSSyncDuration", log.duration_ms, "Milliseconds", provider=log.provider, integration_type="pms_sync")
    emit_metric("PMSSyncItems", log.items_processed, provider=log.provider, integration_type="pms_sync")
    emit_metric(
        "PMSSyncFailures",
        log.items_failed + (log.status == "FAILED"),
        provider=log.provider,
        integration_type="pms_sync",
    )
    publish(
        "pms.sync.completed",
        {
            "syncLogId": log.id,
            "hotelSlug": log.hotel_slug,
            "provider": log.provider,
            "entityType": log.entity_type,
            "operation": log.operation,
            "status": log.status,
            "processed": log.items_processed,
            "failed": log.items_failed,
            "duration": log.duration_ms,
        },
    )


def mapping_error(provider: str, reason: str) -> None:
    emit_metric("PMSMappingErrors", provider=provider, integration_type="pms_sync")
    logger.info("pms record not mapped", extra={"provider": provider, "reason": reason})


def sync_lag(seconds: float) -> None:
    """How far behind the provider the applied change was (its modification time to now)."""
    metrics.add_metric(name="PMSSyncLag", unit="Seconds", value=max(0.0, seconds))
