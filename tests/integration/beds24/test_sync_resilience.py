"""Long and unlucky runs (issue 5): continuation when the invocation runs short of time, Beds24's 5-minute
credit budget (a short wait in-process, a long one re-queued with a delay), and failures that leave the
cursor where it was and release the property's lease."""

from __future__ import annotations

import time
from typing import Any

import pytest

from infra.local.resources import LocalResources
from tests.integration.beds24.hub import (
    MAX_WAIT_SECONDS,
    current_property,
    deliver,
    drain_events,
    drain_sync,
    get_run,
    let_time_pass,
    queued,
    reservation,
    run_consumer,
    start_run,
    stored_event,
    sync,
    waiting_seconds,
)
from tests.integration.beds24.sandbox import Sandbox


def test_a_run_short_of_time_continues_in_the_next_invocation(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    beds24.app.page_size = 2
    ids = [beds24.create(roomId=501 + n % 3, email=f"guest{n}@example.com") for n in range(5)]
    run = start_run("full")

    assert run_consumer(aws, "Beds24Sync", "beds24_sync", short_of_time=True) == (1, 0)
    progress = get_run(run.run_id)
    assert (progress.status, progress.pages, progress.next_page, progress.counts.created) == ("running", 1, 2, 2)
    assert queued(aws, "Beds24Sync") == 1  # the run re-queued itself
    assert current_property().active_run_id == run.run_id

    assert drain_sync(aws, short_of_time=True) == (2, 0)  # pages 2 and 3
    done = get_run(run.run_id)
    assert (done.status, done.pages, done.counts.created, done.counts.processed) == ("succeeded", 3, 5, 5)
    assert all(reservation(i) is not None for i in ids)
    assert [c["query"]["page"] for c in beds24.calls()] == [["1"], ["2"], ["3"]]  # no page read twice
    assert current_property().active_run_id is None


def test_a_429_with_a_short_reset_is_waited_out_then_the_event_applies(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    booking_id = beds24.create()
    status, answer = deliver(beds24.webhooks(booking_id)[-1])
    assert status == 200
    beds24.reset_calls()
    beds24.credits(remaining=0, resets_in=MAX_WAIT_SECONDS)  # a wait the client may take in-process

    started = time.monotonic()
    assert drain_events(aws) == (1, 0)
    assert 1 <= time.monotonic() - started < MAX_WAIT_SECONDS + 3

    event = stored_event(answer["event_key"])
    assert event is not None
    assert event["status"] == "processed"
    assert event["reread"] is True
    assert reservation(booking_id) is not None
    token, bookings = "/v2/authentication/token", "/v2/bookings"
    calls = [(c["path"], c["status"]) for c in beds24.calls(None)]
    assert calls == [(token, 429), (token, 200), (bookings, 200)]  # the refused call, then the same again


def test_a_spent_budget_is_waited_for_before_the_next_call(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    beds24.create()
    run = start_run("full")
    beds24.reset_calls()
    beds24.credits(remaining=2, resets_in=MAX_WAIT_SECONDS)  # the token call leaves 1: less than the client keeps

    started = time.monotonic()
    assert drain_sync(aws) == (1, 0)
    assert time.monotonic() - started >= 1
    run = get_run(run.run_id)
    assert run.status == "succeeded"
    assert run.counts.created == 1
    calls = beds24.calls(None)
    assert [c["path"] for c in calls] == ["/v2/authentication/token", "/v2/bookings"]
    assert all(c["status"] == 200 for c in calls)  # waited for the new window instead of hitting 429


def test_a_long_credit_reset_requeues_the_run_with_a_delay_and_it_finishes_later(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    from bookinghub.beds24.logic.sync import SyncInProgress

    ids = [beds24.create(), beds24.create(roomId=502)]
    beds24.credits(remaining=0, resets_in=300)
    run = start_run("full")

    assert run_consumer(aws, "Beds24Sync", "beds24_sync") == (1, 0)
    (wait,) = waiting_seconds("Beds24Sync")
    assert 290 <= wait <= 302  # delayed until Beds24's window resets
    postponed = get_run(run.run_id)
    assert postponed.status == "running"
    assert postponed.finished_at is None
    assert postponed.next_page == 1
    assert current_property().active_run_id == run.run_id
    with pytest.raises(SyncInProgress):
        start_run("full")
    assert run_consumer(aws, "Beds24Sync", "beds24_sync") == (0, 0)  # nothing to do before the delay ends

    beds24.credits(remaining=100, resets_in=300)  # the new window
    let_time_pass("Beds24Sync")
    assert drain_sync(aws) == (1, 0)
    done = get_run(run.run_id)
    assert done.status == "succeeded"
    assert done.counts.created == 2
    assert all(reservation(i) is not None for i in ids)
    assert current_property().active_run_id is None


def test_a_webhook_event_over_the_budget_is_postponed_until_the_reset(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    booking_id = beds24.create()
    status, answer = deliver(beds24.webhooks(booking_id)[-1])
    assert status == 200
    beds24.credits(remaining=0, resets_in=300)

    # Handled, and queued again with a delay: waiting for credits never counts towards the DLQ
    assert drain_events(aws) == (1, 0)
    (wait,) = waiting_seconds("Beds24Events")
    assert 290 <= wait <= 302
    assert stored_event(answer["event_key"]) is None  # not final: its message (queued again) is its receipt
    assert reservation(booking_id) is None

    beds24.credits(remaining=100, resets_in=300)
    let_time_pass("Beds24Events")
    assert drain_events(aws) == (1, 0)
    event = stored_event(answer["event_key"])
    assert event is not None
    assert event["status"] == "processed"
    assert reservation(booking_id) is not None


def test_a_run_failing_midway_keeps_the_cursor_and_releases_the_lease(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    beds24.app.page_size = 2
    beds24.clock.offset = -3600
    ids = [beds24.create(email=f"guest{n}@example.com") for n in range(3)]
    assert sync(aws, "full").status == "succeeded"
    cursor = current_property().last_successful_cursor

    beds24.clock.offset = 0
    for booking_id in ids:
        beds24.modify(booking_id, price=20000)
    run = start_run("incremental")
    assert run_consumer(aws, "Beds24Sync", "beds24_sync", short_of_time=True) == (1, 0)  # page 1 of 2
    beds24.control(fail_with=500, times=3)  # every attempt at page 2
    beds24.reset_calls()
    assert drain_sync(aws) == (1, 0)

    failed = get_run(run.run_id)
    assert failed.status == "failed"
    assert "Beds24Unavailable" in str(failed.error)
    assert failed.finished_at
    assert failed.duration_ms is not None
    assert (failed.counts.processed, failed.counts.updated) == (2, 2)
    assert [c["status"] for c in beds24.calls()] == [500, 500, 500]
    after = current_property()
    assert after.last_successful_cursor == cursor
    assert after.active_run_id is None

    # The lease is free and the next run re-reads from the old cursor: nothing is lost
    retry = sync(aws, "incremental")
    assert retry.status == "succeeded"
    assert retry.modified_from == failed.modified_from
    assert (retry.counts.updated, retry.counts.unchanged) == (1, 2)
    assert all((reservation(i) or {}).get("price") == 20000 for i in ids)
    assert current_property().last_successful_cursor == retry.cursor_candidate


def test_a_rejected_refresh_token_applies_webhooks_as_sent_and_fails_runs(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    from bookinghub.beds24.logic.properties import update_property

    booking_id = beds24.create()
    assert sync(aws, "full").status == "succeeded"
    cursor = current_property().last_successful_cursor
    beds24.modify(booking_id, price=12345)
    with beds24.app.lock:
        beds24.app.tokens.clear()  # Beds24 revoked the access token, and the refresh token is wrong
    update_property(current_property(), {}, refresh_token="a-refresh-token-beds24-rejects")

    status, answer = deliver(beds24.webhooks(booking_id)[-1])
    assert status == 200
    assert drain_events(aws) == (1, 0)  # waiting would not help: applied as sent, not retried
    event = stored_event(answer["event_key"])
    assert event is not None
    assert event["status"] == "processed"
    assert event["reread"] is False
    assert (reservation(booking_id) or {}).get("price") == 12345

    run = sync(aws, "incremental")
    assert run.status == "failed"
    assert "Beds24AuthError" in str(run.error)
    after = current_property()
    assert after.last_successful_cursor == cursor
    assert after.active_run_id is None


def test_an_access_token_beds24_expired_is_replaced_and_kept(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    beds24.create()
    assert sync(aws, "full").status == "succeeded"
    beds24.clock.advance(2 * 86400)  # Beds24's 24 h access token has expired; the hub's copy says otherwise
    beds24.reset_calls()

    assert sync(aws, "full").status == "succeeded"
    token, bookings = "/v2/authentication/token", "/v2/bookings"
    calls = [(c["path"], c["status"]) for c in beds24.calls(None)]
    assert calls == [(bookings, 401), (token, 200), (bookings, 200)]

    beds24.reset_calls()  # the new token was stored: the next run needs no other
    assert sync(aws, "full").status == "succeeded"
    assert [c["path"] for c in beds24.calls(None)] == [bookings]
