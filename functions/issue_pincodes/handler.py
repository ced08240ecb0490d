"""PassIssuance queue -> a door pincode for each pass from the Rooms Event Hub (retried with backoff for 24 h)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.payments.logic.pincodes import (
    QueuedPass,
    bind_lambda_context,
    handle_queued_pass,
    parse_claim,
    parse_message,
)

# A failed record is named in batchItemFailures; its visibility was already set to the backoff delay, and
# after maxReceiveCount receives SQS moves it to the DLQ.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    queued = QueuedPass(
        pass_id=parse_message(record.body),
        attempt=int(record.attributes.get("ApproximateReceiveCount") or 1),
        queue_arn=record.event_source_arn,
        receipt_handle=record.receipt_handle,
        claim=parse_claim(record.body),
    )
    handle_queued_pass(queued)


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "INTEGRATION_LOGS_TABLE_NAME", "SECRETS_KMS_KEY_ID")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    bind_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
