"""The hub's topology, declared once: every function with its triggers, every queue, table, key and secret.

Split by domain, like the bookinghub package: data.py (the shared tables and key), core.py (health),
bookings.py, websites.py, payments.py, admin.py, beds24.py, delivery.py, pms.py, realtime.py; gateway.py
(the API gateway's own error answers); model.py says what each kind of thing is.
This module assembles them into the one topology both renderers read: infra/cdk/ (CloudFormation,
through infra/stack.py) and infra/local/ (this machine, `make run`). Neither lists a route, queue or
table of its own. Nothing heavy is imported here, so renderers and tests read it cheaply.

From a route to its code in two hops: find the route in the domain module (`python -m infra.topology`
lists them all), and the Function declaring it names its folder: functions/<name>/handler.py.
"""

from __future__ import annotations

from infra.topology import admin, beds24, bookings, core, data, delivery, gateway, payments, pms, realtime, websites
from infra.topology.data import BOOKINGS, IDEMPOTENCY, INTEGRATION_LOGS, SECRETS_KEY
from infra.topology.gateway import GATEWAY_ERRORS, GatewayError
from infra.topology.model import (
    RUNTIME_ENVIRONMENT,
    Access,
    Function,
    HttpMethod,
    Index,
    Key,
    Queue,
    QueueTrigger,
    Route,
    RouteAuth,
    Schedule,
    Secret,
    StreamMatch,
    StreamTrigger,
    StreamView,
    Table,
)

__all__ = [
    "ADMIN_API",
    "BEDS24_EVENTS",
    "BEDS24_FUNCTIONS",
    "BEDS24_SYNC",
    "BOOKINGS",
    "BOOKING_EVENTS",
    "FUNCTIONS",
    "GATEWAY_ERRORS",
    "IDEMPOTENCY",
    "INTEGRATION_LOGS",
    "PASS_ISSUANCE",
    "QUEUES",
    "RUNTIME_ENVIRONMENT",
    "SECRETS",
    "SECRETS_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "TABLES",
    "Access",
    "Function",
    "GatewayError",
    "HttpMethod",
    "Index",
    "Key",
    "Queue",
    "QueueTrigger",
    "Route",
    "RouteAuth",
    "Schedule",
    "Secret",
    "StreamMatch",
    "StreamTrigger",
    "StreamView",
    "Table",
    "age_budget_seconds",
    "all_routes",
    "function",
    "gateway",
    "queue",
    "queue_consumer",
    "resource_env_vars",
    "schedule_detail",
    "secret",
    "stream_filter",
    "stream_filters",
    "table",
    "visibility_timeout_seconds",
]

# The shared tables (data.py) and the real-time feed's own (realtime.py)
TABLES: tuple[Table, ...] = (*data.TABLES, *realtime.TABLES)

BOOKING_EVENTS = bookings.BOOKING_EVENTS
PASS_ISSUANCE = payments.PASS_ISSUANCE
BEDS24_EVENTS = beds24.BEDS24_EVENTS
BEDS24_SYNC = beds24.BEDS24_SYNC
QUEUES: tuple[Queue, ...] = (*bookings.QUEUES, *payments.QUEUES, *beds24.QUEUES, *delivery.QUEUES, *pms.QUEUES)

STRIPE_WEBHOOK_SECRET = payments.STRIPE_WEBHOOK_SECRET
SECRETS: tuple[Secret, ...] = (*payments.SECRETS, *delivery.SECRETS)

ADMIN_API = admin.ADMIN_API
BEDS24_FUNCTIONS = beds24.FUNCTIONS
FUNCTIONS: tuple[Function, ...] = (
    *core.FUNCTIONS,
    *bookings.FUNCTIONS,
    *websites.FUNCTIONS,
    *payments.FUNCTIONS,
    *admin.FUNCTIONS,
    *beds24.FUNCTIONS,
    *delivery.FUNCTIONS,
    *pms.FUNCTIONS,
    *realtime.FUNCTIONS,
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


def resource_env_vars(fn: Function) -> tuple[str, ...]:
    """The env vars that name the resources a function is granted (tables, queues, the KMS key): both
    renderers set them, and its handler refuses to start without them (REQUIRED_SETTINGS). Secrets are
    not among them: on AWS the function gets a secret's ARN, under `make run` its value."""
    names = [table(name).env_var for name in dict.fromkeys(fn.access.read_tables + fn.access.write_tables)]
    names += [queue(name).env_var for name in fn.access.send_queues]
    names += [SECRETS_KEY.env_var] if fn.access.kms_encrypt or fn.access.kms_decrypt or fn.access.kms_data_keys else []
    return tuple(names)


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
    the trigger's event names (new items only, by default), and only those whose SK begins with one of its
    prefixes."""
    pattern: dict[str, object] = {"eventName": list(trigger.event_names)}
    if trigger.sk_prefixes:
        pattern["dynamodb"] = {"NewImage": {"SK": {"S": [{"prefix": prefix} for prefix in trigger.sk_prefixes]}}}
    return pattern


def stream_filters(trigger: StreamTrigger) -> list[dict[str, object]]:
    """Every filter of a stream trigger (Lambda ORs them): `stream_filter` alone, or one per match."""
    if not trigger.matches:
        return [stream_filter(trigger)]
    return [_match_filter(trigger, match) for match in trigger.matches]


def _match_filter(trigger: StreamTrigger, match: StreamMatch) -> dict[str, object]:
    new: dict[str, object] = {}
    if trigger.sk_prefixes:
        new["SK"] = {"S": [{"prefix": prefix} for prefix in trigger.sk_prefixes]}
    new.update({name: {kind: [{"exists": True}]} for name, kind in match.new_has})
    new.update({name: {kind: [{"exists": False}]} for name, kind in match.new_lacks})
    images: dict[str, object] = {"NewImage": new} if new else {}
    if match.old_lacks:
        images["OldImage"] = {name: {kind: [{"exists": False}]} for name, kind in match.old_lacks}
    pattern: dict[str, object] = {"eventName": list(match.event_names)}
    if images:
        pattern["dynamodb"] = images
    return pattern


def schedule_detail(schedule: Schedule) -> dict[str, str]:
    """What a scheduled invocation carries in the EventBridge event's `detail` (both targets send the
    whole scheduled event, with this as its detail)."""
    return dict(schedule.payload)


def all_routes() -> list[tuple[Route, Function]]:
    return [(route, fn) for fn in FUNCTIONS for route in fn.routes]
