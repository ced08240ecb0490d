"""Outbox relay: each booking change on the Bookings stream becomes its domain event.

A booking write stamps its change on the item (dal/bookings.py: event id, origin, type, changed fields);
from the record's old and new images the relay builds the BookingDomainEvent, writes its timeline item
(`EVENT#`, idempotent by event id: the realtime feed and `GET /api/bookings/{id}/events` read those;
for a website's sync it is also the sync's log row), then checks the realtime watches of its keys and
marks the item for the realtime broadcaster only if one is watched, and
queues it for delivery, unless it is the website's own change and no subscription of the organisation
wants it (the echo is decided here, before anything is queued). Events written as items on their own
(a test webhook, the PMS outbox) are queued from their insert. Sending the same event twice is
harmless: the consumers are idempotent on `event_id`. A record that is neither, or an item that is not
a valid event, is passed over rather than retried: it can never become valid, and retrying it would
hold back every later record of its shard.
"""

from __future__ import annotations

from typing import Any

from bookinghub.aws import keys
from bookinghub.bookings.dal import queues as queue_store
from bookinghub.bookings.dal.bookings import change_event, change_sequence, made_by_sync
from bookinghub.bookings.dal.logs import (
    CHECK_WATCHES,
    MalformedOutboxEvent,
    NotAnOutboxEvent,
    hand_to_realtime,
    outbox_event,
    put_timeline_event,
)
from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.core.observability import logger, metrics


def relay_stream_record(
    event_name: str | None, new_image: dict[str, Any] | None, old_image: dict[str, Any] | None = None
) -> str | None:
    """Relay one stream record (DynamoDB-typed images); returns the SQS message id, None if not queued."""
    if event_name not in ("INSERT", "MODIFY") or not new_image:
        return None
    if new_image.get("SK", {}).get("S") == keys.BOOKING_SK:
        try:
            change = change_event(new_image, old_image)
        except (KeyError, ValueError) as error:  # pydantic's ValidationError is a ValueError
            logger.error("malformed booking change passed over", extra={"pk": new_image.get("PK"), "error": str(error)})
            metrics.add_metric(name="OutboxEventMalformed", unit="Count", value=1)
            return None
        if change is None:
            return None  # a write that made no event (no stamp of its own)
        # A website's sync: its timeline item is its seed 002 sync log too. The item is also the event's
        # place in its booking's realtime order, at the sequence the change's write gave it.
        sequence = change_sequence(new_image, old_image)
        put_timeline_event(change, inbound_sync=made_by_sync(new_image, old_image), sequence=sequence)
        _hand_to_realtime(change, new_image, numbered=sequence is not None)
        if not _wanted(change):
            _relayed(change, queued=False)
            metrics.add_metric(name="EchoNotQueued", unit="Count", value=1)
            return None
        return _send(change)
    if event_name != "INSERT" or new_image.get("relayed", {}).get("BOOL"):
        return None  # a timeline item the relay wrote itself: its event is queued already
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
    return _send(event)


def _hand_to_realtime(change: BookingDomainEvent, new_image: dict[str, Any], *, numbered: bool) -> None:
    """Hand the change's event item to the realtime broadcaster only if one of its keys is watched,
    checked now that the item is written (bookinghub/realtime/logic/watch.py says why it must be after):
    a change nobody watches never invokes the broadcaster. An item without a sequence (a change written
    by an older writer) is always handed on, for the broadcaster to number it."""
    if not numbered:
        hand_to_realtime(change, CHECK_WATCHES)
        return
    # Imported here: the relay loads the realtime package only once it has a change to check
    from bookinghub.realtime.logic.watch import encode_watched, watched_keys

    email = (new_image.get("customer_email") or {}).get("S")  # the booking as the change left it
    watched = watched_keys(change, str(email).strip().lower() if email else None)
    if watched:
        hand_to_realtime(change, encode_watched(watched))


# How old the organisation's subscriptions may be when the relay decides a website's own change is an
# echo nobody wants: a new subscription (read fresh by the consumer for every queued event) gets such
# changes from at most this long after it is made. One Query per organisation per period, not per change.
SUBSCRIPTIONS_MAX_AGE_SECONDS = 30.0


def _wanted(event: BookingDomainEvent) -> bool:
    """Whether a delivery could come of it: not a website's own change (never synced back to it), or
    an organisation subscription matches it (instead of a message and a consumer run)."""
    # Imported here: the fan-out's dependencies are not the relay's to load at start
    from bookinghub.delivery.dal import endpoints as endpoint_store
    from bookinghub.delivery.logic.fanout import echo_reason

    if echo_reason(event) is None:
        return True
    subscriptions = endpoint_store.recent_endpoints(
        event.organisation_id, max_age_seconds=SUBSCRIPTIONS_MAX_AGE_SECONDS
    )
    return any(e.matches(event.event_type, event.website_id) for e in subscriptions)


def _send(event: BookingDomainEvent) -> str:
    message_id = queue_store.send_booking_event(event)
    _relayed(event, queued=True)
    metrics.add_metric(name="OutboxEventRelayed", unit="Count", value=1)
    return message_id


def _relayed(event: BookingDomainEvent, *, queued: bool) -> None:
    # A debug line: the relay's durable trace is the event's timeline item (`relayed`), its queueing the
    # message, and the metrics count both (CloudWatch Logs are paid per byte, ~550 for this line)
    logger.debug(
        "outbox event relayed",
        extra={
            "event_id": event.event_id,
            "event_type": event.event_type,
            "booking_id": event.booking_id,
            "queued": queued,
        },
    )
