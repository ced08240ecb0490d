"""Outbound delivery (issue 12; seeds 002 and 003): signed webhooks to websites and subscriptions, retried.

  Deliveries queue                                   -> deliver_webhooks (one attempt per message)
  schedule delivery-sweep (every minute)             -> delivery_sweeper (long-wait retries, lost messages)
  /api/webhooks/endpoints..., /api/webhooks/deliveries..., /api/webhooks/retry-failed -> delivery_api
  GET/POST /api/webhooks/booking-events (seed 003)   -> booking_events_api
Domain events reach the delivery system through booking_events (websites.py), which fans them out.
Each -> functions/<name>/handler.py -> bookinghub/delivery/logic/.
"""

from __future__ import annotations

from infra.topology.model import Access, Function, Queue, QueueTrigger, Route, Schedule, Secret

# One message per attempt of one delivery. Retries are new messages on a timer (or come back from the
# due-time index), so a message is received more than once only when a consumer failed to finish it or
# when an exhausted delivery sends it on to the DLQ (5 quick receives).
DELIVERIES = Queue(name="Deliveries", env_var="DELIVERIES_QUEUE_URL", max_receive_count=5)

PRODUCER_SECRET = Secret(
    name="DeliveryProducerSecret",
    env_var="DELIVERY_PRODUCER_SECRET_ARN",
    local_env_var="DELIVERY_PRODUCER_SECRET",
    description="Bearer secret of the trusted producer of POST /api/webhooks/booking-events (seed 003)",
)

FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="deliver_webhooks",
        description="One signed attempt per Deliveries message: sync back and subscriptions, retried on schedule",
        # A batch of 5 attempts with a 15 s timeout each fits in 90 s; the queue's visibility is then 9 min.
        timeout_seconds=90,
        queue=QueueTrigger(queue="Deliveries", batch_size=5),
        access=Access(
            read_tables=("Bookings",),
            write_tables=("Bookings", "IntegrationLogs"),
            send_queues=("Deliveries",),
            kms_decrypt=True,  # signing secrets and custom headers
        ),
    ),
    Function(
        name="delivery_sweeper",
        description="Every minute: re-queues deliveries due for a long-wait retry (or whose message was lost)",
        timeout_seconds=60,
        schedules=(Schedule("delivery-sweep", "rate(1 minute)"),),
        access=Access(read_tables=("Bookings",), write_tables=("Bookings",), send_queues=("Deliveries",)),
    ),
    Function(
        name="delivery_api",
        description="Operators' webhook endpoints: subscriptions, secrets, stats, attempts, replay (Cognito)",
        timeout_seconds=29,
        routes=(
            Route("POST", "/api/webhooks/endpoints", auth="cognito", json_body=True),
            Route("GET", "/api/webhooks/endpoints", auth="cognito"),
            Route("GET", "/api/webhooks/endpoints/{endpoint_id}", auth="cognito"),
            Route("PATCH", "/api/webhooks/endpoints/{endpoint_id}", auth="cognito", json_body=True),
            Route("POST", "/api/webhooks/endpoints/{endpoint_id}/disable", auth="cognito"),
            Route("POST", "/api/webhooks/endpoints/{endpoint_id}/enable", auth="cognito"),
            Route("POST", "/api/webhooks/endpoints/{endpoint_id}/rotate-secret", auth="cognito"),
            Route("GET", "/api/webhooks/endpoints/{endpoint_id}/stats", auth="cognito"),
            Route("GET", "/api/webhooks/endpoints/{endpoint_id}/attempts", auth="cognito"),
            Route("GET", "/api/webhooks/endpoints/{endpoint_id}/failed", auth="cognito"),
            Route("POST", "/api/webhooks/endpoints/{endpoint_id}/recover", auth="cognito", json_body=True),
            Route("GET", "/api/webhooks/deliveries/{delivery_id}", auth="cognito"),
            Route("POST", "/api/webhooks/deliveries/{delivery_id}/replay", auth="cognito"),
            Route("POST", "/api/webhooks/retry-failed", auth="cognito", json_body=True),
        ),
        access=Access(
            read_tables=("Bookings", "IntegrationLogs"),
            write_tables=("Bookings",),
            send_queues=("Deliveries",),
            kms_encrypt=True,  # new signing secrets and custom headers
        ),
    ),
    Function(
        name="booking_events_api",
        description="Seed 003: GET/POST /api/webhooks/booking-events (trusted producer, Bearer secret)",
        timeout_seconds=15,
        # The Bearer secret is compared inside the function (constant time)
        routes=(
            Route("GET", "/api/webhooks/booking-events", auth="api_key"),
            Route("POST", "/api/webhooks/booking-events", auth="api_key", json_body=True),
        ),
        access=Access(
            read_tables=("Bookings",),
            write_tables=("Bookings",),
            send_queues=("Deliveries",),
            read_secrets=("DeliveryProducerSecret",),
        ),
    ),
)

QUEUES: tuple[Queue, ...] = (DELIVERIES,)
SECRETS: tuple[Secret, ...] = (PRODUCER_SECRET,)
