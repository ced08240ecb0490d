"""Deliveries queue -> one signed attempt per message (issue 12: sync back and event subscriptions)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.aws.queues import postpone
from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.delivery.dal.queue import AttemptMessage
from bookinghub.delivery.logic.dispatch import SendToDeadLetter, process

# Retries are new messages with their own timers, so a failed record here is one the consumer could not
# finish (an AWS error) or one that must reach the DLQ; SQS redrives it after maxReceiveCount.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    try:
        message = AttemptMessage.from_json(record.body)
    except (ValueError, KeyError, TypeError):
        logger.error("unreadable delivery message dropped", extra={"message_id": record.message_id})
        metrics.add_metric(name="DeliveryMessageMalformed", unit="Count", value=1)
        return
    try:
        process(message, receive_count=int(record.attributes.approximate_receive_count or 0) or None)
    except SendToDeadLetter:
        # Visible again at once: each receive counts, and after maxReceiveCount SQS moves it to the DLQ
        postpone(record.event_source_arn, record.receipt_handle, 0)
        raise


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "INTEGRATION_LOGS_TABLE_NAME", "DELIVERIES_QUEUE_URL", "SECRETS_KMS_KEY_ID")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
