"""Beds24 pull sync runs (seed 001 "Pull Sync Flow"): incremental, full and reconciliation, page by page.

- A run is started by a schedule, an operator or the CLI: it takes the property's sync lease (one run per
  property at a time), is recorded, and is queued on Beds24Sync. The consumer reads Beds24 one page at a
  time (one page in memory, written in batches) and records progress after each page.
- Long runs continue in a new invocation: when the Lambda's time runs short, or Beds24's 5-minute credit
  budget is spent, the run re-queues itself (delayed until the budget resets) and resumes at its next page.
- Incremental pulls ask for bookings modified since the last successful cursor, minus an overlap; the
  cursor moves (to when the run started) only after a run that had no failure. An incremental run with no
  cursor yet is a full sync. Full syncs read every status, cancelled included, over a date window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bookinghub.beds24.client.api import Beds24Error, Beds24RateLimited, BookingQuery
from bookinghub.beds24.dal import properties as property_store
from bookinghub.beds24.dal import runs as run_store
from bookinghub.beds24.dal.queues import send_sync_job
from bookinghub.beds24.logic import reconcile
from bookinghub.beds24.logic.apply import apply_page
from bookinghub.beds24.logic.calls import call_logger
from bookinghub.beds24.logic.properties import NotConfigured, client_for
from bookinghub.beds24.logic.rooms import local_today, refresh_rooms
from bookinghub.beds24.logic.runs import LEASE_SECONDS, SyncInProgress, finish_run, start_run
from bookinghub.beds24.models.entities import Beds24Property, SyncRun
from bookinghub.core.clock import iso_now
from bookinghub.core.observability import emit_metric, logger

SAFETY_MS = 60_000  # stop taking new pages when less than this is left of the invocation
FINISHED = ("succeeded", "failed")


def query_for(prop: Beds24Property, run: SyncRun) -> BookingQuery:
    """Every status (Beds24 leaves cancelled out by default) over the property's date window; a date
    filter is always sent, since without one Beds24 returns upcoming bookings only."""
    today = local_today(prop)
    departure_from = today - timedelta(days=prop.sync_days_back)
    if run.mode == "incremental" and run.modified_from:
        modified_from = datetime.fromisoformat(run.modified_from.replace("Z", "+00:00"))
        return BookingQuery(
            property_ids=(prop.beds24_property_id,), modified_from=modified_from, departure_from=departure_from
        )
    return BookingQuery(
        property_ids=(prop.beds24_property_id,),
        departure_from=departure_from,
        arrival_to=today + timedelta(days=prop.sync_days_ahead),
    )


def process_job(run_id: str, *, remaining_ms: Callable[[], int]) -> str:
    """Advance a queued run as far as this invocation allows; returns what became of it."""
    held = _held_run(run_id)
    if isinstance(held, str):
        return held
    run, prop = held
    property_store.acquire_lease(prop, run_id, time.time(), LEASE_SECONDS)  # renew
    run.status = "running"
    try:
        client = client_for(prop, on_call=call_logger(prop))
        for page in client.iter_pages(query_for(prop, run), start_page=run.next_page):
            if run.mode == "reconcile":
                reconcile.compare_page(prop, run, page.page, page.bookings)
            else:
                result = apply_page(prop, page.bookings, source=run.mode)
                for name, value in result.counts.model_dump().items():
                    setattr(run.counts, name, getattr(run.counts, name) + value)
            run.pages += 1
            run.next_page = page.page + 1
            run_store.put_run(run)
            if page.next_page_exists and remaining_ms() < SAFETY_MS:
                send_sync_job({"run_id": run_id})
                logger.info("beds24 sync continues", extra={"run_id": run_id, "next_page": run.next_page})
                return "continued"
    except Beds24RateLimited as limited:
        run_store.put_run(run)
        send_sync_job({"run_id": run_id}, delay_seconds=int(limited.retry_after_seconds) + 1)
        logger.info(
            "beds24 credit budget spent: run postponed",
            extra={"run_id": run_id, "seconds": limited.retry_after_seconds},
        )
        emit_metric("Beds24SyncPostponed", provider="beds24", integration_type="reservation_sync")
        return "postponed"
    except (Beds24Error, NotConfigured) as error:
        finish_run(prop, run, "failed", error=f"{type(error).__name__}: {error}")
        return "failed"
    if run.mode == "reconcile":
        try:
            reconcile.finish(prop, run, client)
        except Beds24RateLimited as limited:  # re-reads while repairing: finish again once credits reset
            run_store.put_run(run)
            send_sync_job({"run_id": run_id}, delay_seconds=int(limited.retry_after_seconds) + 1)
            return "postponed"
    refresh_rooms(prop)
    failed = run.counts.failed
    finished = finish_run(
        prop, run, "failed" if failed else "succeeded", error=f"{failed} bookings failed" if failed else None
    )
    return finished.status


def _held_run(run_id: str) -> tuple[SyncRun, Beds24Property] | str:
    """The run and its property if the run is still to do and still holds the property's lease, else
    what became of it ("done" or "failed", recorded)."""
    run = run_store.get_run(run_id)
    if run is None or run.status in FINISHED:
        return "done"
    prop = property_store.get_property(run.organisation_id, run.property_id)
    if prop is None:
        run_store.put_run(
            run.model_copy(update={"status": "failed", "error": "property removed", "finished_at": iso_now()})
        )
        return "failed"
    if prop.active_run_id != run_id:
        finish_run(prop, run, "failed", error="the run lost its lease (it stalled longer than the lease)")
        return "failed"
    return run, prop


# --- Schedules -------------------------------------------------------------------------------------------


def run_schedule(mode: str, now: datetime | None = None) -> dict[str, int]:
    """A scheduled tick: start an incremental pull for every enabled property, or the daily full sync of
    each property whose local time has passed its full-sync hour and which has not had one today."""
    moment = now or datetime.now(UTC)
    started = skipped = busy = 0
    stalest_minutes = 0.0
    for prop in property_store.all_properties():
        if prop.status != "active" or not prop.pull_sync_enabled or not prop.credentials.refresh_token_encrypted:
            skipped += 1
            continue
        stalest_minutes = max(stalest_minutes, sync_staleness_minutes(prop, moment))
        if mode == "full":
            local = moment.astimezone(local_zone(prop))
            if local.hour < prop.full_sync_hour or prop.last_full_sync_date == local.date().isoformat():
                skipped += 1
                continue
        try:
            start_run(prop, "full" if mode == "full" else "incremental", trigger="schedule", now=moment)
            started += 1
        except SyncInProgress:
            busy += 1
    if mode == "incremental":
        # One figure for the whole fleet (the stalest property), so the alarm needs no per-property dimension;
        # `bookinghub beds24 runs` names the property.
        emit_metric(
            "Beds24SyncStalenessMinutes",
            round(stalest_minutes, 1),
            provider="beds24",
            integration_type="reservation_sync",
        )
    logger.info(
        "beds24 schedule",
        extra={"mode": mode, "started": started, "skipped": skipped, "busy": busy, "stalest_minutes": stalest_minutes},
    )
    return {"started": started, "skipped": skipped, "busy": busy}


def sync_staleness_minutes(prop: Beds24Property, now: datetime) -> float:
    """Minutes since the property's last successful pull began (since it was added, if it never had one)."""
    since = prop.last_successful_cursor or prop.created_at
    return max(0.0, (now - datetime.fromisoformat(since.replace("Z", "+00:00"))).total_seconds() / 60)


def local_zone(prop: Beds24Property) -> ZoneInfo:
    return ZoneInfo(prop.time_zone)
