"""The PMS bus as the topology declares it (created in moto by infra/local/pms_aws.py, as `make run` does):
a sync's pms.* events reach the rule's queue and its consumer, pms_status, out of order and twice."""

from __future__ import annotations

import json
from typing import Any

import boto3

from infra.local.resources import LocalResources
from infra.topology.pms import PMS_EVENT_BUS
from tests.integration.beds24.hub import drain
from tests.integration.pms.conftest import admin

EVENTS_QUEUE = PMS_EVENT_BUS.rules[0].queue


def queued_events(aws: LocalResources) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    received: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=aws.queue_urls[EVENTS_QUEUE], MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        received += [json.loads(m["Body"]) for m in batch]
    return received


def status_of(slug: str) -> dict[str, Any]:
    status, body = admin("GET", f"/api/pms/configurations/{slug}")
    assert status == 200, body
    return dict(body["configuration"]["sync_status"])


def test_a_manual_syncs_events_reach_the_rules_queue(aws: LocalResources, demo_hotel: Any) -> None:
    _, body = admin("POST", "/api/pms/sync/bookings", body={"hotel_slug": "demo-hotel", "limit": 3})
    received = queued_events(aws)
    assert sorted(e["detail-type"] for e in received) == ["pms.booking.synced"] * 3 + ["pms.sync.completed"]
    completed = next(e for e in received if e["detail-type"] == "pms.sync.completed")
    assert (completed["source"], completed["detail"]["syncLogId"]) == (PMS_EVENT_BUS.source, body["syncLogId"])


def test_the_consumer_keeps_the_latest_sync_per_entity(aws: LocalResources, demo_hotel: Any) -> None:
    assert status_of("demo-hotel") == {}
    _, first = admin("POST", "/api/pms/sync/bookings", body={"hotel_slug": "demo-hotel", "limit": 3})
    _, rooms = admin("POST", "/api/pms/sync/rooms", body={"hotel_slug": "demo-hotel", "limit": 5})
    assert drain(aws, EVENTS_QUEUE, "pms_status") == (5, 0)
    status = status_of("demo-hotel")
    assert status["sync_BOOKING"]["sync_log_id"] == first["syncLogId"]
    assert (status["sync_ROOM"]["sync_log_id"], status["sync_ROOM"]["processed"]) == (rooms["syncLogId"], 5)
    assert status["last_booking"]["outcome"] in ("created", "updated", "unchanged")


def test_an_older_or_repeated_event_never_replaces_newer_news(aws: LocalResources, demo_hotel: Any) -> None:
    from bookinghub.pms.logic.status import apply_event

    def completed(log_id: str, at: str) -> dict[str, Any]:
        detail = {
            "syncLogId": log_id,
            "hotelSlug": "demo-hotel",
            "provider": "mock",
            "entityType": "GUEST",
            "operation": "FETCH",
            "status": "COMPLETED",
            "processed": 1,
            "failed": 0,
            "duration": 5,
        }
        return {"detail-type": "pms.sync.completed", "time": at, "detail": detail}

    assert apply_event(completed("newer", "2026-01-01T06:05:00Z")) is True
    assert apply_event(completed("older", "2026-01-01T06:00:00Z")) is False  # arrived late
    assert apply_event(completed("newer", "2026-01-01T06:05:00Z")) is True  # redelivered: same news again
    assert status_of("demo-hotel")["sync_GUEST"]["sync_log_id"] == "newer"
    stray = {"detail-type": "pms.other", "time": "2026-01-01T06:05:00Z", "detail": {"hotelSlug": "x"}}
    assert apply_event(stray) is False
