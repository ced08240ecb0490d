"""The Deliveries queue: each message is one attempt of one delivery (`delivery_id`, `attempt`, `trigger`,
and `endpoint_id`, a hint that lets the consumer read the endpoint beside the batch; the delivery's own
endpoint stays the authority, and a message without it is read as before)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bookinghub.aws.clients import client
from bookinghub.core.settings import get_settings
from bookinghub.delivery.models import Trigger

# SQS's longest message timer
MAX_DELAY_SECONDS = 900


@dataclass(frozen=True)
class AttemptMessage:
    delivery_id: str
    attempt: int  # the attempts made before this one: the claim expects exactly this many
    trigger: Trigger = "scheduled"
    endpoint_id: str | None = None  # the delivery's endpoint, when the sender knows it

    def to_json(self) -> str:
        body: dict[str, object] = {"delivery_id": self.delivery_id, "attempt": self.attempt, "trigger": self.trigger}
        if self.endpoint_id:
            body["endpoint_id"] = self.endpoint_id
        return json.dumps(body)

    @classmethod
    def from_json(cls, body: str) -> AttemptMessage:
        data = json.loads(body)
        trigger = data.get("trigger", "scheduled")
        if trigger not in ("scheduled", "manual", "replay"):
            raise ValueError("unknown trigger")
        endpoint_id = data.get("endpoint_id")
        return cls(
            delivery_id=str(data["delivery_id"]),
            attempt=int(data["attempt"]),
            trigger=trigger,
            endpoint_id=str(endpoint_id) if endpoint_id else None,
        )


def send(messages: list[AttemptMessage], *, delay_seconds: int = 0) -> None:
    """Queue attempts, ten per call (SendMessageBatch); raises if any entry was not accepted."""
    sqs = client("sqs")
    url = get_settings().deliveries_queue_url
    delay = max(0, min(MAX_DELAY_SECONDS, int(delay_seconds)))
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        response = sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(n), "MessageBody": m.to_json(), "DelaySeconds": delay} for n, m in enumerate(chunk)],
        )
        if response.get("Failed"):
            raise RuntimeError(f"{len(response['Failed'])} delivery messages were not queued")
