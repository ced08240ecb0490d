"""A batch's reads and writes around its sends (branch dispatch4): messages name their endpoint, so its
read runs beside the deliveries' BatchGetItem; the status update and the log rows are written side by
side. The guarantees stay: the delivery's own endpoint is the authority, nothing lost, nothing twice by
webhook-id, every attempt logged, stats right."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import boto3
import pytest

from bookinghub.delivery.dal.queue import AttemptMessage
from bookinghub.delivery.logic.dispatch import Report, process_batch
from bookinghub.delivery.logic.fanout import fan_out
from bookinghub.delivery.models import website_endpoint_id
from infra.local.resources import LocalResources
from tests.integration.delivery.conftest import (
    Receiver,
    Reply,
    admin_event,
    pump,
    pump_until,
    settled,
    subscription,
)

WEBSITE = website_endpoint_id("test-website")


def _queue_bodies(aws: LocalResources) -> list[dict[str, Any]]:
    """What the fan-out queued, as the consumer will read it (received, then made visible again)."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = aws.queue_urls["Deliveries"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return list({m["MessageId"]: json.loads(m["Body"]) for m in messages}.values())


def test_fanned_out_messages_name_their_endpoint_and_old_ones_still_read() -> None:
    message = AttemptMessage("d1", 2, "replay", "ep_1")
    assert AttemptMessage.from_json(message.to_json()) == message
    assert json.loads(AttemptMessage("d1", 0).to_json()) == {"delivery_id": "d1", "attempt": 0, "trigger": "scheduled"}
    assert AttemptMessage.from_json('{"delivery_id": "d1", "attempt": 0}') == AttemptMessage("d1", 0)


def test_a_named_subscription_is_read_beside_the_batch_read(
    receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subscription's partition is one Query on the side pool, beside the BatchGetItem (a website's
    items are keys of the BatchGetItem itself: tests/integration/delivery/test_batch_read_cost.py)."""
    from bookinghub.delivery.dal import deliveries
    from bookinghub.delivery.logic import dispatch

    endpoint_id, _ = subscription(receiver.url("/sub"))
    ids = [d for n in range(3) for d in fan_out(admin_event(source_booking_id=f"reads-{n}")).queued]
    bodies = _queue_bodies(delivery_env)
    assert {b["endpoint_id"] for b in bodies} == {endpoint_id}
    messages = [(AttemptMessage.from_json(json.dumps(b)), 1) for b in bodies]
    reading = threading.Event()
    seen: dict[str, bool] = {}
    read_batch, load = deliveries.read_batch, dispatch.endpoints.load

    def slow_read_batch(*args: Any, **kwargs: Any) -> Any:
        reading.set()
        time.sleep(0.3)  # a batch read as slow as a loaded AWS call
        try:
            return read_batch(*args, **kwargs)
        finally:
            reading.clear()

    def watched_load(endpoint_id: str) -> Any:
        reading.wait(2)  # counted, not timed: did the endpoint read run while the batch read was on?
        seen[endpoint_id] = reading.is_set()
        return load(endpoint_id)

    monkeypatch.setattr(deliveries, "read_batch", slow_read_batch)
    monkeypatch.setattr(dispatch.endpoints, "load", watched_load)
    outcomes = process_batch(messages)
    assert [o.outcome for o in outcomes if isinstance(o, Report)] == ["succeeded"] * len(ids)
    assert seen == {endpoint_id: True}  # read once, beside the deliveries


def test_a_wrong_or_missing_endpoint_name_still_delivers_to_the_deliverys_own_endpoint(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.delivery.dal.attempts import list_attempts
    from bookinghub.delivery.dal.endpoints import get_status

    other, _ = subscription(receiver.url("/other"))
    ids = [d for d in fan_out(admin_event(source_booking_id="hint-0")).queued]
    ids += [d for d in fan_out(admin_event(source_booking_id="hint-1")).queued]
    # each edit went to the website and the subscription; the messages name the wrong endpoint or none
    messages = [(AttemptMessage(d, 0, endpoint_id=other if n % 2 else "ep_no_such"), 1) for n, d in enumerate(ids)]
    messages[0] = (AttemptMessage(ids[0], 0), 1)
    outcomes = process_batch(messages)
    assert [o.outcome for o in outcomes if isinstance(o, Report)] == ["succeeded"] * 4
    paths = Counter(r["path"] for r in receiver.delivered())
    assert paths == {"/api/webhooks/onebooking": 2, "/other": 2}
    for endpoint_id in (WEBSITE, other):
        status = get_status(endpoint_id)
        assert (status.sent, status.succeeded, status.pending) == (2, 2, 0)
        assert len(list_attempts(endpoint_id, since="2000", until="2999")) == 2
    assert get_status("ep_no_such").sent == 0


def test_a_receiver_down_then_back_gets_every_event_once_through_the_queue(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.delivery.dal.attempts import list_attempts
    from bookinghub.delivery.dal.endpoints import get_status

    receiver.script = [Reply(503)] * 7 + [Reply(200, delay=0.05), Reply(500)]  # down, then back (one hiccup)
    events = [admin_event(source_booking_id=f"down-{n}") for n in range(6)]
    for event in events:
        fan_out(event)
    pump_until(delivery_env, settled(WEBSITE))
    delivered = receiver.delivered()
    ids = Counter(r["headers"]["webhook-id"] for r in delivered)
    assert len(ids) == 6  # none lost
    assert set(ids.values()) == {1}  # none twice by webhook-id
    status = get_status(WEBSITE)
    attempts = list_attempts(WEBSITE, since="2000", until="2999", limit=1000)
    assert status.sent == len(receiver.received) == len(attempts)
    assert (status.succeeded, status.pending, status.failed, status.consecutive_failures) == (6, 0, 0, 0)
    assert Counter(a.status for a in attempts)["succeeded"] == 6


def test_a_redelivered_message_after_its_success_is_not_sent_again(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.delivery.dal.endpoints import get_status

    fan_out(admin_event(source_booking_id="redeliver-0"))
    (body,) = _queue_bodies(delivery_env)
    pump(delivery_env)
    assert len(receiver.delivered()) == 1
    # SQS delivers at least once: the same message again (its endpoint named) is a stale one
    (again,) = process_batch([(AttemptMessage.from_json(json.dumps(body)), 2)])
    assert isinstance(again, Report)
    assert again.outcome == "skipped"
    assert len(receiver.received) == 1
    assert (get_status(WEBSITE).sent, get_status(WEBSITE).succeeded) == (1, 1)


def test_the_log_rows_are_written_when_the_status_update_fails(
    website: Any, receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.delivery.dal import endpoints as endpoint_store
    from bookinghub.delivery.dal.attempts import list_attempts
    from bookinghub.delivery.dal.deliveries import get

    ids = fan_out(admin_event(source_booking_id="flush-0")).queued
    update = endpoint_store.update_status

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("status table unavailable")

    monkeypatch.setattr(endpoint_store, "update_status", failing)
    outcomes = process_batch([(AttemptMessage(d, 0, endpoint_id=WEBSITE), 1) for d in ids])
    monkeypatch.setattr(endpoint_store, "update_status", update)
    # the outcome is on the delivery (a redelivered message is then stale), the attempt is logged
    assert [o.outcome for o in outcomes if isinstance(o, Report)] == ["succeeded"]
    stored = get(ids[0])
    assert stored is not None
    assert stored.status == "succeeded"
    assert len(list_attempts(WEBSITE, since="2000", until="2999")) == 1
