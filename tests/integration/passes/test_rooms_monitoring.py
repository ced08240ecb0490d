"""The seed's three monitoring queries: integration status, recent calls, failed calls."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bookinghub.rooms.logic import monitoring as rooms_monitoring
from infra.local.resources import LocalResources
from tests.integration.passes.conftest import (
    GUEST_EMAIL,
    RoomsSandbox,
    let_backoff_pass,
    metadata,
    post_stripe,
    run_consumer,
    stripe_event,
)


def test_monitoring_queries(hub: Any, aws: LocalResources, rooms: RoomsSandbox) -> None:
    (status,) = rooms_monitoring.integration_status()
    assert status["name"] == "Zezamii Pass (local sandbox)"
    assert (status["integration_type"], status["status"], status["last_used_at"]) == ("rooms_event_hub", "active", None)
    assert status["organisation_id"] == "demo-org"

    rooms.misbehave(times=1, fail_with=502)
    post_stripe(stripe_event())
    second = stripe_event("payment_intent_succeeded", id="evt_second", object={"id": "pi_second"})
    second["data"]["object"]["metadata"] = metadata(lock_id="lock-2")
    post_stripe(second)
    messages, _ = run_consumer(aws)  # one of the two fails (502), the other gets its pincode
    let_backoff_pass(aws, messages)
    run_consumer(aws)

    recent = rooms_monitoring.recent_calls()
    assert [call["status"] for call in recent] == ["success", "success", "error"]  # newest first
    assert recent[0]["created_at"] >= recent[1]["created_at"] >= recent[2]["created_at"]
    assert {call["lock_id"] for call in recent} == {"access-point-uuid-or-identifier", "lock-2"}
    assert [call["pincode_returned"] for call in recent] == [True, True, False]
    assert rooms_monitoring.recent_calls(limit=1) == recent[:1]

    (failed,) = rooms_monitoring.failed_calls()
    assert (failed["status"], failed["http_status_code"]) == ("error", 502)
    assert failed["error_message"].startswith("HTTP 502")
    assert failed["request_payload"]["guestEmail"] == "j***@example.com"

    pincodes = [call["pincode"] for call in rooms.calls() if call.get("pincode")]
    shown = json.dumps([recent, failed, rooms_monitoring.integration_status()])
    assert pincodes
    assert not any(pincode in shown for pincode in pincodes)
    assert GUEST_EMAIL not in shown
    # last_used_at is stamped at most every LAST_USED_RESOLUTION_SECONDS (5 min): here by the first call
    assert rooms_monitoring.integration_status()[0]["last_used_at"] == recent[-1]["created_at"]


def test_limits_are_bounded(hub: Any) -> None:
    with pytest.raises(ValueError, match="limit"):
        rooms_monitoring.recent_calls(limit=0)
    with pytest.raises(ValueError, match="limit"):
        rooms_monitoring.failed_calls(limit=10_000)
