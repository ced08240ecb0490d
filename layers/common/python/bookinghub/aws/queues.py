"""SQS machinery every consumer shares: reading an id-only message, postponing a received one (backoff).

Queue messages carry only ids (no guest data sits in a queue or a DLQ): `{"<field>": "<id>"}`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from bookinghub.aws.clients import client


def message_field(body: str, field: str) -> str:
    """The id an id-only message carries; ValueError if it is not there (the message can never succeed)."""
    data = json.loads(body)
    value = data.get(field) if isinstance(data, dict) else None
    if not isinstance(value, str) or not value:
        raise ValueError(f"message has no {field}")
    return value


# SQS's ceiling for a message's visibility timeout
MAX_VISIBILITY_SECONDS = 12 * 3600


def postpone(queue_arn: str, receipt_handle: str, seconds: int) -> None:
    """Make a received message visible again only after `seconds` (its next attempt)."""
    client("sqs").change_message_visibility(
        QueueUrl=queue_url_of(queue_arn),
        ReceiptHandle=receipt_handle,
        VisibilityTimeout=max(0, min(MAX_VISIBILITY_SECONDS, seconds)),
    )


def queue_url_of(queue_arn: str) -> str:
    return _url_of(queue_arn, client("sqs"))


@cache
def _url_of(queue_arn: str, sqs: Any) -> str:
    # arn:aws:sqs:<region>:<account>:<name>; the consumer's role may GetQueueUrl (part of consuming)
    _, _, _, _, account, name = queue_arn.split(":", 5)
    return str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])
