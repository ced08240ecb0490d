"""Beds24Sync queue -> a sync run advanced page by page (re-queued to continue when time or credits run out)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.beds24.logic.sync import process_job
from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    # Powertools passes the context to a record handler that asks for it: how long this invocation has
    # left decides when a run stops taking pages and continues in the next one.
    run_id = str(json.loads(record.body)["run_id"])
    process_job(run_id, remaining_ms=lambda_context.get_remaining_time_in_millis)


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings(
    "BOOKINGS_TABLE_NAME",
    "INTEGRATION_LOGS_TABLE_NAME",
    "BEDS24_SYNC_QUEUE_URL",
    "BEDS24_WRITES_QUEUE_URL",
    "SECRETS_KMS_KEY_ID",
)
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
