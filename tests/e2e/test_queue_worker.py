"""The queue worker against moto's server: partial failures come back and end in the DLQ."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from infra.local.workers import QueueWorker
from tests.e2e.conftest import aws_client

pytestmark = pytest.mark.e2e

MAX_RECEIVES = 2


def make_queue(sqs: Any) -> tuple[str, str]:
    """A queue with a 1 s visibility timeout and a DLQ after MAX_RECEIVES receives."""
    name = f"worker-test-{uuid.uuid4().hex[:8]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES})
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1", "RedrivePolicy": redrive})["QueueUrl"]
    return url, dlq_url


def drive_until(worker: QueueWorker, done: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        worker.poll_once()
    pytest.fail("condition not reached in time")


def bodies(sqs: Any, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def test_reported_failures_return_after_the_visibility_timeout_then_land_in_the_dlq(moto_endpoint: str) -> None:
    sqs = aws_client("sqs", moto_endpoint)
    url, dlq_url = make_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="good")
    sqs.send_message(
        QueueUrl=url, MessageBody="bad", MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}}
    )
    seen: list[dict[str, Any]] = []

    def consumer(event: dict[str, Any]) -> dict[str, Any]:
        seen.extend(event["Records"])
        return {
            "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"]
        }

    worker = QueueWorker(sqs=sqs, queue_url=url, consumer=consumer, name="test", region="us-east-1", wait_seconds=1)
    drive_until(worker, lambda: bodies(sqs, dlq_url) == ["bad"])

    bad = [r for r in seen if r["body"] == "bad"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in bad] == [str(n) for n in range(1, MAX_RECEIVES + 1)]
    assert bad[0]["messageAttributes"]["kind"]["stringValue"] == "test"
    assert bad[0]["eventSource"] == "aws:sqs"
    assert bad[0]["eventSourceARN"].endswith(url.rsplit("/", 1)[1])
    assert bad[0]["md5OfBody"]
    assert bad[0]["receiptHandle"]
    assert [r["body"] for r in seen].count("good") == 1  # succeeded once, deleted, never seen again
    assert bodies(sqs, url) == []


def test_a_raising_consumer_fails_the_whole_batch(moto_endpoint: str) -> None:
    sqs = aws_client("sqs", moto_endpoint)
    url, dlq_url = make_queue(sqs)
    for body in ("one", "two"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    batches: list[list[str]] = []

    def consumer(event: dict[str, Any]) -> None:
        batches.append(sorted(r["body"] for r in event["Records"]))
        raise RuntimeError("handler crashed")

    worker = QueueWorker(sqs=sqs, queue_url=url, consumer=consumer, name="test", region="us-east-1", wait_seconds=1)
    drive_until(worker, lambda: bodies(sqs, dlq_url) == ["one", "two"])
    delivered = [body for batch in batches for body in batch]
    assert delivered.count("one") == MAX_RECEIVES
    assert delivered.count("two") == MAX_RECEIVES


def test_successful_batches_are_deleted_and_the_thread_stops_promptly(moto_endpoint: str) -> None:
    sqs = aws_client("sqs", moto_endpoint)
    url, dlq_url = make_queue(sqs)
    for n in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    batches: list[int] = []
    worker = QueueWorker(
        sqs=sqs,
        queue_url=url,
        consumer=lambda event: batches.append(len(event["Records"])),
        name="test",
        region="us-east-1",
        batch_size=5,
        wait_seconds=1,
    )
    worker.start()
    deadline = time.monotonic() + 20
    while sum(batches) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop()
    stopped = time.monotonic()
    worker.join(timeout=10)
    assert time.monotonic() - stopped < 5
    assert sum(batches) == 12
    assert max(batches) <= 5
    time.sleep(1.2)  # past the visibility timeout: anything not deleted would be visible again
    assert bodies(sqs, url) == []
    assert bodies(sqs, dlq_url) == []
