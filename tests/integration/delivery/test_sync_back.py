"""Seed 002 sync back through the delivery system: fan-out, signed both ways, retried, never echoed."""

from __future__ import annotations

import json
from typing import Any

from standardwebhooks.webhooks import Webhook

from bookinghub.delivery.logic.fanout import fan_out
from bookinghub.delivery.logic.signing import standard_key
from bookinghub.delivery.models import website_endpoint_id
from infra.local.resources import LocalResources
from tests.integration.delivery.conftest import SECRET, Receiver, Reply, admin_event, bodies, deliveries_of, pump
from tests.unit.delivery.test_signing import verify_webhook_signature

ENDPOINT = website_endpoint_id("test-website")


def test_admin_edit_reaches_the_website_signed_both_ways(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    event = admin_event()
    result = fan_out(event)
    assert len(result.queued) == 1
    pump(delivery_env)
    [got] = receiver.delivered()
    assert got["path"] == "/api/webhooks/onebooking"
    headers = got["headers"]
    assert verify_webhook_signature(got["body"], headers["X-Webhook-Signature"], SECRET, headers["X-Webhook-Timestamp"])
    assert Webhook(standard_key(SECRET)).verify(got["body"], headers)  # a non-base64 secret: its UTF-8 is the key
    body = json.loads(got["body"])
    assert body["event"] == "booking.status_changed"
    assert body["source_booking_id"] == "src-booking-0001"
    assert body["updated_fields"] == ["admin_notes", "status"]
    assert body["data"] == {"status": "cancelled", "admin_notes": "flight changed"}
    assert body["updated_by"] == "ops@example.com"
    assert isinstance(body["sequence"], int)
    [delivery] = deliveries_of(ENDPOINT)
    assert delivery.status == "succeeded"
    assert delivery.attempts == 1
    assert headers["webhook-id"] == delivery.webhook_id


def test_a_website_change_is_not_echoed_and_nothing_is_queued(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    result = fan_out(admin_event(origin="website:test-website", actor=None))
    assert result.queued == []
    assert "came from this website" in result.skipped[0]
    assert pump(delivery_env) == 0
    assert deliveries_of(ENDPOINT) == []


def test_retried_until_delivered_same_webhook_id(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    receiver.script = [Reply(503), Reply(500), Reply(429, headers={"Retry-After": "0"})]
    fan_out(admin_event())
    pump(delivery_env)
    assert [r["answered"] for r in receiver.received] == [503, 500, 429, 200]
    assert len({r["headers"]["webhook-id"] for r in receiver.received}) == 1
    [delivery] = deliveries_of(ENDPOINT)
    assert delivery.status == "succeeded"
    assert delivery.attempts == 4


def test_redelivered_event_and_duplicate_messages_post_once(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.delivery.dal.queue import AttemptMessage, send

    event = admin_event()
    fan_out(event)
    fan_out(event)  # the BookingEvents message came twice
    [delivery] = deliveries_of(ENDPOINT)
    send([AttemptMessage(delivery.id, 0)] * 3)  # and stray copies of its first attempt
    pump(delivery_env)
    assert len(bodies(receiver)) == 1


def test_permanent_refusal_fails_without_retry(website: Any, receiver: Receiver, delivery_env: LocalResources) -> None:
    receiver.script = [Reply(422, body="bad booking")]
    fan_out(admin_event())
    pump(delivery_env)
    assert len(receiver.received) == 1
    [delivery] = deliveries_of(ENDPOINT)
    assert delivery.status == "failed"
    assert "422" in (delivery.last_error or "")
