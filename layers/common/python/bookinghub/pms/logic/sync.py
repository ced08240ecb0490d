"""Syncs: fetch from the provider, normalise, apply, with a sync log that records each run.

A run first fetches everything it will apply (bounded by `limit`), so a provider that fails part way
(after its retries) fails the run before anything is written: the log says FAILED and the hub is as it
was. Records that do not map are counted as failed items, never fatal. Bookings are applied in chunks,
the log rewritten after each so a long run shows its progress; each booking is written atomically with
its event, so even a run that dies while applying leaves only whole bookings.
A manual sync of up to HUB_PMS_INLINE_SYNC_LIMIT items answers inline; a bigger one, and every scheduled
one, runs on the PMSSync queue (its DLQ keeps what keeps failing).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bookinghub.core.auth import Forbidden, Principal
from bookinghub.core.clock import iso_now
from bookinghub.core.errors import InvalidPayload
from bookinghub.core.observability import logger
from bookinghub.core.settings import get_settings
from bookinghub.pms.dal import configs, logs, webhooks
from bookinghub.pms.errors import MappingError, PMSDisabled, ProviderError, SyncLogNotFound
from bookinghub.pms.logic import apply, events, hotels, schedule
from bookinghub.pms.models import FetchOptions
from bookinghub.pms.models.config import PMSConfiguration
from bookinghub.pms.models.sync import ENTITY_OF_PATH, EntityType, Operation, SyncLog, SyncRequest
from bookinghub.pms.providers.base import PMSProvider
from bookinghub.pms.providers.registry import get_provider, require_known
from bookinghub.pms.settings import get_pms_settings


def new_log(
    config: PMSConfiguration,
    entity: EntityType,
    operation: Operation,
    options: FetchOptions,
    correlation_id: str | None = None,
) -> SyncLog:
    return SyncLog(
        id=str(uuid.uuid4()),
        hotel_slug=config.slug,
        organisation_id=config.organisation_id,
        provider=config.provider,
        entity_type=entity,
        operation=operation,
        status="RUNNING",
        started_at=iso_now(),
        correlation_id=correlation_id,
        since=options.since.isoformat() if options.since else None,
        limit=options.limit,
    )


def _fetch(provider: PMSProvider, entity: EntityType) -> tuple[Callable[[FetchOptions], Any], Callable[[Any], Any]]:
    if entity == "BOOKING":
        return provider.fetch_bookings, provider.normalize_booking
    if entity == "ROOM":
        return provider.fetch_rooms, provider.normalize_room
    return provider.fetch_guests, provider.normalize_guest


def run_sync(config: PMSConfiguration, log: SyncLog, options: FetchOptions) -> SyncLog:
    started = time.monotonic()
    logs.put(log)
    processed = failed = 0

    def finish(status: str, error: str | None = None) -> SyncLog:
        final = log.model_copy(
            update={
                "status": status,
                "items_processed": processed,
                "items_failed": failed,
                "duration_ms": int((time.monotonic() - started) * 1000),
                "finished_at": iso_now(),
                "error": error,
            }
        )
        logs.put(final)
        events.sync_completed(final)
        logger.info(
            "pms sync finished",
            extra={
                "sync_log_id": log.id,
                "status": status,
                "hotel_slug": config.slug,
                "processed": processed,
                "failed": failed,
            },
        )
        return final

    try:
        provider = get_provider(hotels.hotel_context(config))
        fetch, normalise = _fetch(provider, log.entity_type)
        raws = list(fetch(options))
    except ProviderError as error:
        return finish("FAILED", f"provider: {error}"[:500])
    records = []
    for raw in raws:
        try:
            records.append(normalise(raw))
        except MappingError as error:
            failed += 1
            events.mapping_error(config.provider, str(error))
    every = get_pms_settings().progress_every
    try:
        for start in range(0, len(records), every):
            chunk = records[start : start + every]
            processed += _apply(config, log.entity_type, chunk)
            if start + every < len(records):
                logs.put(
                    log.model_copy(
                        update={
                            "items_processed": processed,
                            "items_failed": failed,
                            "duration_ms": int((time.monotonic() - started) * 1000),
                        }
                    )
                )
    except Exception as error:
        logger.warning("pms sync failed while applying", extra={"sync_log_id": log.id, "error": type(error).__name__})
        return finish("FAILED", f"apply: {type(error).__name__}")
    return finish("COMPLETED")


def _apply(config: PMSConfiguration, entity: EntityType, chunk: Sequence[Any]) -> int:
    if entity == "BOOKING":
        return len(apply.apply_bookings(config, chunk))
    if entity == "ROOM":
        return apply.apply_rooms(config, chunk)
    return apply.apply_guests(config, chunk)


# --- operators and schedules ------------------------------------------------------------------------


def start_sync(principal: Principal, entity_path: str, body: SyncRequest) -> tuple[int, dict[str, Any]]:
    """POST /api/pms/sync/{bookings|rooms|guests}: (HTTP status, the seed's answer)."""
    entity = ENTITY_OF_PATH[entity_path]
    slug = body.hotel_slug or body.hotel
    if not slug:
        raise InvalidPayload(details=[{"field": "hotel_slug", "message": "required (body or ?hotel_slug=)"}])
    if not principal.manages_organisation:
        raise Forbidden("Only admins start PMS syncs")
    config = hotels.visible(principal, slug)
    if body.provider is not None:
        require_known(body.provider)
        if body.provider != config.provider:
            details = [{"field": "provider", "message": f"hotel {slug} uses {config.provider}"}]
            raise InvalidPayload("The hotel is configured for another provider", details=details)
    if not config.enabled:
        raise PMSDisabled()
    options = FetchOptions(since=body.since, limit=body.limit)
    log = new_log(config, entity, "MANUAL", options, correlation_id=logger.get_correlation_id())
    if body.asynchronous or body.limit > get_pms_settings().inline_sync_limit:
        enqueue(log)
        return 202, {"success": True, "syncLogId": log.id, "status": "RUNNING", "summary": log.summary()}
    final = run_sync(config, log, options)
    answer = {
        "success": final.status == "COMPLETED",
        "syncLogId": final.id,
        "status": final.status,
        "summary": final.summary(),
    }
    if final.error:
        answer["error"] = "The provider could not be synced; see the sync log"
    return 200, answer


def enqueue(log: SyncLog) -> None:
    logs.put(log)
    webhooks.send(get_settings().pms_sync_queue_url, {"kind": "sync", "sync_log_id": log.id})


def run_queued(body: str) -> SyncLog | None:
    """One PMSSync message: the run its log names, or a schedule's fire; never a finished run again."""
    message = json.loads(body)
    if message.get("kind") == "scheduled":  # a hotel's schedule fired (EventBridge Scheduler -> PMSSync)
        found = schedule.scheduled_run(message)
        if found is None:
            return None
        hotel, scheduled = found
        return run_sync(hotel, scheduled, FetchOptions(limit=scheduled.limit or 100))
    log = logs.get(str(message["sync_log_id"]))
    if log is None or log.status != "RUNNING":
        return None
    config = configs.get(log.hotel_slug)
    if config is None or not config.enabled:
        final = log.model_copy(
            update={"status": "FAILED", "error": "configuration missing or disabled", "finished_at": iso_now()}
        )
        logs.put(final)
        return final
    options = FetchOptions(since=datetime.fromisoformat(log.since) if log.since else None, limit=log.limit or 100)
    return run_sync(config, log, options)


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def read_log(principal: Principal, log_id: str) -> dict[str, Any]:
    log = logs.get(log_id) if _UUID.match(log_id) else None
    if log is None or not principal.sees_organisation(log.organisation_id):
        raise SyncLogNotFound()
    return log.view()


def hotel_logs(principal: Principal, slug: str, limit: int) -> list[dict[str, Any]]:
    hotels.visible(principal, slug)
    return [log.view() for log in logs.of_hotel(slug, limit)]
