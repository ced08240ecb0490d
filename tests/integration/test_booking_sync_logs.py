"""Seed 002's sync log of inbound syncs: an applied change's log is its timeline item (written by the
outbox relay), so redeliveries, rejections and retries leave exactly one log per applied change, and
what was not applied leaves its log line."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bookinghub.bookings.dal.logs import list_sync_logs
from cli import logs as cli_logs
from infra.local.invoke import invoke
from tests.integration.conftest import outbox_events, post_sync, seed_body, stream_records, sync_logs


def _lines(captured: str, message: str) -> list[dict[str, Any]]:
    return [line for line in map(json.loads, captured.splitlines()) if line.get("message") == message]


def test_a_redelivered_sync_and_a_redelivered_stream_record_leave_one_log(test_website: Any) -> None:
    status, first = post_sync(seed_body())
    assert (status, first["outcome"]) == (200, "created")
    records = stream_records()
    for _ in range(2):  # the stream hands the record again (a retried batch): its item is written once
        assert invoke("outbox_relay", {"Records": records}) == {"batchItemFailures": []}
    status, again = post_sync(seed_body())  # the website retries a delivery that was stored
    assert (status, again["outcome"], again["booking_id"]) == (200, "unchanged", first["booking_id"])

    [log] = sync_logs()
    [event] = outbox_events(first["booking_id"])
    assert (log["id"], log["event_type"], log["status"]) == (event["event_id"], "booking.created", "success")
    assert [entry.id for entry in list_sync_logs(first["booking_id"])] == [log["id"]]


def test_rejected_requests_leave_no_log_row_and_the_good_one_after_them_leaves_one(
    test_website: Any, captured_logs: Callable[[], str]
) -> None:
    assert post_sync(seed_body(), api_key="wrong_sk_xxxxx")[0] == 401
    assert post_sync(seed_body(guest_count="2"))[0] == 400
    assert sync_logs() == []
    rejected = _lines(captured_logs(), "request rejected")
    assert [line["code"] for line in rejected] == ["AUTH_FAILED", "INVALID_PAYLOAD"]  # each says why

    status, body = post_sync(seed_body())
    assert (status, body["outcome"]) == (200, "created")
    assert post_sync(seed_body(guest_count=5))[0] == 409  # DUPLICATE_BOOKING: not applied, no log row
    update = {"event": "booking.updated", "source_booking_id": "uuid-from-source-database", "guest_count": 3}
    assert post_sync({**update, "updated_at": "2026-02-21T00:00:00Z"})[1]["outcome"] == "updated"

    logs = sync_logs()
    assert [log["event_type"] for log in logs] == ["booking.created", "booking.updated"]
    assert logs[1]["payload"] == {**update, "guest_count": 3}  # what the update applied, in the seed's shape


def test_a_stale_change_is_a_log_line_not_a_log_row(test_website: Any, captured_logs: Callable[[], str]) -> None:
    update = {"event": "booking.updated", "source_booking_id": "uuid-from-source-database"}
    post_sync(seed_body())
    assert post_sync({**update, "guest_count": 4, "updated_at": "2026-02-22T00:00:00Z"})[1]["outcome"] == "updated"
    older = post_sync({**update, "guest_count": 3, "updated_at": "2026-02-21T00:00:00Z"})[1]
    assert older["outcome"] == "ignored_stale"

    assert [log["payload"].get("guest_count") for log in sync_logs()] == [2, 4]
    [line] = _lines(captured_logs(), "sync")
    assert (line["outcome"], line["booking_id"], line["stale"]) == ("ignored_stale", older["booking_id"], 1)


def test_bookinghub_logs_shows_the_inbound_sync_before_its_event(test_website: Any) -> None:
    _, body = post_sync(seed_body())
    outbox_events(body["booking_id"])  # relayed
    entries = cli_logs.collect(body["booking_id"])
    assert [(e.source, e.what) for e in entries] == [("sync", "inbound booking.created"), ("event", "booking.created")]
    assert entries[0].status == "success"


def test_a_change_held_whole_for_an_operators_edit_gets_a_log_row_of_its_own(test_website: Any) -> None:
    """Hub wins: the change sets no column, so it makes no event to carry its log: the row is written."""
    from tests.integration.test_conflicts import AFTER_EDIT, D2, D3, Website, moment, set_rule

    website = Website()
    set_rule("dates", "hub_wins")
    booking_id = website.create()
    website.edit(booking_id, D2)
    source_id = website.stored(booking_id)["source_booking_id"]
    change = {"event": "booking.updated", "source_booking_id": source_id, "version": 2, "activity_date": D3}
    status, answer = post_sync({**change, "updated_at": moment(AFTER_EDIT)})
    assert (status, answer["outcome"], answer["applied_fields"], answer["held_fields"]) == (
        200,
        "updated",
        [],
        ["activity_date"],
    )

    logs = [log for log in sync_logs() if log["direction"] == "inbound"]
    assert [log["event_type"] for log in logs] == ["booking.created", "booking.updated"]
    assert logs[1]["payload"]["activity_date"] == D3  # as sent (the hub kept its own value)
