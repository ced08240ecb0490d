"""SQS access of the BookingEvents queue, which carries domain events from the outbox to their consumers."""

from __future__ import annotations

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
