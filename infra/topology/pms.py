"""The PMS module's part of the topology (issue 13): its functions, routes, queues, schedules and bus.

  POST /api/pms/{provider}/bookings -> pms_webhook; the PMSEvents queue -> pms_events; the admin routes
  (/api/pms/sync/..., /api/pms/configurations...) -> pms_admin; the PMSSync queue (long manual syncs and
  the hotels' Scheduler schedules, HOTEL_SCHEDULES) -> pms_sync; the hourly reconcile -> pms_scheduler;
  the bus's rule (PMS_EVENT_BUS) -> the PMSBusEvents queue -> pms_status.
Each -> functions/<name>/handler.py -> bookinghub/pms/logic/. Joined into infra/topology's QUEUES and
FUNCTIONS, so both renderers (CDK, the local runtime) make them like every other resource.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.topology.model import Access, Function, Queue, QueueTrigger, Route, Schedule


@dataclass(frozen=True)
class BusRule:
    """Events of these detail types on the bus go to `queue`, whose consumer function applies them.

    A queue rather than a Lambda target: retries and a DLQ like every other consumer, and the same path
    under `make run`, where moto's EventBridge delivers to SQS (it cannot invoke a Lambda)."""

    name: str
    detail_types: tuple[str, ...]
    queue: str


@dataclass(frozen=True)
class EventBus:
    """An EventBridge bus the PMS module publishes `pms.sync.completed` / `pms.booking.synced` on.

    Rendered by infra/cdk/pms.py (the bus, an archive of every event, one rule per BusRule with its
    queue target, PutEvents grants and `env_var` for the publishers) and by infra/local/pms_aws.py (the
    same bus, rules and targets in the embedded AWS), so locally the events reach the same consumers.
    """

    name: str
    env_var: str
    source: str
    publishers: tuple[str, ...]
    rules: tuple[BusRule, ...] = ()

    def pattern(self, rule: BusRule) -> dict[str, list[str]]:
        """The rule's event pattern, as both renderers write it."""
        return {"source": [self.source], "detail-type": list(rule.detail_types)}


PMS_EVENT_BUS = EventBus(
    name="PMSEvents",
    env_var="PMS_EVENT_BUS_NAME",
    source="bookinghub.pms",
    publishers=("pms_events", "pms_sync", "pms_admin"),
    rules=(BusRule("PMSSyncStatus", ("pms.sync.completed", "pms.booking.synced"), queue="PMSBusEvents"),),
)


@dataclass(frozen=True)
class HotelSchedules:
    """Hotels' sync schedules: one EventBridge Scheduler schedule per enabled hotel with a cron.

    The schedules are made at run time by `managers` (the admin API, and the reconcile pass) in one
    schedule group the stack creates; each sends its input to `target_queue` as a scheduler role the
    stack creates too (sqs:SendMessage on that queue only). The managers get the group's name, the
    role's ARN (theirs to pass, and only to Scheduler) and the queue's ARN in the env vars below.
    CDK: infra/cdk/pms.py. Under `make run`: infra/local/pms_aws.py makes the group in the embedded
    AWS, and infra/local/scheduler_schedules.py fires its schedules (moto stores but never fires them).
    """

    name: str
    target_queue: str
    managers: tuple[str, ...]
    group_env_var: str = "PMS_SCHEDULE_GROUP_NAME"
    role_env_var: str = "PMS_SCHEDULE_ROLE_ARN"
    target_env_var: str = "PMS_SYNC_QUEUE_ARN"
    # A fire Scheduler cannot deliver after its retries goes to the target queue's DLQ, never dropped
    dead_letter_env_var: str = "PMS_SYNC_DLQ_ARN"


HOTEL_SCHEDULES = HotelSchedules(name="PMSHotels", target_queue="PMSSync", managers=("pms_admin", "pms_scheduler"))


def pms_queues() -> tuple[Queue, ...]:
    return (
        # Provider webhooks to apply (each message names one stored webhook event)
        Queue(name="PMSEvents", env_var="PMS_EVENTS_QUEUE_URL"),
        # Sync runs: long manual syncs (each message names its sync log) and hotels' schedules' fires
        Queue(name="PMSSync", env_var="PMS_SYNC_QUEUE_URL"),
        # The bus's PMSSyncStatus rule delivers here (PMS_EVENT_BUS); only EventBridge sends to it
        Queue(name="PMSBusEvents", env_var="PMS_BUS_EVENTS_QUEUE_URL"),
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
            description="Reconciles hotels' EventBridge Scheduler schedules with their configurations (hourly)",
            timeout_seconds=120,
            schedules=(Schedule("pms-reconcile", "rate(1 hour)"),),
            # Plus the scheduler permissions of HOTEL_SCHEDULES.managers (infra/cdk/pms.py)
            access=Access(read_tables=("Bookings",)),
        ),
        Function(
            name="pms_status",
            description="Keeps each hotel's latest sync per entity and latest synced booking, from the PMS bus",
            timeout_seconds=30,
            queue=QueueTrigger(queue="PMSBusEvents", batch_size=10),
            access=Access(read_tables=("Bookings",), write_tables=("Bookings",)),
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
