"""Starting a Beds24 pull sync run, and recording its end (the run itself: beds24/logic/sync.py).

Apart from the sync worker so that starting a run (the operators' API, the schedule, the CLI) imports only
what it needs: the property's lease, the run record and the queue, not the Beds24 client, the booking
mapping and the reconciliation that only the worker runs (~35 ms of the Beds24 admin API's init).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from bookinghub.beds24.dal import properties as property_store
from bookinghub.beds24.dal import runs as run_store
from bookinghub.beds24.dal.queues import send_sync_job
from bookinghub.beds24.logic.properties import NotConfigured
from bookinghub.beds24.logic.rooms import local_today
from bookinghub.beds24.models.entities import Beds24Property, SyncMode, SyncRun
from bookinghub.core.clock import to_iso
from bookinghub.core.errors import DomainError
from bookinghub.core.observability import emit_metric, logger
from bookinghub.core.settings import get_settings

LEASE_SECONDS = 1800  # renewed at every continuation; a crashed run frees the property after this


class SyncInProgress(DomainError):
    code, status, message = "SYNC_IN_PROGRESS", 409, "A sync of this property is already running"


class PropertyInactive(DomainError):
    code, status, message = "PROPERTY_INACTIVE", 409, "The property's Beds24 integration is inactive"


def start_run(
    prop: Beds24Property,
    mode: SyncMode,
    *,
    trigger: str,
    requested_by: str | None = None,
    resync: bool = False,
    now: datetime | None = None,
) -> SyncRun:
    if prop.status != "active":
        raise PropertyInactive()
    if not prop.credentials.refresh_token_encrypted:
        raise NotConfigured()
    moment = now or datetime.now(UTC)
    run_id = str(uuid.uuid4())
    try:
        property_store.acquire_lease(prop, run_id, moment.timestamp(), LEASE_SECONDS)
    except property_store.LeaseHeld:
        raise SyncInProgress() from None
    modified_from = None
    if mode == "incremental" and prop.last_successful_cursor:
        cursor = datetime.fromisoformat(prop.last_successful_cursor.replace("Z", "+00:00"))
        modified_from = to_iso(cursor - timedelta(seconds=get_settings().beds24_overlap_seconds))
    elif mode == "incremental":
        mode = "full"  # nothing pulled yet: the first incremental run has to read everything
    run = SyncRun(
        run_id=run_id,
        organisation_id=prop.organisation_id,
        property_id=prop.id,
        mode=mode,
        status="queued",
        trigger=trigger,
        requested_by=requested_by,
        resync=resync,
        started_at=to_iso(moment),
        modified_from=modified_from,
        cursor_candidate=to_iso(moment),
    )
    run_store.put_run(run)
    try:
        send_sync_job({"run_id": run_id})
    except Exception:
        finish_run(prop, run, "failed", error="could not queue the run")
        raise
    logger.info(
        "beds24 sync queued", extra={"run_id": run_id, "property_id": prop.id, "mode": mode, "trigger": trigger}
    )
    return run


def finish_run(prop: Beds24Property, run: SyncRun, status: str, *, error: str | None = None) -> SyncRun:
    finished = datetime.now(UTC)
    started = datetime.fromisoformat(run.started_at.replace("Z", "+00:00"))
    run = run.model_copy(
        update={
            "status": status,
            "error": error,
            "finished_at": to_iso(finished),
            "duration_ms": int((finished - started).total_seconds() * 1000),
        }
    )
    run_store.put_run(run)
    ok = status == "succeeded"
    property_store.release_lease(
        prop,
        run.run_id,
        cursor=run.cursor_candidate if ok and run.mode in ("incremental", "full") else None,
        full_date=local_today(prop, started).isoformat() if ok and run.mode == "full" else None,
    )
    logger.info(
        "beds24 sync finished",
        extra={
            "run_id": run.run_id,
            "property_id": run.property_id,
            "mode": run.mode,
            "status": status,
            "counts": run.counts.model_dump(),
            "report": run.report,
            "error": error,
        },
    )
    emit_metric(f"Beds24Sync{status.title()}", provider="beds24", integration_type="reservation_sync")
    return run
