"""Manual and queued syncs: the seed's summary, sync logs read back, Cloudbeds through its sandbox, and a
failing provider leaving a FAILED log and the hub's data as it was (scheduled ones: test_schedules.py)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.resources import LocalResources
from infra.local.sandbox.cloudbeds import CloudbedsSandbox
from tests.integration.admin.conftest import claims
from tests.integration.conftest import snapshot_tables
from tests.integration.pms.conftest import admin, drain_sync, hub_bookings


def sync(entity: str, **body: Any) -> tuple[int, dict[str, Any]]:
    return admin("POST", f"/api/pms/sync/{entity}", body=body)


def read_log(log_id: str) -> dict[str, Any]:
    status, body = admin("GET", f"/api/pms/sync-logs/{log_id}")
    assert status == 200, body
    return dict(body["syncLog"])


def test_manual_booking_sync_answers_the_seed_summary(aws: LocalResources, demo_hotel: Any) -> None:
    status, body = sync("bookings", provider="mock", hotel_slug="demo-hotel", limit=100)
    assert status == 200, body
    assert body["success"] is True
    assert set(body["summary"]) == {"processed", "failed", "duration"}
    assert (body["summary"]["processed"], body["summary"]["failed"]) == (30, 0)
    log = read_log(body["syncLogId"])
    assert (log["status"], log["operation"], log["entity_type"]) == ("COMPLETED", "MANUAL", "BOOKING")
    assert (log["items_processed"], log["duration_ms"]) == (30, body["summary"]["duration"])
    assert len(hub_bookings()) == 30


def test_a_repeated_sync_changes_nothing(aws: LocalResources, demo_hotel: Any) -> None:
    sync("bookings", hotel_slug="demo-hotel")
    before = snapshot_tables()
    sync("bookings", hotel_slug="demo-hotel")
    after = snapshot_tables()
    assert after["Bookings"] == before["Bookings"]  # no booking rewritten, no second outbox event
    assert len(after["IntegrationLogs"]) == len(before["IntegrationLogs"]) + 1  # only the new run's log


def test_since_and_limit_reach_the_provider(aws: LocalResources, demo_hotel: Any) -> None:
    _, body = sync("bookings", hotel_slug="demo-hotel", since="2025-12-05T00:00:00Z", limit=5)
    assert body["summary"]["processed"] == 5
    assert read_log(body["syncLogId"])["since"].startswith("2025-12-05")


def test_rooms_and_guests_sync(aws: LocalResources, demo_hotel: Any) -> None:
    _, rooms = sync("rooms", hotel_slug="demo-hotel", limit=500)
    _, guests = sync("guests", hotel_slug="demo-hotel", limit=500)
    assert rooms["summary"]["processed"] == 12
    assert guests["summary"]["processed"] == 20
    assert read_log(guests["syncLogId"])["entity_type"] == "GUEST"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"provider": "opera", "hotel_slug": "demo-hotel"}, 404, "UNKNOWN_PROVIDER"),
        ({"provider": "cloudbeds", "hotel_slug": "demo-hotel"}, 400, "INVALID_PAYLOAD"),
        ({"provider": "mock"}, 400, "INVALID_PAYLOAD"),
        ({"hotel_slug": "elsewhere"}, 404, "HOTEL_NOT_FOUND"),
        ({"hotel_slug": "demo-hotel", "limit": 0}, 400, "INVALID_PAYLOAD"),
    ],
)
def test_bad_sync_requests(aws: LocalResources, demo_hotel: Any, body: dict[str, Any], status: int, code: str) -> None:
    before = snapshot_tables()
    answer_status, answer = sync("bookings", **body)
    assert (answer_status, answer["code"]) == (status, code)
    assert snapshot_tables() == before


def test_staff_may_not_sync_and_another_tenant_sees_nothing(aws: LocalResources, demo_hotel: Any) -> None:
    status, body = admin(
        "POST",
        "/api/pms/sync/bookings",
        body={"hotel_slug": "demo-hotel"},
        caller=claims("staff", websites=("pms:demo-hotel",)),
    )
    assert (status, body["code"]) == (403, "FORBIDDEN")
    status, body = admin(
        "POST", "/api/pms/sync/bookings", body={"hotel_slug": "demo-hotel"}, caller=claims("admin", org="rival-org")
    )
    assert (status, body["code"]) == (404, "HOTEL_NOT_FOUND")
    assert admin("POST", "/api/pms/sync/bookings", body={"hotel_slug": "demo-hotel"}, caller=None)[0] == 401


def test_a_long_sync_runs_on_the_queue(aws: LocalResources, demo_hotel: Any) -> None:
    status, body = sync("bookings", hotel_slug="demo-hotel", asynchronous=True)
    assert (status, body["status"]) == (202, "RUNNING")
    assert read_log(body["syncLogId"])["status"] == "RUNNING"
    assert drain_sync(aws) == (1, 0)
    log = read_log(body["syncLogId"])
    assert (log["status"], log["items_processed"]) == ("COMPLETED", 30)
    assert drain_sync(aws) == (0, 0)


def test_cloudbeds_sandbox_hotel_syncs_reservations_rooms_and_guests(
    aws: LocalResources, cloudbeds: tuple[CloudbedsSandbox, str], cloudbeds_hotel: Any
) -> None:
    sandbox, _ = cloudbeds
    _, bookings = sync("bookings", hotel_slug="cb-hotel")
    _, rooms = sync("rooms", hotel_slug="cb-hotel")
    _, guests = sync("guests", hotel_slug="cb-hotel")
    assert [b["summary"]["processed"] for b in (bookings, rooms, guests)] == [12, 25, 12]
    listed = {b["source_booking_id"]: b for b in hub_bookings()}
    assert len(listed) == 12
    for reservation_id, reservation in sandbox.reservations.items():
        assert listed[reservation_id]["total_amount_cents"] == reservation["total"] * 100
    assert {b["pms_status"] for b in listed.values()} == {
        "PENDING",
        "CONFIRMED",
        "CANCELLED",
        "CHECKED_IN",
        "CHECKED_OUT",
        "NO_SHOW",
    }


def test_a_failing_provider_leaves_a_failed_log_and_no_partial_data(
    aws: LocalResources, cloudbeds: tuple[CloudbedsSandbox, str], cloudbeds_hotel: Any
) -> None:
    sandbox, _ = cloudbeds
    sandbox.failures.extend([(503, None)] * 4)
    sandbox.fail_after = 2  # rooms: housekeeping and the first rooms page answer, the second page never does
    before = snapshot_tables()
    status, body = sync("rooms", hotel_slug="cb-hotel")
    assert (status, body["success"]) == (200, False)
    log = read_log(body["syncLogId"])
    assert log["status"] == "FAILED"
    assert "provider" in log["error"]
    assert snapshot_tables()["Bookings"] == before["Bookings"]  # not one room of the first page written
    status, body = sync("rooms", hotel_slug="cb-hotel")  # the provider is back
    assert body["summary"]["processed"] == 25


def test_a_record_that_does_not_map_is_a_failed_item(
    aws: LocalResources, cloudbeds: tuple[CloudbedsSandbox, str], cloudbeds_hotel: Any
) -> None:
    sandbox, _ = cloudbeds
    sandbox.reservations["CB880003"]["status"] = "in_progress"
    _, body = sync("bookings", hotel_slug="cb-hotel")
    assert (body["success"], body["summary"]["processed"], body["summary"]["failed"]) == (True, 11, 1)
