"""BookingEvents queue -> deliveries (issue 12): the website's sync back (seed 002) and every matching
subscription (seed 003), each then attempted by deliver_webhooks."""

from __future__ import annotations

# First: in Lambda, importing bookinghub pauses the cyclic collector for the rest of init
# (core/coldstart.py); the imports above it would run with it on (Powertools' and pydantic's imports)
import bookinghub  # noqa: F401

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.delivery.logic.fanout import fan_out_message

# A record that fails (an AWS error mid fan-out) is retried whole: creation is idempotent per event and
# endpoint, so the retry only adds what is missing.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    fan_out_message(record.body)


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "DELIVERIES_QUEUE_URL")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
