"""Pull syncs (issue 5): full syncs page by page with batched writes and no rewrite of unchanged bookings,
incremental pulls from the last successful cursor minus an overlap, every run recorded, and the schedules
(pull_sync_enabled, the daily full sync at the property's local hour)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from infra.local.resources import LocalResources
from tests.integration.beds24.hub import current_property, drain_sync, get_run, queued, reservation, set_property, sync
from tests.integration.beds24.meter import DynamoMeter
from tests.integration.beds24.sandbox import Sandbox, day


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_full_sync_reads_page_by_page_writes_in_batches_and_records_the_run(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    beds24.app.page_size = 2
    ids = [beds24.create(), beds24.create(roomId=502), beds24.create(arrival=day(-8), departure=day(-5))]
    cancelled = beds24.create(roomId=503)
    beds24.cancel(cancelled)
    ids.append(cancelled)
    ids.append(beds24.create(arrival=day(400), departure=day(402)))
    outside = beds24.create(arrival=day(-45), departure=day(-40))  # before the 30-day window
    beds24.reset_calls()

    with DynamoMeter() as meter:
        run = sync(aws, "full")

    assert run.status == "succeeded"
    assert run.mode == "full"
    assert run.error is None
    assert run.pages == 3
    counts = run.counts.model_dump()
    assert counts == {"processed": 5, "created": 5, "updated": 0, "unchanged": 0, "failed": 0, "needs_attention": 0}
    assert run.finished_at
    assert run.duration_ms is not None
    assert run.duration_ms >= 0
    assert _time(run.started_at) <= _time(run.finished_at)
    assert all(reservation(i) is not None for i in ids)
    assert reservation(outside) is None
    stored = reservation(cancelled)
    assert stored is not None
    assert stored["status"] == "cancelled"
    assert stored["last_source"] == "full"

    reads = beds24.calls()
    assert [call["query"]["page"] for call in reads] == [["1"], ["2"], ["3"]]
    assert "cancelled" in reads[0]["query"]["status"]  # Beds24 leaves them out unless asked
    assert reads[0]["query"]["departureFrom"]
    assert reads[0]["query"]["arrivalTo"]

    # New reservations go out in one batch per page, not an item at a time
    reservation_writes = meter.writes_to("RESERVATION#")
    # New reservations go in batches, never one call per booking
    assert [w.operation for w in reservation_writes] == ["BatchWriteItem"] * 3

    after = current_property()
    assert after.last_successful_cursor == run.cursor_candidate
    assert after.last_full_sync_date is not None
    assert after.active_run_id is None


def test_a_full_sync_rerun_rewrites_nothing_that_did_not_change(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    ids = [beds24.create(), beds24.create(roomId=502, email="b@example.com"), beds24.create(roomId=503)]
    assert sync(aws, "full").counts.created == 3

    with DynamoMeter() as meter:
        run = sync(aws, "full")
    assert run.status == "succeeded"
    assert (run.counts.processed, run.counts.unchanged, run.counts.created, run.counts.updated) == (3, 3, 0, 0)
    assert meter.writes_to("RESERVATION#", "GUEST#", "GUESTKEY#", "PROPERTY#") == []
    assert "BatchWriteItem" not in meter.operations()
    # What a run still writes: its own record, its call log, the property's lease and cursor
    written = {
        key.split("#")[0]
        for r in meter.requests
        if r.operation in ("PutItem", "UpdateItem")
        for key in r.partition_keys()
    }
    assert written <= {"RUN", "INTLOG", "ORG"}, written

    beds24.modify(ids[1], price=9999)
    with DynamoMeter() as meter:
        run = sync(aws, "full")
    assert (run.counts.updated, run.counts.unchanged) == (1, 2)
    assert len(meter.writes_to("RESERVATION#")) == 1
    stored = reservation(ids[1])
    assert stored is not None
    assert stored["price"] == 9999


def test_incremental_pulls_from_the_cursor_minus_the_overlap(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    beds24.clock.offset = -3600  # these bookings were last modified an hour ago
    first, second = beds24.create(), beds24.create(roomId=502)

    run = sync(aws, "incremental")
    assert run.mode == "full"
    assert run.modified_from is None
    cursor = current_property().last_successful_cursor
    assert cursor == run.cursor_candidate

    beds24.clock.offset = 0
    beds24.modify(second, price=15000)  # their webhooks are lost; the pull finds both changes
    beds24.cancel(first)
    beds24.reset_calls()
    run = sync(aws, "incremental")

    assert run.status == "succeeded"
    assert run.mode == "incremental"
    expected_from = _time(cursor) - timedelta(seconds=120)
    assert _time(run.modified_from) == expected_from
    (read,) = beds24.calls()
    assert read["query"]["modifiedFrom"] == [expected_from.strftime("%Y-%m-%dT%H:%M:%S")]
    assert "cancelled" in read["query"]["status"]
    assert (run.counts.processed, run.counts.updated) == (2, 2)  # the hour-old ones are not read again
    stored = reservation(second)
    assert stored is not None
    assert stored["price"] == 15000
    assert stored["last_source"] == "incremental"
    cancelled = reservation(first)
    assert cancelled is not None
    assert cancelled["status"] == "cancelled"
    assert current_property().last_successful_cursor == run.cursor_candidate
    assert _time(run.cursor_candidate) > _time(cursor)


def test_a_run_with_an_unreadable_booking_applies_the_others_and_keeps_the_cursor(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    good = beds24.create()
    assert sync(aws, "full").status == "succeeded"
    cursor = current_property().last_successful_cursor
    broken, fine = beds24.create(roomId=502), beds24.create(roomId=503)
    with beds24.app.lock:
        beds24.app.bookings[broken]["numAdult"] = "two"  # Beds24 returned something the hub cannot read

    run = sync(aws, "incremental")
    assert run.status == "failed"
    assert "1 bookings failed" in str(run.error)
    assert (run.counts.failed, run.counts.created) == (1, 1)
    assert reservation(fine) is not None
    assert reservation(broken) is None
    assert reservation(good) is not None
    after = current_property()
    assert after.last_successful_cursor == cursor
    assert after.active_run_id is None


def test_the_scheduler_skips_a_property_with_pull_sync_disabled(aws: LocalResources, prop: Any) -> None:
    from infra.local.invoke import invoke

    schedule = {  # EventBridge's event of the beds24-incremental schedule
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-03-01T10:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/beds24-incremental"],
        "detail": {"mode": "incremental"},
    }
    assert invoke("beds24_scheduler", schedule) == {"mode": "incremental", "started": 1, "skipped": 0, "busy": 0}
    assert invoke("beds24_scheduler", schedule)["busy"] == 1  # the first run still holds the lease
    drain_sync(aws)

    set_property(pull_sync_enabled=False)
    assert invoke("beds24_scheduler", schedule) == {"mode": "incremental", "started": 0, "skipped": 1, "busy": 0}
    set_property(pull_sync_enabled=True, status="inactive")
    assert invoke("beds24_scheduler", schedule)["skipped"] == 1
    set_property(status="active", pull_sync_enabled=False)
    from bookinghub.beds24.logic.sync import run_schedule

    assert run_schedule("full", now=datetime.now(UTC).replace(hour=22)) == {"started": 0, "skipped": 1, "busy": 0}
    assert queued(aws, "Beds24Sync") == 0


def test_the_daily_full_sync_runs_once_a_day_after_its_local_hour(aws: LocalResources, prop: Any) -> None:
    from bookinghub.beds24.logic.sync import run_schedule

    # Asia/Bangkok is UTC+7 and full_sync_hour is 3
    before_hour = datetime(2026, 3, 1, 19, 0, tzinfo=UTC)  # 02:00 on 2 March in Bangkok
    assert run_schedule("full", now=before_hour)["started"] == 0
    after_hour = datetime(2026, 3, 1, 21, 0, tzinfo=UTC)  # 04:00 on 2 March
    assert run_schedule("full", now=after_hour)["started"] == 1
    drain_sync(aws)
    assert current_property().last_full_sync_date == "2026-03-02"

    later_that_day = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 17:00 on 2 March
    assert run_schedule("full", now=later_that_day) == {"started": 0, "skipped": 1, "busy": 0}
    next_day = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)  # 04:00 on 3 March
    assert run_schedule("full", now=next_day)["started"] == 1
    drain_sync(aws)
    runs = [get_run(r) for r in _run_ids()]
    assert sorted(r.mode for r in runs) == ["full", "full"]
    assert all(r.status == "succeeded" for r in runs)


def _run_ids() -> list[str]:
    from bookinghub.beds24.dal.runs import property_runs

    found = current_property()
    return [run.run_id for run in property_runs(found.organisation_id, found.id, 10)]
