"""Hotels' sync schedules in EventBridge Scheduler (moto): made, changed and removed with the configuration,
a failing Scheduler leaving both as they were, the reconcile pass, and a fire running its FETCH sync once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bookinghub.core.settings import get_settings
from infra.local.resources import LocalResources
from infra.local.scheduler_schedules import ScheduleFirer
from infra.topology.pms import HOTEL_SCHEDULES
from tests.integration.conftest import snapshot_tables
from tests.integration.pms.conftest import admin, drain_sync


def scheduler() -> Any:
    return boto3.client("scheduler", region_name="us-east-1")


def schedule_of(slug: str) -> dict[str, Any] | None:
    try:
        return dict(scheduler().get_schedule(Name=slug, GroupName=get_settings().pms_schedule_group_name))
    except scheduler().exceptions.ResourceNotFoundException:
        return None


def create(slug: str = "sched-hotel", **extra: Any) -> tuple[int, dict[str, Any]]:
    body = {"hotel_slug": slug, "provider": "mock", "sync_schedule": "0 */6 * * *", **extra}
    return admin("POST", "/api/pms/configurations", body=body)


class FailingScheduler:
    """Scheduler answering a throttle (or any error) to every call, as when the service is unavailable."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        def failing(**_: Any) -> None:
            self.calls.append(name)
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, name)

        return failing

    @property
    def exceptions(self) -> Any:
        return scheduler().exceptions


@pytest.fixture
def scheduler_down(monkeypatch: pytest.MonkeyPatch) -> FailingScheduler:
    from bookinghub.pms.dal import schedules

    failing = FailingScheduler()
    real = schedules.client
    monkeypatch.setattr(schedules, "client", lambda service: failing if service == "scheduler" else real(service))
    return failing


def test_create_makes_the_hotels_schedule_targeting_the_sync_queue(aws: LocalResources) -> None:
    status, body = create()
    assert status == 201, body
    made = schedule_of("sched-hotel")
    assert made is not None
    assert (made["ScheduleExpression"], made["ScheduleExpressionTimezone"]) == ("cron(0 0/6 * * ? *)", "UTC")
    assert made["State"] == "ENABLED"
    target = made["Target"]
    settings = get_settings()
    assert (target["Arn"], target["RoleArn"]) == (settings.pms_sync_queue_arn, settings.pms_schedule_role_arn)
    assert target["Arn"].endswith(":bookinghub-PMSSync")
    # A fire Scheduler cannot deliver is kept in the sync queue's DLQ
    assert target["DeadLetterConfig"] == {"Arn": settings.pms_sync_dlq_arn}
    assert settings.pms_sync_dlq_arn.endswith(":bookinghub-PMSSync-dlq")
    assert json.loads(target["Input"]) == {
        "kind": "scheduled",
        "hotel_slug": "sched-hotel",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }
    assert settings.pms_schedule_group_name == "bookinghub-pms-hotels"


def test_update_disable_and_enable_follow_the_configuration(aws: LocalResources) -> None:
    create()
    status, body = admin("PATCH", "/api/pms/configurations/sched-hotel", body={"sync_schedule": "30 2 * * 1-5"})
    assert status == 200, body
    assert schedule_of("sched-hotel")["ScheduleExpression"] == "cron(30 2 ? * MON,TUE,WED,THU,FRI *)"  # type: ignore[index]
    assert admin("DELETE", "/api/pms/configurations/sched-hotel")[0] == 200  # disables
    assert schedule_of("sched-hotel") is None
    assert admin("PATCH", "/api/pms/configurations/sched-hotel", body={"enabled": True})[0] == 200
    assert schedule_of("sched-hotel")["ScheduleExpression"] == "cron(30 2 ? * MON,TUE,WED,THU,FRI *)"  # type: ignore[index]
    assert admin("PATCH", "/api/pms/configurations/sched-hotel", body={"sync_schedule": None})[0] == 200
    assert schedule_of("sched-hotel") is None


def test_a_hotel_without_a_cron_or_disabled_has_no_schedule(aws: LocalResources) -> None:
    assert admin("POST", "/api/pms/configurations", body={"hotel_slug": "no-cron", "provider": "mock"})[0] == 201
    assert create("off-hotel", enabled=False)[0] == 201
    assert schedule_of("no-cron") is None
    assert schedule_of("off-hotel") is None


@pytest.mark.parametrize(
    "cron",
    ["every hour", "61 * * * *", "0 25 * * *", "*/0 * * * *", "0 0 1 * 1", "0 3 * * ? *", "0 0 L * *"],
)
def test_a_bad_cron_is_400_and_stores_nothing(aws: LocalResources, cron: str) -> None:
    before = snapshot_tables()
    status, body = create(sync_schedule=cron)
    assert (status, body["code"]) == (400, "INVALID_PAYLOAD")
    assert any(d["field"].endswith("sync_schedule") for d in body["details"]), body
    assert snapshot_tables() == before
    assert scheduler().list_schedules(GroupName=get_settings().pms_schedule_group_name)["Schedules"] == []


def test_a_bad_cron_in_an_update_changes_nothing(aws: LocalResources) -> None:
    create()
    before = snapshot_tables()
    status, body = admin("PATCH", "/api/pms/configurations/sched-hotel", body={"sync_schedule": "0 0 31 2 1"})
    assert (status, body["code"]) == (400, "INVALID_PAYLOAD")
    assert snapshot_tables() == before
    assert schedule_of("sched-hotel")["ScheduleExpression"] == "cron(0 0/6 * * ? *)"  # type: ignore[index]


def test_scheduler_down_on_create_answers_503_and_stores_nothing(
    aws: LocalResources, scheduler_down: FailingScheduler
) -> None:
    before = snapshot_tables()
    status, body = create()
    assert (status, body["code"]) == (503, "SCHEDULE_UNAVAILABLE")
    assert scheduler_down.calls == ["create_schedule"]
    assert snapshot_tables() == before  # the configuration written first was taken back
    assert admin("GET", "/api/pms/configurations/sched-hotel")[0] == 404


def test_scheduler_down_on_update_leaves_configuration_and_schedule_as_they_were(
    aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    create()
    from bookinghub.pms.dal import schedules

    failing = FailingScheduler()
    real = schedules.client
    monkeypatch.setattr(schedules, "client", lambda service: failing if service == "scheduler" else real(service))
    for patch in ({"sync_schedule": "15 * * * *"}, {"enabled": False}):
        status, body = admin("PATCH", "/api/pms/configurations/sched-hotel", body=patch)
        assert (status, body["code"]) == (503, "SCHEDULE_UNAVAILABLE"), patch
    monkeypatch.setattr(schedules, "client", real)
    _, body = admin("GET", "/api/pms/configurations/sched-hotel")
    config = body["configuration"]
    assert (config["sync_schedule"], config["enabled"]) == ("0 */6 * * *", True)
    assert config["version"] == 5  # 1, then each failed update written (2, 4) and put back (3, 5)
    assert schedule_of("sched-hotel")["ScheduleExpression"] == "cron(0 0/6 * * ? *)"  # type: ignore[index]
    # Unrelated changes never call Scheduler: they work while it is down
    monkeypatch.setattr(schedules, "client", lambda service: failing if service == "scheduler" else real(service))
    assert admin("PATCH", "/api/pms/configurations/sched-hotel", body={"name": "Renamed"})[0] == 200
    # ... and once it is back, the same change goes through
    monkeypatch.setattr(schedules, "client", real)
    assert admin("PATCH", "/api/pms/configurations/sched-hotel", body={"sync_schedule": "15 * * * *"})[0] == 200
    assert schedule_of("sched-hotel")["ScheduleExpression"] == "cron(15 * * * ? *)"  # type: ignore[index]


def test_reconcile_repairs_missing_stale_and_orphan_schedules(aws: LocalResources) -> None:
    from bookinghub.pms.logic.schedule import reconcile

    create()
    create("other-hotel")
    group = get_settings().pms_schedule_group_name
    scheduler().delete_schedule(Name="sched-hotel", GroupName=group)  # removed by hand
    stale = schedule_of("other-hotel")
    assert stale is not None
    scheduler().update_schedule(
        Name="other-hotel",
        GroupName=group,
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=stale["Target"],
    )
    scheduler().create_schedule(
        Name="gone-hotel",
        GroupName=group,
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=stale["Target"],
    )
    assert reconcile() == {"hotels": 2, "repaired": ["other-hotel", "sched-hotel"], "removed": ["gone-hotel"]}
    assert schedule_of("sched-hotel")["ScheduleExpression"] == "cron(0 0/6 * * ? *)"  # type: ignore[index]
    assert schedule_of("other-hotel")["ScheduleExpression"] == "cron(0 0/6 * * ? *)"  # type: ignore[index]
    assert schedule_of("gone-hotel") is None
    assert reconcile() == {"hotels": 2, "repaired": [], "removed": []}


def test_the_reconcile_function_runs_from_its_sample_event(aws: LocalResources) -> None:
    from infra.local.invoke import invoke
    from tests.conftest import load_event

    create()
    scheduler().delete_schedule(Name="sched-hotel", GroupName=get_settings().pms_schedule_group_name)
    assert invoke("pms_scheduler", load_event("pms_scheduler/reconcile"))["repaired"] == ["sched-hotel"]


def fire(when: datetime) -> list[tuple[str, datetime]]:
    """The local firer's delivery (the path `make run` uses) of every schedule due at `when`."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    firer = ScheduleFirer(scheduler=scheduler(), sqs=sqs, clock=lambda: when)
    firer.refresh(datetime(2026, 1, 1, 5, 59, 30, tzinfo=UTC))
    return firer.fire_due(when)


def fetch_logs(slug: str = "sched-hotel") -> list[tuple[str, str, str | None]]:
    _, body = admin("GET", "/api/pms/sync-logs", query={"hotel_slug": slug})
    return [(log["operation"], log["status"], log.get("scheduled_time")) for log in body["syncLogs"]]


def test_a_fire_runs_one_fetch_sync_even_when_delivered_twice(aws: LocalResources) -> None:
    create()
    six = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
    assert fire(six) == [("sched-hotel", six)]
    assert fire(six) == [("sched-hotel", six)]  # Scheduler delivers at least once
    assert drain_sync(aws) == (2, 0)
    assert fetch_logs() == [("FETCH", "COMPLETED", "2026-01-01T06:00:00Z")]
    assert HOTEL_SCHEDULES.target_queue == "PMSSync"


def test_a_fire_after_disable_runs_nothing(aws: LocalResources) -> None:
    create()
    six = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
    fire(six)  # queued, then the hotel is disabled before the consumer runs
    admin("DELETE", "/api/pms/configurations/sched-hotel")
    assert drain_sync(aws) == (1, 0)
    assert fetch_logs() == []


def test_a_fire_that_died_mid_run_is_rerun_on_redelivery(aws: LocalResources, monkeypatch: pytest.MonkeyPatch) -> None:
    from bookinghub.pms.logic import sync

    create()
    six = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
    fire(six)
    real = sync.run_sync
    monkeypatch.setattr(sync, "run_sync", lambda *a, **k: (_ for _ in ()).throw(TimeoutError("Lambda timed out")))
    assert drain_sync(aws) == (1, 1)  # the first attempt fails after claiming the fire: RUNNING log left
    assert fetch_logs() == [("FETCH", "RUNNING", "2026-01-01T06:00:00Z")]
    monkeypatch.setattr(sync, "run_sync", real)
    from tests.integration.beds24.hub import let_time_pass

    let_time_pass("PMSSync")
    assert drain_sync(aws) == (1, 0)
    assert fetch_logs() == [("FETCH", "COMPLETED", "2026-01-01T06:00:00Z")]
