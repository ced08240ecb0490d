"""The PMS module's part of the topology (issue 13): its functions, routes, queues and schedule.

  POST /api/pms/{provider}/bookings -> pms_webhook; the PMSEvents queue -> pms_events; the admin routes
  (/api/pms/sync/..., /api/pms/hotels...) -> pms_admin; PMSSync queue and the schedule -> pms_sync.
Each -> functions/<name>/handler.py -> bookinghub/pms/logic/. Joined into infra/topology's QUEUES and
FUNCTIONS, so both renderers (CDK, the local runtime) make them like every other resource.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.topology.model import Access, Function, Queue, QueueTrigger, Route, Schedule


@dataclass(frozen=True)
class EventBus:
    """An EventBridge bus the PMS module publishes `pms.sync.completed` / `pms.booking.synced` on.

    CDK (infra/cdk/pms.py) makes the bus, a rule keeping every event in a log group, PutEvents grants and
    `env_var` for the publishers. Under `make run` no bus is configured: the events are logged as
    structured lines ("pms event") by the publishers themselves.
    """

    name: str
    env_var: str
    source: str
    publishers: tuple[str, ...]


PMS_EVENT_BUS = EventBus(
    name="PMSEvents",
    env_var="PMS_EVENT_BUS_NAME",
    source="bookinghub.pms",
    publishers=("pms_events", "pms_sync", "pms_admin"),
)


def pms_queues() -> tuple[Queue, ...]:
    return (
        # Provider webhooks to apply (each message names one stored webhook event)
        Queue(name="PMSEvents", env_var="PMS_EVENTS_QUEUE_URL"),
        # Sync runs: long manual syncs and the scheduled ones (each message names its sync log)
        Queue(name="PMSSync", env_var="PMS_SYNC_QUEUE_URL"),
    )


def pms_functions() -> tuple[Function, ...]:
    return (
        Function(
            name="pms_webhook",
            description="PMS provider booking webhooks: hotel token checked, stored once, queued (seed 004)",
            timeout_seconds=10,
            # Checked inside: the hotel's token (x-provider-token or ?token=), compared as a hash
            routes=(Route("POST", "/api/pms/{provider}/bookings", auth="signature"),),
            access=Access(read_tables=("Bookings",), write_tables=("Bookings",), send_queues=("PMSEvents",)),
        ),
        Function(
            name="pms_events",
            description="Applies queued PMS webhooks: booking re-fetched where needed, guest matched, hub booking",
            timeout_seconds=60,
            queue=QueueTrigger(queue="PMSEvents", batch_size=5),
            access=Access(
                read_tables=("Bookings",),
                write_tables=("Bookings", "IntegrationLogs"),
                kms_decrypt=True,  # the hotel's provider credentials
            ),
        ),
        Function(
            name="pms_sync",
            description="Runs queued PMS syncs (long manual ones and scheduled ones), logging their progress",
            timeout_seconds=300,
            memory_mb=512,
            queue=QueueTrigger(queue="PMSSync", batch_size=1),
            access=Access(
                read_tables=("Bookings", "IntegrationLogs"),
                write_tables=("Bookings", "IntegrationLogs"),
                kms_decrypt=True,
            ),
        ),
        Function(
            name="pms_scheduler",
            description="Queues a FETCH sync for every enabled hotel whose sync schedule (cron) fell due",
            timeout_seconds=60,
            schedules=(Schedule("pms-dispatch", "rate(5 minutes)"),),
            access=Access(
                read_tables=("Bookings", "IntegrationLogs"),
                write_tables=("IntegrationLogs",),
                send_queues=("PMSSync",),
            ),
        ),
        Function(
            name="pms_admin",
            description="Operators' PMS API: hotel configurations, manual syncs and sync logs (Cognito)",
            # An inline sync (up to 500 items: 5-25 Cloudbeds pages at 4.5 requests/s) fits in the gateway's 29 s
            timeout_seconds=29,
            memory_mb=512,
            routes=(
                Route("POST", "/api/pms/configurations", auth="cognito", json_body=True),
                Route("GET", "/api/pms/configurations", auth="cognito"),
                Route("GET", "/api/pms/configurations/{hotel_slug}", auth="cognito"),
                Route("PATCH", "/api/pms/configurations/{hotel_slug}", auth="cognito", json_body=True),
                Route("DELETE", "/api/pms/configurations/{hotel_slug}", auth="cognito"),
                # Literal paths: beside /api/pms/{provider}/bookings a parameter here would be ambiguous
                Route("POST", "/api/pms/sync/bookings", auth="cognito", json_body=True),
                Route("POST", "/api/pms/sync/rooms", auth="cognito", json_body=True),
                Route("POST", "/api/pms/sync/guests", auth="cognito", json_body=True),
                Route("GET", "/api/pms/sync-logs", auth="cognito"),
                Route("GET", "/api/pms/sync-logs/{sync_log_id}", auth="cognito"),
            ),
            access=Access(
                read_tables=("Bookings", "IntegrationLogs"),
                write_tables=("Bookings", "IntegrationLogs"),
                send_queues=("PMSSync",),
                kms_encrypt=True,  # credentials are stored encrypted
                kms_decrypt=True,  # and read back for an inline sync
            ),
        ),
    )


QUEUES: tuple[Queue, ...] = pms_queues()
FUNCTIONS: tuple[Function, ...] = pms_functions()
