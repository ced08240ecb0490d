"""Beds24Events queue -> each queued webhook event applied (booking re-read from Beds24, guest matched)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.beds24.logic.events import parse_message, process_message
from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings

# A failed record is retried by SQS after its visibility timeout, and lands in the DLQ after 5 receives.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    receives = int(record.attributes.approximate_receive_count or 1)
    process_message(parse_message(record.body), receive_count=receives)


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings(
    "BOOKINGS_TABLE_NAME",
    "INTEGRATION_LOGS_TABLE_NAME",
    "BEDS24_WRITES_QUEUE_URL",
    "SECRETS_KMS_KEY_ID",
)
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
