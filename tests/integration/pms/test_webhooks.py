"""POST /api/pms/{provider}/bookings: the seed's curl, token cases with nothing stored on reject,
redelivery, correlation ids, and the consumer's re-fetch from Cloudbeds with the provider down then back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from infra.local.resources import LocalResources
from infra.local.sandbox.cloudbeds import CloudbedsSandbox
from tests.integration.beds24.hub import let_time_pass
from tests.integration.conftest import snapshot_tables
from tests.integration.pms.conftest import (
    CB_TOKEN,
    SEED_BODY,
    admin,
    drain_events,
    hub_bookings,
    post_webhook,
)


def test_seed_curl_stores_a_booking_listed_by_get_api_bookings(aws: LocalResources, demo_hotel: Any) -> None:
    status, body = post_webhook(SEED_BODY)
    assert (status, body["success"], body["status"]) == (200, True, "queued")
    assert hub_bookings() == []  # acknowledged before it is applied
    assert drain_events(aws) == (1, 0)
    [booking] = hub_bookings()
    assert booking["source_booking_id"] == "test-booking-001"
    assert booking["status"] == "confirmed"
    assert (booking["total_amount_cents"], booking["currency"]) == (75000, "USD")
    assert (booking["activity_date"], booking["room_number"]) == ("2025-12-20", "305")
    assert booking["customer_email"] == "jane@example.com"
    assert booking["guest_id"]  # matched (created) through the hub's guest matching
    status, logs = admin("GET", "/api/pms/sync-logs", query={"hotel_slug": "demo-hotel"})
    assert status == 200
    assert [(log["operation"], log["entity_type"], log["status"]) for log in logs["syncLogs"]] == [
        ("WEBHOOK", "BOOKING", "COMPLETED")
    ]


def test_a_redelivery_is_acknowledged_and_writes_nothing(aws: LocalResources, demo_hotel: Any) -> None:
    post_webhook(SEED_BODY)
    drain_events(aws)
    before = snapshot_tables()
    status, body = post_webhook(SEED_BODY)
    assert (status, body["status"]) == (200, "duplicate")
    assert drain_events(aws) == (0, 0)
    assert snapshot_tables() == before


def test_a_change_updates_the_same_booking(aws: LocalResources, demo_hotel: Any) -> None:
    post_webhook(SEED_BODY)
    drain_events(aws)
    post_webhook({"booking": {**SEED_BODY["booking"], "status": "cancelled"}})
    drain_events(aws)
    [booking] = hub_bookings()
    assert booking["status"] == "cancelled"
    assert booking["pms_status"] == "CANCELLED"
    assert booking["version"] == 2


REJECTIONS = [
    ({"provider": "opera"}, 404, "UNKNOWN_PROVIDER"),
    ({"token": None}, 401, "INVALID_PROVIDER_TOKEN"),
    ({"token": "mock_dev_token_124"}, 401, "INVALID_PROVIDER_TOKEN"),
    ({"slug": None}, 400, "INVALID_PAYLOAD"),
    ({"slug": "no-such-hotel"}, 404, "HOTEL_NOT_FOUND"),
    ({"provider": "cloudbeds"}, 404, "HOTEL_NOT_FOUND"),  # the hotel is not on Cloudbeds
]


@pytest.mark.parametrize(("change", "status", "code"), REJECTIONS)
def test_rejections_store_nothing(
    aws: LocalResources, demo_hotel: Any, change: dict[str, Any], status: int, code: str
) -> None:
    before = snapshot_tables()
    answer_status, answer = post_webhook(SEED_BODY, **change)
    assert (answer_status, answer["code"]) == (status, code)
    assert snapshot_tables() == before
    assert drain_events(aws) == (0, 0)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        {"booking": "x"},
        {"booking": {**SEED_BODY["booking"], "status": "maybe"}},
        {"booking": {**SEED_BODY["booking"], "totals": {"amount": 1}}},
    ],
)
def test_bad_bodies_are_400_and_store_nothing(aws: LocalResources, demo_hotel: Any, body: Any) -> None:
    before = snapshot_tables()
    status, answer = post_webhook(body)
    assert (status, answer["code"]) == (400, "INVALID_PAYLOAD")
    assert snapshot_tables() == before


def test_a_disabled_hotel_is_refused(aws: LocalResources, demo_hotel: Any) -> None:
    admin("DELETE", "/api/pms/configurations/demo-hotel")
    before = snapshot_tables()
    status, answer = post_webhook(SEED_BODY)
    assert (status, answer["code"]) == (409, "PMS_DISABLED")
    assert snapshot_tables() == before


def test_the_correlation_id_is_on_every_log_line(
    aws: LocalResources, demo_hotel: Any, captured_logs: Callable[[], str]
) -> None:
    post_webhook(SEED_BODY, headers={"x-correlation-id": "corr-42"})
    drain_events(aws)
    lines = [json.loads(line) for line in captured_logs().splitlines() if line.startswith("{")]
    pms_lines = [line for line in lines if "pms" in line.get("message", "")]
    assert {"pms webhook received", "pms webhook applied"} <= {line["message"] for line in pms_lines}
    assert all(line.get("correlation_id") == "corr-42" for line in pms_lines)


def cloudbeds_hook(reservation_id: str = "CB880004") -> dict[str, Any]:
    return {
        "version": "1.0",
        "event": "reservation/status_changed",
        "timestamp": 1767000000.5,
        "propertyID": 200001,
        "reservationID": reservation_id,
    }


def test_cloudbeds_webhook_with_the_token_in_the_url_is_refetched(
    aws: LocalResources, cloudbeds: tuple[CloudbedsSandbox, str], cloudbeds_hotel: Any
) -> None:
    sandbox, _ = cloudbeds
    status, body = post_webhook(
        cloudbeds_hook(), provider="cloudbeds", slug=None, token=None, query={"hotel": "cb-hotel", "token": CB_TOKEN}
    )
    assert (status, body["externalId"]) == (200, "CB880004")
    assert sandbox.calls == []  # acknowledged without calling Cloudbeds
    drain_events(aws)
    [booking] = hub_bookings()
    stored = sandbox.reservations["CB880004"]
    assert booking["total_amount_cents"] == stored["total"] * 100
    assert booking["currency"] == "THB"
    assert [c["path"] for c in sandbox.calls] == ["getReservationsWithRateDetails"]


def test_cloudbeds_down_then_back(
    aws: LocalResources, cloudbeds: tuple[CloudbedsSandbox, str], cloudbeds_hotel: Any, fast_retries: list[float]
) -> None:
    sandbox, _ = cloudbeds
    sandbox.failures.extend([(503, None)] * 4)  # the first attempt and its 3 retries
    post_webhook(cloudbeds_hook(), provider="cloudbeds", slug="cb-hotel", token=CB_TOKEN)
    assert drain_events(aws) == (1, 1)  # failed: left on the queue for SQS to retry
    assert fast_retries == [1.0, 2.0, 4.0]
    assert hub_bookings() == []
    let_time_pass("PMSEvents")
    assert drain_events(aws) == (1, 0)
    [booking] = hub_bookings()
    assert booking["source_booking_id"] == "CB880004"


def test_an_older_change_sent_again_is_applied_again(aws: LocalResources, demo_hotel: Any) -> None:
    cancelled = {"booking": {**SEED_BODY["booking"], "status": "cancelled"}}
    for body in (SEED_BODY, cancelled, SEED_BODY):  # confirmed, cancelled, confirmed again
        status, answer = post_webhook(body)
        assert (status, answer["status"]) == (200, "queued")
        drain_events(aws)
    [booking] = hub_bookings()
    assert (booking["status"], booking["version"]) == ("confirmed", 3)
    assert post_webhook(SEED_BODY)[1]["status"] == "duplicate"  # now it is the latest: a redelivery
