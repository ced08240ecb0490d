"""Operators' view of a queue and its dead-letter queue: depths, a look at the messages, and redrive.

Redrive moves messages one batch at a time (receive from the DLQ, send to the source queue, delete from the
DLQ), rather than SQS's StartMessageMoveTask, so it works the same on AWS and on `make run`'s moto, shows
progress and can count first. A crash between the send and the delete leaves a copy in both queues: every
consumer is idempotent, so that is a duplicate delivery, never a lost message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bookinghub.aws.clients import client

BATCH = 10  # SQS's largest receive and send batch
# How long a received DLQ message stays hidden while it is copied: long enough for one send and delete.
MOVE_VISIBILITY_SECONDS = 60


@dataclass(frozen=True)
class QueueDepth:
    visible: int  # waiting to be received
    in_flight: int  # received, not yet deleted (being processed, or waiting out a retry delay)
    delayed: int  # sent with a delay that has not passed yet

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    receive_count: int  # how often the source queue's consumer received it before it gave up
    first_received_at_ms: int | None
    sent_at_ms: int | None


@dataclass(frozen=True)
class RedriveResult:
    moved: int
    failed: int  # messages SQS refused to send or delete (left in the DLQ)
    dry_run: bool


def queue_depth(url: str) -> QueueDepth:
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return QueueDepth(
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
    )


def peek(dlq_url: str, limit: int) -> list[DeadLetter]:
    """Up to `limit` messages of a DLQ, made visible again at once (a DLQ has no consumer to disturb)."""
    sqs = client("sqs")
    seen: dict[str, DeadLetter] = {}
    handles: list[str] = []
    while len(seen) < limit:
        messages = _receive(dlq_url, min(BATCH, limit - len(seen)), visibility=30)
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen[message["MessageId"]] = _dead_letter(message)
        handles.extend(m["ReceiptHandle"] for m in messages)
    for start in range(0, len(handles), BATCH):
        entries = [
            {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for i, handle in enumerate(handles[start : start + BATCH])
        ]
        sqs.change_message_visibility_batch(QueueUrl=dlq_url, Entries=entries)
    return list(seen.values())


def redrive(
    dlq_url: str,
    target_url: str,
    *,
    dry_run: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> RedriveResult:
    """Move what the DLQ holds now back to `target_url`; `on_progress(done, total)` after each batch.

    Bounded by the depth at the start, so messages that fail again and return meanwhile are not looped.
    """
    total = queue_depth(dlq_url).visible
    if dry_run:  # what would move: the count, nothing touched
        return RedriveResult(moved=total, failed=0, dry_run=True)
    sqs = client("sqs")
    moved = failed = 0
    while moved + failed < total:
        messages = _receive(dlq_url, min(BATCH, total - moved - failed), visibility=MOVE_VISIBILITY_SECONDS)
        if not messages:
            break
        entries = [{"Id": str(i), "MessageBody": m["Body"], **_attributes_of(m)} for i, m in enumerate(messages)]
        sent = sqs.send_message_batch(QueueUrl=target_url, Entries=entries)
        sent_ids = {entry["Id"] for entry in sent.get("Successful", [])}
        failed += len(messages) - len(sent_ids)
        deletions = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages) if str(i) in sent_ids
        ]
        if deletions:
            deleted = sqs.delete_message_batch(QueueUrl=dlq_url, Entries=deletions)
            moved += len(deleted.get("Successful", []))
            failed += len(deleted.get("Failed", []))  # sent, but still in the DLQ too: a duplicate, not a loss
        if on_progress is not None:
            on_progress(moved + failed, total)
    return RedriveResult(moved=moved, failed=failed, dry_run=False)


def _receive(url: str, count: int, *, visibility: int) -> list[dict[str, Any]]:
    answer = client("sqs").receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=max(1, min(BATCH, count)),
        VisibilityTimeout=visibility,
        WaitTimeSeconds=0,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return list(answer.get("Messages", []))


def _attributes_of(message: dict[str, Any]) -> dict[str, Any]:
    attributes = message.get("MessageAttributes")
    return {"MessageAttributes": attributes} if attributes else {}


def _dead_letter(message: dict[str, Any]) -> DeadLetter:
    attributes = message.get("Attributes", {})

    def number(name: str) -> int | None:
        value = attributes.get(name)
        return int(value) if value is not None else None

    return DeadLetter(
        message_id=message["MessageId"],
        body=message["Body"],
        receive_count=number("ApproximateReceiveCount") or 0,
        first_received_at_ms=number("ApproximateFirstReceiveTimestamp"),
        sent_at_ms=number("SentTimestamp"),
    )
