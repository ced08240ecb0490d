"""Beds24 (seed 001): webhooks, pull syncs, reconciliation and the operators' Beds24 API.

Route/trigger -> function (functions/<name>/handler.py, which calls bookinghub/beds24/logic/):
  POST /api/integrations/beds24/webhook   -> beds24_webhook -> Beds24Events queue
  Beds24Events queue                      -> beds24_events
  schedules (every 5 min, hourly)         -> beds24_scheduler -> Beds24Sync queue
  Beds24Sync queue                        -> beds24_sync (re-queues itself to continue a run)
  /api/integrations/beds24/properties, /sync, /runs, /reservations[/{id}] -> beds24_admin
  Beds24Writes queue                      -> beds24_writes (the hub's values sent to Beds24: POST /bookings)
  schedule (every 5 min)                  -> beds24_write_sweeper -> Beds24Writes (write-backs whose message was lost)
"""

from __future__ import annotations

from infra.topology.model import Access, Function, Queue, QueueTrigger, Route, Schedule

# Beds24 webhooks to apply (each message is one webhook event, its durable receipt: ids and the body sealed),
# and Beds24 sync runs (each
# message is a run's next step: a run re-queues itself to continue, delayed while Beds24's credits reset).
BEDS24_EVENTS = Queue(name="Beds24Events", env_var="BEDS24_EVENTS_QUEUE_URL")
BEDS24_SYNC = Queue(name="Beds24Sync", env_var="BEDS24_SYNC_QUEUE_URL")
# Write-backs (bookinghub.beds24.logic.writeback): each message names a reservation whose operator edits
# (or conflict resolutions keeping the hub's value) are to be sent to Beds24.
BEDS24_WRITES = Queue(name="Beds24Writes", env_var="BEDS24_WRITES_QUEUE_URL")

QUEUES: tuple[Queue, ...] = (BEDS24_EVENTS, BEDS24_SYNC, BEDS24_WRITES)


# Beds24 (seed 001): webhooks acknowledged fast and applied by a consumer, pull syncs run by a consumer
# page by page, started by schedules (every 5 minutes; the daily full sync is checked hourly against each
# property's local time) or by operators (beds24_admin, Cognito).
FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="beds24_webhook",
        description="Beds24 booking webhooks: verified (token or signature), queued (body sealed) for processing",
        timeout_seconds=10,
        # No JSON model at the gateway: a signature is over the raw body, which must reach us untouched.
        routes=(Route("POST", "/api/integrations/beds24/webhook", auth="signature"),),
        access=Access(
            read_tables=("Bookings",),
            write_tables=("Bookings",),
            send_queues=("Beds24Events",),
            kms_decrypt=True,  # the property's webhook secret, to check an HMAC signature
            kms_data_keys=True,  # the queued body is sealed with a cached data key (aws/envelope.py)
        ),
    ),
    Function(
        name="beds24_events",
        description="Applies queued Beds24 webhook events: re-reads the booking from Beds24, matches the guest",
        # A batch of 5 events, each a Beds24 read (10 s timeout) and a few writes, fits in 60 s.
        timeout_seconds=60,
        queue=QueueTrigger(queue="Beds24Events", batch_size=5),
        access=Access(
            read_tables=("Bookings",),
            write_tables=("Bookings", "IntegrationLogs"),
            send_queues=("Beds24Writes",),  # a value the conflict rule keeps, to Beds24
            kms_encrypt=True,  # a newly minted Beds24 access token is stored encrypted
            kms_decrypt=True,  # the refresh and access tokens, and the data keys of queued webhook bodies
        ),
    ),
    Function(
        name="beds24_writes",
        description="Sends the hub's values (operators' edits, conflicts kept) to Beds24 and records the outcome",
        # A batch of 5 reservations, each one POST (10 s timeout, 3 attempts) and a few writes, fits in 60 s.
        timeout_seconds=60,
        queue=QueueTrigger(queue="Beds24Writes", batch_size=5),
        access=Access(
            read_tables=("Bookings",),
            write_tables=("Bookings", "IntegrationLogs"),
            send_queues=("Beds24Writes",),  # postponed while Beds24's credits reset
            kms_encrypt=True,
            kms_decrypt=True,
        ),
    ),
    Function(
        name="beds24_write_sweeper",
        description="Every 5 minutes: re-queues Beds24 write-backs whose queue message was lost (overdue)",
        timeout_seconds=60,
        schedules=(Schedule("beds24-write-sweep", "rate(5 minutes)"),),
        access=Access(read_tables=("Bookings",), write_tables=("Bookings",), send_queues=("Beds24Writes",)),
    ),
    Function(
        name="beds24_sync",
        description="Runs Beds24 pull syncs and reconciliations page by page, continuing across invocations",
        # Up to 5 minutes of pages per invocation; a longer run re-queues itself (see beds24_sync service).
        timeout_seconds=300,
        memory_mb=512,
        queue=QueueTrigger(queue="Beds24Sync", batch_size=1),
        access=Access(
            read_tables=("Bookings",),
            write_tables=("Bookings", "IntegrationLogs"),
            send_queues=("Beds24Sync", "Beds24Writes"),
            kms_encrypt=True,
            kms_decrypt=True,
        ),
    ),
    Function(
        name="beds24_scheduler",
        description="Starts Beds24 pull syncs: incremental every 5 minutes, the daily full sync per property",
        timeout_seconds=60,
        schedules=(
            Schedule("beds24-incremental", "rate(5 minutes)", (("mode", "incremental"),)),
            Schedule("beds24-full", "cron(0 * * * ? *)", (("mode", "full"),)),
        ),
        access=Access(read_tables=("Bookings",), write_tables=("Bookings",), send_queues=("Beds24Sync",)),
    ),
    Function(
        name="beds24_admin",
        description="Operators' Beds24 API: properties, sync/reconcile runs and their reports (Cognito)",
        timeout_seconds=15,
        routes=(
            Route("POST", "/api/integrations/beds24/properties", auth="cognito", json_body=True),
            Route("GET", "/api/integrations/beds24/properties", auth="cognito"),
            Route("GET", "/api/integrations/beds24/properties/{property_id}", auth="cognito"),
            Route("PATCH", "/api/integrations/beds24/properties/{property_id}", auth="cognito", json_body=True),
            Route("POST", "/api/integrations/beds24/sync", auth="cognito", json_body=True),
            Route("GET", "/api/integrations/beds24/runs", auth="cognito"),
            Route("GET", "/api/integrations/beds24/runs/{run_id}", auth="cognito"),
            Route("GET", "/api/integrations/beds24/reservations", auth="cognito"),
            # An operator's change to a reservation (a conflict with Beds24's next change to the field)
            Route("PATCH", "/api/integrations/beds24/reservations/{reservation_id}", auth="cognito", json_body=True),
        ),
        access=Access(
            read_tables=("Bookings",),
            write_tables=("Bookings",),
            send_queues=("Beds24Sync", "Beds24Writes"),  # an operator's edit, sent to Beds24
            kms_encrypt=True,  # refresh tokens and webhook secrets are stored encrypted
        ),
    ),
)
