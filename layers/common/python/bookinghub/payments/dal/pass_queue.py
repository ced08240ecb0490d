"""SQS access of the PassIssuance queue: queue a pass for its pincode (a failed attempt is postponed with
aws.queues.postpone)."""

from __future__ import annotations

import json

from bookinghub.aws.clients import client
from bookinghub.core.settings import get_settings

PASS_ID_ATTRIBUTE = "pass_id"  # noqa: S105 - an attribute name


def send_pass_issuance(pass_id: str, claim: str | None = None) -> str:
    """Queue one pass; the message carries only its id (no guest data sits in the queue or the DLQ) and
    the claim token the webhook stored on the pass, if any (payments/logic/pincodes.py)."""
    body = {"pass_id": pass_id, **({"claim": claim} if claim else {})}
    response = client("sqs").send_message(
        QueueUrl=get_settings().pass_issuance_queue_url,
        MessageBody=json.dumps(body),
        MessageAttributes={PASS_ID_ATTRIBUTE: {"DataType": "String", "StringValue": pass_id}},
    )
    return str(response["MessageId"])
