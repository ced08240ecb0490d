"""Topology of the delivery system (issue 12), kept apart from infra/topology.py so it merges cleanly.

`apply()` returns the hub's functions, queues and secrets with these added (and the booking_events and
admin_api functions given what the delivery system needs); infra/topology.py calls it once.
"""

from __future__ import annotations

from dataclasses import replace

from infra.topology import Access, Function, Queue, QueueTrigger, Route, Schedule, Secret

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

DELIVERY_FUNCTIONS: tuple[Function, ...] = (
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


def _widen(fn: Function) -> Function:
    """booking_events now fans out into deliveries; admin_api's test webhook makes one attempt inline."""
    if fn.name == "booking_events":
        return replace(
            fn,
            description="Turns booking domain events into deliveries: website sync back and subscriptions",
            access=Access(read_tables=("Bookings",), write_tables=("Bookings",), send_queues=("Deliveries",)),
        )
    if fn.name == "admin_api":
        access = fn.access
        return replace(
            fn,
            timeout_seconds=29,  # the test webhook waits for one attempt (15 s)
            access=replace(
                access,
                write_tables=tuple(dict.fromkeys((*access.write_tables, "Bookings", "IntegrationLogs"))),
                send_queues=tuple(dict.fromkeys((*access.send_queues, "Deliveries"))),
                kms_decrypt=True,
            ),
        )
    return fn


def apply(
    functions: tuple[Function, ...], queues: tuple[Queue, ...], secrets: tuple[Secret, ...]
) -> tuple[tuple[Function, ...], tuple[Queue, ...], tuple[Secret, ...]]:
    return (
        (*(_widen(fn) for fn in functions), *DELIVERY_FUNCTIONS),
        (*queues, DELIVERIES),
        (*secrets, PRODUCER_SECRET),
    )
