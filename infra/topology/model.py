"""The vocabulary of the topology: what a function, route, trigger, queue, table, key and secret is.

Plain frozen dataclasses, no behaviour and nothing heavy imported, so both renderers (infra/cdk/ and
infra/local/) and the tests read them cheaply. The values themselves live in the domain modules beside
this one (bookings.py, payments.py, beds24.py, ...), assembled by infra/topology/__init__.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
StreamView = Literal["NEW_IMAGE", "NEW_AND_OLD_IMAGES"]
Projection = Literal["ALL", "KEYS_ONLY", "INCLUDE"]
StreamEventName = Literal["INSERT", "MODIFY", "REMOVE"]
# How a route's caller is authenticated. Only "cognito" is enforced by API Gateway itself; the others
# are checked inside the function (and cdk-nag's authorizer findings are suppressed with that reason).
RouteAuth = Literal["public", "api_key", "signature", "cognito"]


@dataclass(frozen=True)
class Index:
    """A global secondary index with string keys. Each entry written costs a write unit per KB of what it
    projects, and is rewritten whenever a projected attribute changes: project only what its queries read
    (KEYS_ONLY, or INCLUDE `include`), and fetch the rest from the table."""

    name: str
    partition_key: str
    sort_key: str | None = None
    projection: Projection = "ALL"
    include: tuple[str, ...] = ()  # the non-key attributes of an INCLUDE projection


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
class StreamMatch:
    """One kind of record a stream trigger takes, beyond its SK prefixes (a mapping's filters are ORed).
    Attributes are (name, DynamoDB type) pairs: Lambda's `exists` only tests a leaf such as `rtw.S`."""

    event_names: tuple[StreamEventName, ...] = ("INSERT",)
    new_has: tuple[tuple[str, str], ...] = ()  # the new image has these
    new_lacks: tuple[tuple[str, str], ...] = ()  # the new image has none of these
    old_lacks: tuple[tuple[str, str], ...] = ()  # the old image (if any) has none of these


@dataclass(frozen=True)
class StreamTrigger:
    table: str
    # Only records whose new image's SK begins with one of these prefixes reach the function
    # (CDK: event source filter; locally: the stream poller applies the same filter).
    sk_prefixes: tuple[str, ...] = ()
    # Which changes reach it: new items only, unless it derives events from updates too
    event_names: tuple[StreamEventName, ...] = ("INSERT",)
    batch_size: int = 100
    max_retry_attempts: int = 10
    # When set, these replace `event_names`: a record reaches the function if it matches any of them
    # (one filter each, all with the SK prefixes)
    matches: tuple[StreamMatch, ...] = ()


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
    kms_data_keys: bool = False  # kms:GenerateDataKey: envelope encryption of many values (aws/envelope.py)
    read_secrets: tuple[str, ...] = ()  # names of SECRETS entries (secretsmanager:GetSecretValue)


@dataclass(frozen=True)
class Function:
    """A Lambda function and what triggers it.

    `name` is its folder: the code of every route, queue, stream and schedule below is
    functions/<name>/handler.py (`handler_path`), which calls one function of bookinghub/<domain>/logic/.
    """

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


@dataclass(frozen=True)
class Key:
    """A KMS key; functions get its id in `env_var`."""

    name: str
    env_var: str
    description: str


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


# Environment of every function, whatever it does (both renderers set it before a function's own).
# PYDANTIC_DISABLE_PLUGINS: pydantic otherwise scans every installed distribution's entry points for
# plugins when the first model is built, on every cold start (the hub uses none).
RUNTIME_ENVIRONMENT: tuple[tuple[str, str], ...] = (("PYDANTIC_DISABLE_PLUGINS", "__all__"),)
