"""SQS access of the Beds24 queues: webhook events to process, and sync jobs (a run's next pages).

Messages carry ids, and no readable guest data sits in a queue or a DLQ: a webhook event's message is its
durable receipt and carries the webhook's body sealed (AES-GCM under a KMS data key, aws/envelope.py, bound
to the event); the others carry only ids and the work reads the rest from the table.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from bookinghub.aws.clients import client
from bookinghub.beds24.dal.runs import EventRef
from bookinghub.core.settings import get_settings

MAX_DELAY_SECONDS = 900  # SQS's ceiling for DelaySeconds


@dataclass(frozen=True)
class QueuedEvent:
    """A webhook event as queued: where its record goes, what the record says of its delivery, and the body
    sealed (logic/webhooks.seal_body). `deferrals`: how often it waited for a sync run."""

    ref: EventRef
    received_at: str
    authenticated_by: str
    hint: str
    sealed: str
    deferrals: int = 0

    def message(self) -> dict[str, Any]:
        fields = {k: v for k, v in asdict(self).items() if k != "ref" and (k != "deferrals" or v)}
        return {**self.ref.message(), **fields}

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> QueuedEvent | None:
        """The event a message carries, or None for a message naming an event the webhook stored (queued
        before messages carried their event)."""
        if not isinstance(data.get("sealed"), str):
            return None
        ref = EventRef(str(data["organisation_id"]), str(data["property_id"]), str(data["event_key"]))
        return cls(
            ref,
            received_at=str(data.get("received_at") or ""),
            authenticated_by=str(data.get("authenticated_by") or ""),
            hint=str(data.get("hint") or ""),
            sealed=data["sealed"],
            deferrals=int(data.get("deferrals") or 0),
        )


def send_webhook_event(event: QueuedEvent | EventRef, delay_seconds: int = 0) -> str:
    """Queue a webhook event: the event itself, or (an event the webhook stored) its reference."""
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
