"""The hub's topology, declared once.

Every function with its triggers, every queue, stream, schedule and table lives here as plain data.
`infra/stack.py` renders it to CloudFormation through CDK and `infra/local/` renders it to this machine
for `make run`; neither lists a route, queue or table of its own. This module imports nothing heavy so
both renderers (and the tests) can read it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
StreamView = Literal["NEW_IMAGE", "NEW_AND_OLD_IMAGES"]
# How a route's caller is authenticated. Only "cognito" is enforced by API Gateway itself; the others
# are checked inside the function (and cdk-nag's authorizer findings are suppressed with that reason).
RouteAuth = Literal["public", "api_key", "signature", "cognito"]


@dataclass(frozen=True)
class Index:
    """A global secondary index with string keys, projecting all attributes."""

    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class Table:
    """A DynamoDB table: on-demand, PITR and encryption are always on (see the renderers)."""

    name: str  # logical name, also the local table name suffix
    env_var: str  # env var that carries the physical table name to functions
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    stream: StreamView | None = None


@dataclass(frozen=True)
class Queue:
    """A standard SQS queue with its own dead-letter queue."""

    name: str
    env_var: str  # env var that carries the queue URL to producers
    max_receive_count: int = 5
    dlq_retention_days: int = 14
    # How long a message may wait in the queue itself (SQS's default is 4 days); must outlast the
    # consumer's whole retry schedule, or a message expires before it reaches the DLQ.
    retention_days: int = 4
    # How old its oldest message may get before the queue counts as stuck (an alarm, docs/operations.md).
    # None: two visibility timeouts (one failed receive and its retry), at least 15 minutes; a queue that
    # waits on purpose sets the length of its whole retry schedule.
    age_budget_minutes: int | None = None


@dataclass(frozen=True)
class Route:
    method: HttpMethod
    path: str  # API Gateway resource path, e.g. /api/bookings/{id}
    # Require a JSON object body at the gateway (CDK: request validator + model; locally the handler
    # answers the same INVALID_PAYLOAD, so behaviour matches with or without the gateway check).
    json_body: bool = False
    # Required for every deployed route (the CDK renderer refuses a route that does not say)
    auth: RouteAuth | None = None


@dataclass(frozen=True)
class QueueTrigger:
    queue: str
    batch_size: int = 10
    max_batching_window_seconds: int = 0


@dataclass(frozen=True)
class StreamTrigger:
    table: str
    # Only records whose new image's SK begins with one of these prefixes reach the function
    # (CDK: event source filter; locally: the stream poller applies the same filter).
    sk_prefixes: tuple[str, ...] = ()
    batch_size: int = 100
    max_retry_attempts: int = 10


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str  # EventBridge expression: rate(5 minutes) or cron(0 3 * * ? *)
    # A constant JSON input for the target, e.g. {"mode": "full"}
    payload: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Access:
    """What a function may do; the CDK renderer turns it into least-privilege grants."""

    read_tables: tuple[str, ...] = ()
    write_tables: tuple[str, ...] = ()
    send_queues: tuple[str, ...] = ()
    kms_encrypt: bool = False
    kms_decrypt: bool = False
    read_secrets: tuple[str, ...] = ()  # names of SECRETS entries (secretsmanager:GetSecretValue)


@dataclass(frozen=True)
class Function:
    name: str  # folder under functions/, also the logical id stem
    description: str
    timeout_seconds: int = 10
    memory_mb: int = 256
    routes: tuple[Route, ...] = ()
    queue: QueueTrigger | None = None
    stream: StreamTrigger | None = None
    schedules: tuple[Schedule, ...] = ()
    access: Access = field(default_factory=Access)
    # Extra environment for this function only (names of other resources are added by renderers)
    environment: tuple[tuple[str, str], ...] = ()

    @property
    def handler_path(self) -> str:
        return f"functions/{self.name}/handler.py"


# Environment of every function, whatever it does (both renderers set it before a function's own).
# PYDANTIC_DISABLE_PLUGINS: pydantic otherwise scans every installed distribution's entry points for
# plugins when the first model is built, on every cold start (the hub uses none).
RUNTIME_ENVIRONMENT: tuple[tuple[str, str], ...] = (("PYDANTIC_DISABLE_PLUGINS", "__all__"),)

# --- Tables -----------------------------------------------------------------------------------------

BOOKINGS = Table(
    name="Bookings",
    env_var="BOOKINGS_TABLE_NAME",
    partition_key="PK",
    sort_key="SK",
    indexes=(
        # GSI1: bookings of one website by activity date (GSI1PK=WEBSITE#id, GSI1SK=date#booking)
        Index("GSI1", "GSI1PK", "GSI1SK"),
        # GSI2: bookings of one organisation by activity date (GSI2PK=ORG#id, GSI2SK=date#booking)
        Index("GSI2", "GSI2PK", "GSI2SK"),
        # GSI3: bookings of one customer email, lower-cased (GSI3PK=EMAIL#addr, GSI3SK=date#booking)
        Index("GSI3", "GSI3PK", "GSI3SK"),
        # GSI4: bookings by booking_ref (GSI4PK=REF#ref, GSI4SK=date#booking)
        Index("GSI4", "GSI4PK", "GSI4SK"),
    ),
    ttl_attribute="expires_at",
    # Domain events are written to this table in the same transaction as the booking change (outbox);
    # the stream carries them to the outbox relay.
    stream="NEW_IMAGE",
)

IDEMPOTENCY = Table(
    name="Idempotency",
    env_var="IDEMPOTENCY_TABLE_NAME",
    partition_key="id",  # Powertools idempotency's default key schema
    ttl_attribute="expiration",
)

INTEGRATION_LOGS = Table(
    name="IntegrationLogs",
    env_var="INTEGRATION_LOGS_TABLE_NAME",
    partition_key="PK",
    sort_key="SK",
    indexes=(
        # GSI1: the logs of one booking / one integration, newest first (GSI1PK=BOOKING#id, GSI1SK=ts)
        Index("GSI1", "GSI1PK", "GSI1SK"),
    ),
    ttl_attribute="expires_at",  # retention, see settings.log_retention_days
)

TABLES: tuple[Table, ...] = (BOOKINGS, IDEMPOTENCY, INTEGRATION_LOGS)

# --- Queues -----------------------------------------------------------------------------------------

BOOKING_EVENTS = Queue(name="BookingEvents", env_var="BOOKING_EVENTS_QUEUE_URL")

# Passes waiting for their door pincode (Stripe payment -> Rooms Event Hub). The consumer retries a
# failed Rooms call with exponential backoff by changing the message's visibility; 31 receives span
# the 24 h retry schedule of bookinghub.payments.logic.pincode_retry (a unit test keeps the two equal), and
# 4 days of retention leave ample room for it. The DLQ keeps what is left for redrive.
PASS_ISSUANCE = Queue(
    name="PassIssuance",
    env_var="PASS_ISSUANCE_QUEUE_URL",
    max_receive_count=31,
    retention_days=4,
    dlq_retention_days=14,
    age_budget_minutes=25 * 60,  # a pass may wait out the whole 24 h Rooms retry schedule
)

# Beds24 webhooks to apply (each message is one stored webhook event, by key), and Beds24 sync runs (each
# message is a run's next step: a run re-queues itself to continue, delayed while Beds24's credits reset).
BEDS24_EVENTS = Queue(name="Beds24Events", env_var="BEDS24_EVENTS_QUEUE_URL")
BEDS24_SYNC = Queue(name="Beds24Sync", env_var="BEDS24_SYNC_QUEUE_URL")

QUEUES: tuple[Queue, ...] = (BOOKING_EVENTS, PASS_ISSUANCE, BEDS24_EVENTS, BEDS24_SYNC)

# --- Keys -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """A KMS key; functions get its id in `env_var`."""

    name: str
    env_var: str
    description: str


# Encrypts secrets the hub must be able to read back (webhook signing secrets, provider tokens).
SECRETS_KEY = Key(name="Secrets", env_var="SECRETS_KMS_KEY_ID", description="bookinghub secrets at rest")

# --- Secrets ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    """A Secrets Manager secret whose value an operator sets (the hub only reads it).

    The CDK renderer creates it, grants read (GetSecretValue) to the functions listing it in
    `Access.read_secrets`, and passes its ARN in `env_var`. Under `make run` there is no Secrets
    Manager secret: the value itself comes from `local_env_var`.
    """

    name: str
    env_var: str  # env var that carries the secret's ARN to functions
    local_env_var: str  # env var that carries the value itself locally
    description: str


# Stripe's webhook signing secret (whsec_...), from the Stripe dashboard's endpoint settings.
STRIPE_WEBHOOK_SECRET = Secret(
    name="StripeWebhookSecret",
    env_var="STRIPE_WEBHOOK_SECRET_ARN",
    local_env_var="STRIPE_WEBHOOK_SECRET",
    description="Stripe webhook signing secret (whsec_...) for POST /api/webhooks/stripe",
)

SECRETS: tuple[Secret, ...] = (STRIPE_WEBHOOK_SECRET,)

# --- Functions --------------------------------------------------------------------------------------

# The admin API (seed 002 dashboard): people, not websites, so every route but the OpenAPI document is
# guarded by API Gateway's Cognito authorizer (locally: infra/local/auth.py), and the function reads the
# verified claims (bookinghub.core.auth).
ADMIN_API = Function(
    name="admin_api",
    description="Admin API: bookings, websites, integrations and Rooms monitoring for operators (Cognito)",
    timeout_seconds=15,
    routes=(
        Route("GET", "/api/bookings", auth="cognito"),
        Route("GET", "/api/bookings/{booking_id}", auth="cognito"),
        Route("PUT", "/api/bookings/{booking_id}", auth="cognito", json_body=True),
        Route("POST", "/api/admin/test-webhook", auth="cognito", json_body=True),
        Route("POST", "/api/websites", auth="cognito", json_body=True),
        Route("GET", "/api/websites", auth="cognito"),
        Route("PATCH", "/api/websites/{website_id}", auth="cognito", json_body=True),
        Route("POST", "/api/websites/{website_id}/rotate-key", auth="cognito"),
        Route("POST", "/api/integrations", auth="cognito", json_body=True),
        Route("GET", "/api/integrations", auth="cognito"),
        Route("PATCH", "/api/integrations/{integration_id}", auth="cognito", json_body=True),
        Route("GET", "/api/integrations/rooms/status", auth="cognito"),
        Route("GET", "/api/integrations/rooms/calls", auth="cognito"),
        Route("GET", "/api/integrations/rooms/calls/failed", auth="cognito"),
        # The API's description is public: it documents routes, it holds no data
        Route("GET", "/api/openapi.json", auth="public"),
    ),
    access=Access(
        read_tables=("Bookings", "IntegrationLogs"),
        write_tables=("Bookings",),
        kms_encrypt=True,  # new webhook secrets and integration secret headers are stored encrypted
    ),
)


# Beds24 (seed 001): webhooks acknowledged fast and applied by a consumer, pull syncs run by a consumer
# page by page, started by schedules (every 5 minutes; the daily full sync is checked hourly against each
# property's local time) or by operators (beds24_admin, Cognito).
BEDS24_FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="beds24_webhook",
        description="Beds24 booking webhooks: verified (token or signature), stored once, queued for processing",
        timeout_seconds=10,
        # No JSON model at the gateway: a signature is over the raw body, which must reach us untouched.
        routes=(Route("POST", "/api/integrations/beds24/webhook", auth="signature"),),
        access=Access(
            read_tables=("Bookings",),
            write_tables=("Bookings",),
            send_queues=("Beds24Events",),
            kms_decrypt=True,  # the property's webhook secret, to check an HMAC signature
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
            kms_encrypt=True,  # a newly minted Beds24 access token is stored encrypted
            kms_decrypt=True,  # the refresh and access tokens
        ),
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
            send_queues=("Beds24Sync",),
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
        ),
        access=Access(
            read_tables=("Bookings",),
            write_tables=("Bookings",),
            send_queues=("Beds24Sync",),
            kms_encrypt=True,  # refresh tokens and webhook secrets are stored encrypted
        ),
    ),
)

FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="health",
        description="Liveness answer for the API: GET /api/health",
        timeout_seconds=3,
        memory_mb=128,
        routes=(Route("GET", "/api/health", auth="public"),),
    ),
    Function(
        name="sync_bookings",
        description="Inbound booking sync from source websites (seed 002): POST /api/bookings/sync",
        timeout_seconds=10,
        routes=(Route("POST", "/api/bookings/sync", auth="api_key", json_body=True),),
        access=Access(
            read_tables=("Bookings",),
            write_tables=("Bookings", "IntegrationLogs"),
        ),
    ),
    Function(
        name="outbox_relay",
        description="Relays domain events written to the Bookings table (outbox) onto the BookingEvents queue",
        timeout_seconds=30,
        stream=StreamTrigger(table="Bookings", sk_prefixes=("EVENT#",)),
        access=Access(send_queues=("BookingEvents",)),
    ),
    Function(
        name="booking_events",
        description="Delivers booking domain events to the websites' webhooks, signed (seed 002 sync back)",
        # A batch of 5 slow receivers (10 s webhook timeout each) fits in 60 s; visibility is then 6 min.
        timeout_seconds=60,
        queue=QueueTrigger(queue="BookingEvents", batch_size=5),
        access=Access(
            read_tables=("Bookings", "Idempotency"),
            write_tables=("IntegrationLogs", "Idempotency"),
            kms_decrypt=True,
        ),
    ),
    Function(
        name="stripe_webhook",
        description="Stripe payment events -> passes (verified, deduplicated on event id), queued for a pincode",
        timeout_seconds=10,
        # No JSON model at the gateway: the signature is over the raw body, which must reach us untouched.
        routes=(Route("POST", "/api/webhooks/stripe", auth="signature", json_body=False),),
        access=Access(
            read_tables=("Bookings", "Idempotency"),
            write_tables=("Bookings", "Idempotency"),
            send_queues=("PassIssuance",),
            read_secrets=("StripeWebhookSecret",),
        ),
    ),
    Function(
        name="issue_pincodes",
        description="Obtains each pass's door pincode from the Rooms Event Hub (retried with backoff for 24 h)",
        # A batch of 5 Rooms calls (10 s timeout each, HUB_ROOMS_TIMEOUT_SECONDS) fits in 60 s.
        timeout_seconds=60,
        queue=QueueTrigger(queue="PassIssuance", batch_size=5),
        access=Access(
            read_tables=("Bookings", "Idempotency"),
            write_tables=("Bookings", "IntegrationLogs", "Idempotency"),
            kms_encrypt=True,  # the pincode is stored encrypted
            kms_decrypt=True,  # the integration's secret headers, if any
        ),
    ),
    Function(
        name="passes",
        description="A pass and its pincode for the organisation's website: GET /api/passes/{pass_id}, /api/passes",
        timeout_seconds=10,
        routes=(Route("GET", "/api/passes/{pass_id}", auth="api_key"), Route("GET", "/api/passes", auth="api_key")),
        access=Access(read_tables=("Bookings",), kms_decrypt=True),
        # Its answers carry pincodes: the tracer must not copy them into X-Ray segment metadata
        environment=(("POWERTOOLS_TRACER_CAPTURE_RESPONSE", "false"),),
    ),
    ADMIN_API,
    *BEDS24_FUNCTIONS,
)


# --- Lookups used by both renderers -----------------------------------------------------------------


def table(name: str) -> Table:
    return next(t for t in TABLES if t.name == name)


def queue(name: str) -> Queue:
    return next(q for q in QUEUES if q.name == name)


def secret(name: str) -> Secret:
    return next(s for s in SECRETS if s.name == name)


def function(name: str) -> Function:
    return next(f for f in FUNCTIONS if f.name == name)


def queue_consumer(queue_name: str) -> Function:
    return next(f for f in FUNCTIONS if f.queue and f.queue.queue == queue_name)


def visibility_timeout_seconds(q: Queue) -> int:
    """AWS's guidance: a queue's visibility timeout is at least 6x its consumer's timeout."""
    return 6 * queue_consumer(q.name).timeout_seconds


def age_budget_seconds(q: Queue) -> int:
    """How old a queue's oldest message may get before its consumer counts as stuck."""
    if q.age_budget_minutes is not None:
        return q.age_budget_minutes * 60
    return max(15 * 60, 2 * visibility_timeout_seconds(q))


def stream_filter(trigger: StreamTrigger) -> dict[str, object]:
    """The event filter of a stream trigger (Lambda filter-pattern syntax), rendered by both targets:
    new items only, and only those whose SK begins with one of the trigger's prefixes."""
    pattern: dict[str, object] = {"eventName": ["INSERT"]}
    if trigger.sk_prefixes:
        pattern["dynamodb"] = {"NewImage": {"SK": {"S": [{"prefix": prefix} for prefix in trigger.sk_prefixes]}}}
    return pattern


def schedule_detail(schedule: Schedule) -> dict[str, str]:
    """What a scheduled invocation carries in the EventBridge event's `detail` (both targets send the
    whole scheduled event, with this as its detail)."""
    return dict(schedule.payload)


def all_routes() -> list[tuple[Route, Function]]:
    return [(route, fn) for fn in FUNCTIONS for route in fn.routes]
