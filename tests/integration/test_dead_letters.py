"""DLQ inspection and redrive (bookinghub.aws.dead_letters, behind `bookinghub dlq`): nothing lost, nothing looped."""

from __future__ import annotations

import boto3

from bookinghub.aws.dead_letters import peek, queue_depth, redrive
from infra.local.resources import LocalResources

QUEUE = "BookingEvents"


def _fill_dlq(aws: LocalResources, count: int) -> list[str]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    bodies = [f'{{"event_id": "e-{i}"}}' for i in range(count)]
    for body in bodies:
        sqs.send_message(
            QueueUrl=aws.dlq_urls[QUEUE],
            MessageBody=body,
            MessageAttributes={"origin": {"DataType": "String", "StringValue": "test"}},
        )
    return bodies


def _drain(url: str) -> list[dict[str, object]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    got: list[dict[str, object]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=60
        ).get("Messages", [])
        if not batch:
            return got
        got.extend(batch)


def test_peek_shows_messages_and_leaves_them_there(aws: LocalResources) -> None:
    bodies = _fill_dlq(aws, 3)
    seen = peek(aws.dlq_urls[QUEUE], 10)
    assert sorted(letter.body for letter in seen) == sorted(bodies)
    assert all(letter.receive_count >= 1 and letter.sent_at_ms for letter in seen)
    assert queue_depth(aws.dlq_urls[QUEUE]).visible == 3  # visible again at once
    assert len(peek(aws.dlq_urls[QUEUE], 2)) == 2


def test_a_dry_run_counts_and_moves_nothing(aws: LocalResources) -> None:
    _fill_dlq(aws, 4)
    result = redrive(aws.dlq_urls[QUEUE], aws.queue_urls[QUEUE], dry_run=True)
    assert (result.moved, result.dry_run) == (4, True)
    assert queue_depth(aws.dlq_urls[QUEUE]).visible == 4
    assert queue_depth(aws.queue_urls[QUEUE]).visible == 0


def test_redrive_moves_every_message_once_with_its_attributes_and_reports_progress(aws: LocalResources) -> None:
    bodies = _fill_dlq(aws, 23)  # three batches
    progress: list[tuple[int, int]] = []
    result = redrive(aws.dlq_urls[QUEUE], aws.queue_urls[QUEUE], on_progress=lambda d, t: progress.append((d, t)))
    assert (result.moved, result.failed) == (23, 0)
    assert progress[-1] == (23, 23)
    assert len(progress) == 3
    moved = _drain(aws.queue_urls[QUEUE])
    assert sorted(str(m["Body"]) for m in moved) == sorted(bodies)
    assert all(m["MessageAttributes"] == {"origin": {"DataType": "String", "StringValue": "test"}} for m in moved)
    assert queue_depth(aws.dlq_urls[QUEUE]).total == 0


def test_redrive_is_bounded_by_what_the_dlq_held_when_it_started(aws: LocalResources) -> None:
    """A message that fails again and returns meanwhile is left for the next redrive, not looped."""
    _fill_dlq(aws, 2)
    sqs = boto3.client("sqs", region_name="us-east-1")
    calls = 0

    def returns_to_the_dlq(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        sqs.send_message(QueueUrl=aws.dlq_urls[QUEUE], MessageBody=f'{{"again": {done}}}')

    result = redrive(aws.dlq_urls[QUEUE], aws.queue_urls[QUEUE], on_progress=returns_to_the_dlq)
    assert result.moved == 2
    assert queue_depth(aws.dlq_urls[QUEUE]).visible == calls


def test_an_empty_dlq_redrives_nothing(aws: LocalResources) -> None:
    result = redrive(aws.dlq_urls[QUEUE], aws.queue_urls[QUEUE])
    assert (result.moved, result.failed) == (0, 0)
