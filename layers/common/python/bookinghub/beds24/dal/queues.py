"""SQS access of the Beds24 queues: webhook events to process, and sync jobs (a run's next pages).

Messages carry only ids (no guest data sits in a queue or a DLQ); the work reads the rest from the table.
"""

from __future__ import annotations

import json
from typing import Any

from bookinghub.aws.clients import client
from bookinghub.beds24.dal.runs import EventRef
from bookinghub.core.settings import get_settings

MAX_DELAY_SECONDS = 900  # SQS's ceiling for DelaySeconds


def send_webhook_event(event: EventRef, delay_seconds: int = 0) -> str:
    response = client("sqs").send_message(
        QueueUrl=get_settings().beds24_events_queue_url,
        MessageBody=json.dumps(event.message(), separators=(",", ":")),
        DelaySeconds=max(0, min(MAX_DELAY_SECONDS, int(delay_seconds))),
    )
    return str(response["MessageId"])


def send_write(reservation_id: str, delay_seconds: int = 0) -> str:
    """Queue the write-back of a reservation's pending edits to Beds24 (the consumer reads what to send)."""
    response = client("sqs").send_message(
        QueueUrl=get_settings().beds24_writes_queue_url,
        MessageBody=json.dumps({"reservation_id": reservation_id}),
        DelaySeconds=max(0, min(MAX_DELAY_SECONDS, int(delay_seconds))),
    )
    return str(response["MessageId"])


def send_sync_job(job: dict[str, Any], delay_seconds: int = 0) -> str:
    """Queue a run's next step; a delay (up to 15 min) waits out Beds24's credit budget."""
    response = client("sqs").send_message(
        QueueUrl=get_settings().beds24_sync_queue_url,
        MessageBody=json.dumps(job, separators=(",", ":")),
        DelaySeconds=max(0, min(MAX_DELAY_SECONDS, int(delay_seconds))),
    )
    return str(response["MessageId"])
