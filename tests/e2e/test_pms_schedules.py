"""PMS schedules and bus under the local stack (`python -m infra.local`, as `make run`), over loopback HTTP:
a hotel created with an every-minute cron gets its Scheduler schedule in the embedded AWS, the local
runtime fires it at the minute into the PMSSync queue, its FETCH sync log appears, and the pms.* events
of that run and of a manual sync reach their consumer (bus rule -> PMSBusEvents queue -> pms_status)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from infra.local.pms_aws import schedule_group_name
from infra.local.resources import LOCAL_PREFIX
from tests.e2e.conftest import Hub, aws_client
from tests.e2e.test_pms import operator, wait_for

pytestmark = pytest.mark.e2e

SLUG = "e2e-every-minute"
FIRE_WAIT_SECONDS = 90.0  # the next minute boundary, plus the firer's poll and the queue worker


def configuration(hub: Hub, slug: str) -> dict[str, Any]:
    answer = requests.get(f"{hub.url}/api/pms/configurations/{slug}", headers=operator(), timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["configuration"])


def fetch_logs(hub: Hub) -> list[dict[str, Any]]:
    answer = requests.get(f"{hub.url}/api/pms/sync-logs", params={"hotel_slug": SLUG}, headers=operator(), timeout=30)
    assert answer.status_code == 200, answer.text
    return [log for log in answer.json()["syncLogs"] if log["operation"] == "FETCH" and log["status"] == "COMPLETED"]


def schedule(hub: Hub) -> dict[str, Any] | None:
    scheduler = aws_client("scheduler", hub.aws_url)
    try:
        return dict(scheduler.get_schedule(Name=SLUG, GroupName=schedule_group_name(LOCAL_PREFIX)))
    except scheduler.exceptions.ResourceNotFoundException:
        return None


def test_a_bad_cron_is_refused_and_nothing_is_scheduled(hub: Hub) -> None:
    body = {"hotel_slug": "e2e-bad-cron", "provider": "mock", "sync_schedule": "0 0 1 * 1"}
    answer = requests.post(f"{hub.url}/api/pms/configurations", json=body, headers=operator(), timeout=30)
    assert (answer.status_code, answer.json()["code"]) == (400, "INVALID_PAYLOAD")
    assert (
        requests.get(f"{hub.url}/api/pms/configurations/e2e-bad-cron", headers=operator(), timeout=30).status_code
        == 404
    )


def test_an_every_minute_schedule_fires_its_sync_and_its_event_reaches_the_consumer(hub: Hub) -> None:
    body = {"hotel_slug": SLUG, "provider": "mock", "sync_schedule": "* * * * *"}
    answer = requests.post(f"{hub.url}/api/pms/configurations", json=body, headers=operator(), timeout=30)
    assert answer.status_code == 201, answer.text
    made = schedule(hub)
    assert made is not None
    assert made["ScheduleExpression"] == "cron(* * * * ? *)"
    assert made["Target"]["Arn"].endswith(":bookinghub-PMSSync")

    (run, *_) = wait_for("the schedule's FETCH sync", lambda: fetch_logs(hub), timeout=FIRE_WAIT_SECONDS)
    assert run["scheduled_time"].endswith(":00Z")
    assert run["items_processed"] > 0
    # pms.sync.completed of that run: moto's bus -> the rule's queue -> pms_status
    wait_for(
        "the run's pms.sync.completed at its consumer",
        lambda: configuration(hub, SLUG)["sync_status"].get("sync_BOOKING", {}).get("sync_log_id") == run["id"],
    )
    assert configuration(hub, SLUG)["sync_status"]["last_booking"]["outcome"]

    # Disabling removes the schedule from the embedded AWS (and so from the local firer)
    assert (
        requests.delete(f"{hub.url}/api/pms/configurations/{SLUG}", headers=operator(), timeout=30).status_code == 200
    )
    assert schedule(hub) is None


def test_a_manual_syncs_event_reaches_its_consumer(hub: Hub) -> None:
    answer = requests.post(
        f"{hub.url}/api/pms/sync/rooms", json={"hotel_slug": "demo-hotel", "limit": 5}, headers=operator(), timeout=60
    )
    assert answer.status_code == 200, answer.text
    log_id = answer.json()["syncLogId"]
    status = wait_for(
        "the manual sync's pms.sync.completed at its consumer",
        lambda: (
            (s := configuration(hub, "demo-hotel")["sync_status"]).get("sync_ROOM", {}).get("sync_log_id") == log_id
            and s
        ),
    )
    assert (status["sync_ROOM"]["operation"], status["sync_ROOM"]["processed"]) == ("MANUAL", 5)
    # The demo hotels' own schedules were made at startup
    scheduler = aws_client("scheduler", hub.aws_url)
    names = {s["Name"] for s in scheduler.list_schedules(GroupName=schedule_group_name(LOCAL_PREFIX))["Schedules"]}
    assert {"demo-hotel", "cloudbeds-demo-hotel"} <= names
