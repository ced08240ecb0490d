"""Outbox relay: domain events written beside their booking (dal/logs.event_item) go onto the queue.

The Bookings table's stream carries each new `EVENT#` item here. Sending the same event twice is
harmless: the consumers are idempotent on `event_id`. A stream record that is not an outbox insert, or
an item that is not a valid event, is logged and passed over rather than retried: it can never become
valid, and retrying it would hold back every later record of its shard.
"""

from __future__ import annotations

from typing import Any

from bookinghub.bookings.dal import queues as queue_store
from bookinghub.bookings.dal.logs import MalformedOutboxEvent, NotAnOutboxEvent, outbox_event
from bookinghub.core.observability import logger, metrics


def relay_stream_record(event_name: str | None, new_image: dict[str, Any] | None) -> str | None:
    """Relay one stream record (DynamoDB-typed NewImage); returns the SQS message id, None if passed over."""
    if event_name != "INSERT" or not new_image:
        logger.info("stream record passed over: not an insert with a new image", extra={"event_name": event_name})
        return None
    try:
        event = outbox_event(new_image)
    except NotAnOutboxEvent as other:
        logger.info("stream record passed over: not an outbox event", extra={"sk": other.sk})
        return None
    except MalformedOutboxEvent as error:
        # The item stays in the table, so it can be fixed and re-relayed by hand.
        logger.error(
            "malformed outbox event passed over", extra={"pk": error.pk, "sk": error.sk, "error": error.reason}
        )
        metrics.add_metric(name="OutboxEventMalformed", unit="Count", value=1)
        return None
    message_id = queue_store.send_booking_event(event)
    logger.info(
        "outbox event relayed",
        extra={"event_id": event.event_id, "event_type": event.event_type, "booking_id": event.booking_id},
    )
    metrics.add_metric(name="OutboxEventRelayed", unit="Count", value=1)
    return message_id
