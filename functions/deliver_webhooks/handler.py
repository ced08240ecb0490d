"""Deliveries queue -> one signed attempt per message (issue 12: sync back and event subscriptions).

The whole batch goes to the dispatcher at once (its attempts are sent in parallel, its status and log
writes made once per batch); each message still succeeds or fails on its own (partial batch response).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.aws.queues import postpone
from bookinghub.core.observability import logger, metrics, tracer
from bookinghub.core.settings import requires_settings
from bookinghub.delivery.dal.queue import AttemptMessage
from bookinghub.delivery.logic.dispatch import SendToDeadLetter, process_batch

# Retries are new messages with their own timers, so a failed record here is one the consumer could not
# finish (an AWS error) or one that must reach the DLQ; SQS redrives it after maxReceiveCount.


@tracer.capture_method
def handle_records(records: list[SQSRecord]) -> list[str]:
    """The message ids that failed (to be received again)."""
    readable: list[tuple[SQSRecord, AttemptMessage]] = []
    for record in records:
        try:
            readable.append((record, AttemptMessage.from_json(record.body)))
        except (ValueError, KeyError, TypeError):
            logger.error("unreadable delivery message dropped", extra={"message_id": record.message_id})
            metrics.add_metric(name="DeliveryMessageMalformed", unit="Count", value=1)
    outcomes = process_batch(
        [(message, int(record.attributes.approximate_receive_count or 0) or None) for record, message in readable]
    )
    failed: list[str] = []
    for (record, _), outcome in zip(readable, outcomes, strict=True):
        if isinstance(outcome, SendToDeadLetter):
            # Visible again at once: each receive counts, and after maxReceiveCount SQS moves it to the DLQ
            postpone(record.event_source_arn, record.receipt_handle, 0)
        if isinstance(outcome, Exception):
            if not isinstance(outcome, SendToDeadLetter):
                logger.error(
                    "delivery message failed",
                    extra={"message_id": record.message_id, "error": f"{type(outcome).__name__}: {outcome}"},
                )
            failed.append(record.message_id)
    return failed


# Resource settings it cannot run without: an unset or empty one fails the invocation at once, by name
@requires_settings("BOOKINGS_TABLE_NAME", "INTEGRATION_LOGS_TABLE_NAME", "DELIVERIES_QUEUE_URL", "SECRETS_KMS_KEY_ID")
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    failed = handle_records([SQSRecord(raw) for raw in event.get("Records") or []])
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
