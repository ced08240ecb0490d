"""DynamoDB stream of the Bookings table (booking changes, `EVENT#` inserts) -> timeline + BookingEvents queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.bookings.logic.outbox import relay_stream_record
from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings

# A batch whose every record failed is reported like any other partial failure: the response names the
# records, and the stream retries from the first of them.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    stream = record.raw_event.get("dynamodb") or {}
    relay_stream_record(record.raw_event.get("eventName"), stream.get("NewImage"), stream.get("OldImage"))


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "BOOKING_EVENTS_QUEUE_URL", "REALTIME_CONNECTIONS_TABLE_NAME")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
