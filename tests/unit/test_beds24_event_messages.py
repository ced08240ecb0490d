"""Beds24Events messages (issue 11): a message is the webhook event itself (its receipt until the consumer
records it), and the consumer's last receive is the queue's last before the DLQ."""

from __future__ import annotations

import json

from infra import topology


def test_a_queued_event_survives_its_message_and_an_older_message_is_a_reference() -> None:
    from bookinghub.beds24.dal.queues import QueuedEvent
    from bookinghub.beds24.dal.runs import EventRef

    ref = EventRef("demo-org", "beach-hotel", "2026-12-01T10:00:00Z#40000001#live#12345")
    event = QueuedEvent(
        ref, received_at="2026-12-01T10:00:01Z", authenticated_by="token", hint="modified", sealed="dk1:a:b"
    )
    message = json.loads(json.dumps(event.message()))
    assert "deferrals" not in message  # only once it waited
    assert QueuedEvent.from_message(message) == event
    waited = QueuedEvent(
        ref, received_at="x", authenticated_by="signature", hint="deleted", sealed="dk1:c:d", deferrals=2
    )
    assert QueuedEvent.from_message(json.loads(json.dumps(waited.message()))) == waited
    assert QueuedEvent.from_message(ref.message()) is None  # names an event the webhook stored


def test_the_consumer_records_a_failure_on_the_queue_s_last_receive() -> None:
    from bookinghub.beds24.logic.events import MAX_RECEIVES

    (queue,) = [q for q in topology.QUEUES if q.name == "Beds24Events"]
    assert queue.max_receive_count == MAX_RECEIVES
