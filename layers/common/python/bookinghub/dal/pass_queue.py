"""SQS access of the PassIssuance queue: queue a pass for its pincode, and postpone a failed attempt."""

from __future__ import annotations

import json
from functools import cache

from bookinghub.dal.aws import client
from bookinghub.settings import get_settings

PASS_ID_ATTRIBUTE = "pass_id"  # noqa: S105 - an attribute name
# SQS's ceiling for a message's visibility timeout
MAX_VISIBILITY_SECONDS = 12 * 3600


def send_pass_issuance(pass_id: str) -> str:
    """Queue one pass; the message carries only its id (no guest data sits in the queue or the DLQ)."""
    response = client("sqs").send_message(
        QueueUrl=get_settings().pass_issuance_queue_url,
        MessageBody=json.dumps({"pass_id": pass_id}),
        MessageAttributes={PASS_ID_ATTRIBUTE: {"DataType": "String", "StringValue": pass_id}},
    )
    return str(response["MessageId"])


def postpone(queue_arn: str, receipt_handle: str, seconds: int) -> None:
    """Make a received message visible again only after `seconds` (its next attempt)."""
    client("sqs").change_message_visibility(
        QueueUrl=_queue_url(queue_arn),
        ReceiptHandle=receipt_handle,
        VisibilityTimeout=max(0, min(MAX_VISIBILITY_SECONDS, seconds)),
    )


def _queue_url(queue_arn: str) -> str:
    return _url_of(queue_arn, client("sqs"))


@cache
def _url_of(queue_arn: str, sqs: object) -> str:
    # arn:aws:sqs:<region>:<account>:<name>; the consumer's role may GetQueueUrl (part of consuming)
    _, _, _, _, account, name = queue_arn.split(":", 5)
    return str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])  # type: ignore[attr-defined]
