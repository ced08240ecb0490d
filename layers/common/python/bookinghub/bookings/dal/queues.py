"""SQS access: the BookingEvents queue that carries domain events from the outbox to their consumers, and
the postponement of a received message that any consumer uses for its backoff."""

from __future__ import annotations

from functools import cache
from typing import Any

from bookinghub.aws.clients import client
from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.core.settings import get_settings

EVENT_ID_ATTRIBUTE = "event_id"
EVENT_TYPE_ATTRIBUTE = "event_type"


def send_booking_event(event: BookingDomainEvent) -> str:
    """Queue one domain event; returns the SQS message id.

    The event id travels as a message attribute too, so a consumer (or an operator reading the DLQ)
    can tell which event a message carries without parsing its body.
    """
    response = client("sqs").send_message(
        QueueUrl=get_settings().booking_events_queue_url,
        MessageBody=event.model_dump_json(),
        MessageAttributes={
            EVENT_ID_ATTRIBUTE: {"DataType": "String", "StringValue": event.event_id},
            EVENT_TYPE_ATTRIBUTE: {"DataType": "String", "StringValue": event.event_type},
        },
    )
    return str(response["MessageId"])


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
