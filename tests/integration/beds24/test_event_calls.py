"""A webhook event's Beds24 calls and property reads (issue 11, cost): the re-read's log rides on the event's
final write (no row of its own), a failed call is a row at once, a success whose event was not finished
(deferred, failed run) is a row after all; the property is read from this environment's recent reads, and
an operator's edit is seen at once here and within RECENT_PROPERTY_SECONDS elsewhere."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local.resources import LocalResources
from tests.integration.beds24.hub import (
    PROPERTY,
    deliver,
    drain_events,
    queued_bodies,
    reservation,
    run_consumer,
    set_property,
    stored_event,
)
from tests.integration.beds24.meter import DynamoMeter
from tests.integration.beds24.sandbox import Sandbox
from tests.integration.conftest import DEMO_ORG

LOG_PARTITION = f"INTLOG#{DEMO_ORG}/{PROPERTY}"


def _rows(meter: DynamoMeter) -> list[dict[str, Any]]:
    """The integration log rows written while metered, as plain values."""
    return [
        {name: next(iter(value.values())) for name, value in r.params["Item"].items()}
        for r in meter.writes_to(LOG_PARTITION)
    ]


def _event_of(booking_id: int, beds24: Sandbox) -> tuple[str, Any]:
    status, answer = deliver(beds24.webhooks(booking_id)[-1])
    assert (status, answer["status"]) == (200, "queued")
    return answer["event_key"], answer


def test_the_reread_s_log_is_on_the_event_and_a_failed_attempt_is_a_row(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    first = beds24.create()
    key, _ = _event_of(first, beds24)
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    # A cold environment mints a token: that call is a row (it serves later events too); the read is not
    assert [(row["operation"], row["status"]) for row in _rows(meter)] == [("token", "success")]
    event = stored_event(key) or {}
    (call,) = event["calls"]
    assert (call["operation"], call["http_status_code"]) == ("get_bookings", 200)
    assert call["duration_ms"] >= 0
    assert call["credits_remaining"] > 0
    # The item does not repeat what its key says; the record does
    assert (event["beds24_booking_id"], event["beds24_property_id"]) == (first, 12345)
    assert event["modified_time"] == key.split("#")[0]

    second = beds24.create()
    key, _ = _event_of(second, beds24)
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    assert _rows(meter) == []  # warm: the event's final write is the only log of its call
    assert len((stored_event(key) or {})["calls"]) == 1

    beds24.modify(second, price=12000)
    key, _ = _event_of(second, beds24)
    beds24.control(fail_with=503, times=1)  # the first attempt fails, the client's retry succeeds
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    (failed,) = _rows(meter)
    assert (failed["operation"], failed["status"], failed["http_status_code"]) == ("get_bookings", "error", "503")
    assert "GSI1PK" in failed  # failures are listed by type
    event = stored_event(key) or {}
    assert (event["status"], [c["http_status_code"] for c in event["calls"]]) == ("processed", [200])
    assert (reservation(second) or {})["price"] == 12000


def test_a_success_whose_event_is_not_finished_is_a_row(
    aws: LocalResources, beds24: Sandbox, prop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.beds24.logic import events

    booking_id = beds24.create()
    key, _ = _event_of(booking_id, beds24)
    # A run started during the Beds24 read: the new reservation waits for it
    monkeypatch.setattr(events, "_run_in_progress", lambda prop: True)
    with DynamoMeter() as meter:
        assert run_consumer(aws, "Beds24Events", "beds24_events") == (1, 0)
    assert ("get_bookings", "success") in [(row["operation"], row["status"]) for row in _rows(meter)]
    assert stored_event(key) is None  # not recorded yet: queued again, its message says it waited once
    (waiting,) = queued_bodies("Beds24Events")
    assert json.loads(waiting)["deferrals"] == 1
    assert reservation(booking_id) is None

    beds24.control(fail_with=500, times=3)  # every attempt: the run fails, SQS delivers it again
    monkeypatch.setattr(events, "_run_in_progress", lambda prop: False)
    from tests.integration.beds24.hub import let_time_pass

    let_time_pass("Beds24Events")
    with DynamoMeter() as meter:
        assert run_consumer(aws, "Beds24Events", "beds24_events") == (1, 1)
    assert [row["status"] for row in _rows(meter)] == ["error", "error", "error"]
    let_time_pass("Beds24Events")
    assert drain_events(aws) == (1, 0)
    event = stored_event(key) or {}
    assert (event["status"], event["deferrals"]) == ("processed", 1)
    assert reservation(booking_id) is not None


def test_the_property_is_read_from_recent_reads_and_an_edit_is_seen(
    aws: LocalResources, beds24: Sandbox, prop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.aws.clients import client
    from bookinghub.aws.codec import to_attr
    from bookinghub.beds24.dal import properties
    from bookinghub.core.settings import get_settings

    property_key = {"PK": {"S": f"ORG#{DEMO_ORG}"}, "SK": {"S": f"INTEGRATION#beds24#{PROPERTY}"}}

    def property_reads(meter: DynamoMeter) -> list[bool]:
        """Each read of the property: consistent or not."""
        reads = [r for r in meter.requests if r.operation == "GetItem" and r.params["Key"] == property_key]
        return [bool(r.params.get("ConsistentRead")) for r in reads]

    first = beds24.create()
    _event_of(first, beds24)
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    # Read, then the token it minted saved (this environment's own change: the recent read is dropped)
    assert property_reads(meter) == [False, True]
    second = beds24.create()
    _event_of(second, beds24)
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    assert property_reads(meter) == [False, True]
    third = beds24.create()
    _event_of(third, beds24)
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    assert property_reads(meter) == [True]  # only the consistent read before writing

    set_property(room_mapping={"501": "Sea View"})  # an edit in this environment: seen at once
    beds24.modify(second, price=9100)
    _event_of(second, beds24)
    assert drain_events(aws) == (1, 0)
    assert (reservation(second) or {})["room"] == "Sea View"

    # An edit made elsewhere (another execution environment): seen once the recent read is old enough
    client("dynamodb").update_item(
        TableName=get_settings().bookings_table,
        Key=property_key,
        UpdateExpression="SET reread_on_webhook = :off",
        ExpressionAttributeValues={":off": to_attr(False)},
    )
    beds24.reset_calls()
    beds24.modify(second, price=9200)
    _event_of(second, beds24)
    assert drain_events(aws) == (1, 0)
    assert len(beds24.calls()) == 1  # still re-read: this environment read the property a moment ago
    monkeypatch.setattr(properties, "RECENT_PROPERTY_SECONDS", 0)
    beds24.reset_calls()
    beds24.modify(second, price=9300)
    _event_of(second, beds24)
    assert drain_events(aws) == (1, 0)
    assert beds24.calls() == []  # the edit is seen: the webhook's own booking applied
    assert (reservation(second) or {})["price"] == 9300
