"""Queue workers: Lambda's SQS event source mapping, locally, one thread per consumed queue.

Each worker long-polls its queue, hands the consumer a real SQS event batch and deletes what
succeeded. Records listed in `batchItemFailures` are left alone: they come back after the visibility
timeout and moto moves them to the DLQ after maxReceiveCount. If the consumer raises (or answers
something Lambda could not parse), the whole batch fails and nothing is deleted.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from typing import Any

from infra.local.background import BackgroundLoop
from infra.local.lambdas import Consumer

log = logging.getLogger(__name__)
SQS_MAX_BATCH = 10  # ReceiveMessage and DeleteMessageBatch take at most 10


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A boto3 ReceiveMessage message -> the record Lambda puts in an SQS event."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        **(
            {"md5OfMessageAttributes": message["MD5OfMessageAttributes"]} if "MD5OfMessageAttributes" in message else {}
        ),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    binary = value.get("BinaryValue")
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": base64.b64encode(binary).decode("ascii") if binary is not None else None,
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [base64.b64encode(b).decode("ascii") for b in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }


def failed_message_ids(response: Any, message_ids: list[str]) -> set[str]:
    """Which messages failed, read like Lambda reads a ReportBatchItemFailures response."""
    if response is None:
        return set()
    if not isinstance(response, dict):
        return set(message_ids)
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(message_ids)
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in message_ids:
            return set(message_ids)  # Lambda treats an unusable item identifier as a whole-batch failure
        failed.add(identifier)
    return failed


class QueueWorker(BackgroundLoop):
    def __init__(
        self,
        *,
        sqs: Any,
        queue_url: str,
        consumer: Consumer,
        name: str,
        region: str,
        batch_size: int = 10,
        batching_window_seconds: float = 0,
        wait_seconds: int = 1,
        stop: threading.Event | None = None,
    ) -> None:
        super().__init__(f"queue-{name}", stop)
        self._sqs = sqs
        self._queue_url = queue_url
        self._consumer = consumer
        self.name = name
        self._region = region
        self._batch_size = batch_size
        self._window = batching_window_seconds
        self._wait_seconds = wait_seconds  # short, so a stop request is honoured within about a second
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
        self._queue_arn = attributes["QueueArn"]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("queue worker %s: polling failed; retrying", self.name)
                self._stop.wait(1)

    def poll_once(self) -> int:
        """Receive one batch, invoke the consumer, delete what succeeded. Returns the batch size."""
        messages = self._receive()
        if not messages:
            return 0
        records = [sqs_record(m, self._queue_arn, self._region) for m in messages]
        ids = [r["messageId"] for r in records]
        try:
            failed = failed_message_ids(self._consumer({"Records": records}), ids)
        except Exception as error:
            log.warning("queue worker %s: batch of %d failed (%s); all will be retried", self.name, len(ids), error)
            return len(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        self._delete(done)
        if failed:
            log.warning(
                "queue worker %s: %d of %d messages failed; they will be retried", self.name, len(failed), len(ids)
            )
        return len(messages)

    def _receive(self) -> list[dict[str, Any]]:
        messages = self._receive_some(self._wait_seconds, self._batch_size)
        if self._window > 0 and messages:
            # Like MaximumBatchingWindowInSeconds: keep gathering until the batch is full or the window ends
            deadline = time.monotonic() + self._window
            while len(messages) < self._batch_size and time.monotonic() < deadline and not self._stop.is_set():
                wait = min(self._wait_seconds, max(1, int(deadline - time.monotonic())))
                messages += self._receive_some(wait, self._batch_size - len(messages))
        return messages

    def _receive_some(self, wait: int, limit: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=min(SQS_MAX_BATCH, limit),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), SQS_MAX_BATCH):
            chunk = messages[start : start + SQS_MAX_BATCH]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            result = self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)
            for failure in result.get("Failed", []):
                log.warning("queue worker %s: could not delete a message: %s", self.name, failure.get("Message"))
