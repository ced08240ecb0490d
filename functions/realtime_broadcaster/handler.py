"""Bookings table stream (event items) -> watched keys' timelines -> matching WebSocket connections.

A second consumer of the stream the outbox relay reads (a DynamoDB stream serves two), so the webhook
path is untouched. Its filter takes two kinds of record: the relay's marking of an event item it found
watched (the keys it found ride on the item), and an event item written on its own (no `relayed`: the
PMS outbox, conflict events), numbered here first and its watches read here. The item is the event's
place in its booking's order, at the sequence its write gave it. A booking's
items share a shard and arrive in order; once one of them fails, the later ones of the same booking in the
batch fail too without being tried, so the stream redelivers them in order.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.aws.codec import from_item
from bookinghub.bookings.dal.logs import CHECK_WATCHES, REALTIME_WATCHED, SEQUENCE, claim_sequence
from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.realtime.logic.broadcast import broadcast

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
_failed_bookings: set[str] = set()


class HeldBack(Exception):
    """An earlier event of the same booking failed in this batch: this one waits for its retry."""


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    image = (record.raw_event.get("dynamodb") or {}).get("NewImage")
    if not image:
        return
    item = from_item(image)
    booking_id = str(item.get("booking_id", ""))
    if booking_id in _failed_bookings:
        raise HeldBack(booking_id)
    mark = item.get(REALTIME_WATCHED)  # what the relay found watched; none or CHECK_WATCHES: check here
    try:
        if SEQUENCE not in item:
            numbered = claim_sequence(item)
            if numbered is None:  # its booking (or the item) is gone: nothing to place it after
                logger.info("event item of no booking passed over", extra={"sk": item.get("SK")})
                return
            item = numbered
        broadcast(item, mark=None if mark in (None, CHECK_WATCHES) else str(mark))
    except ValueError as error:  # pydantic's ValidationError is a ValueError: it can never become valid
        logger.error("malformed outbox event passed over", extra={"sk": item.get("SK"), "error": str(error)})
        return
    except Exception:
        _failed_bookings.add(booking_id)
        raise


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "REALTIME_TIMELINE_TABLE_NAME", "REALTIME_CONNECTIONS_TABLE_NAME")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    _failed_bookings.clear()
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
