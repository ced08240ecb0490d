"""Environment parsed once into a pydantic model.

A plain pydantic model (not pydantic-settings) keeps cold starts short: pydantic-settings pulls in
asyncio and costs ~200 ms of import time here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import cache, wraps
from typing import Any, ParamSpec, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from bookinghub.core.coldstart import end_of_init

P = ParamSpec("P")
R = TypeVar("R")


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    # Physical resource names, injected by the renderer (CDK or the local runtime)
    bookings_table: str = Field("bookinghub-Bookings", alias="BOOKINGS_TABLE_NAME")
    idempotency_table: str = Field("bookinghub-Idempotency", alias="IDEMPOTENCY_TABLE_NAME")
    integration_logs_table: str = Field("bookinghub-IntegrationLogs", alias="INTEGRATION_LOGS_TABLE_NAME")
    booking_events_queue_url: str = Field("", alias="BOOKING_EVENTS_QUEUE_URL")
    pass_issuance_queue_url: str = Field("", alias="PASS_ISSUANCE_QUEUE_URL")
    beds24_events_queue_url: str = Field("", alias="BEDS24_EVENTS_QUEUE_URL")
    beds24_sync_queue_url: str = Field("", alias="BEDS24_SYNC_QUEUE_URL")
    beds24_writes_queue_url: str = Field("", alias="BEDS24_WRITES_QUEUE_URL")
    deliveries_queue_url: str = Field("", alias="DELIVERIES_QUEUE_URL")
    pms_events_queue_url: str = Field("", alias="PMS_EVENTS_QUEUE_URL")
    pms_sync_queue_url: str = Field("", alias="PMS_SYNC_QUEUE_URL")
    pms_event_bus_name: str = Field("", alias="PMS_EVENT_BUS_NAME")  # unset: the events are only logged
    pms_bus_events_queue_url: str = Field("", alias="PMS_BUS_EVENTS_QUEUE_URL")
    # Hotels' sync schedules (EventBridge Scheduler): their group, the role they run as, their target queue
    pms_schedule_group_name: str = Field("", alias="PMS_SCHEDULE_GROUP_NAME")
    pms_schedule_role_arn: str = Field("", alias="PMS_SCHEDULE_ROLE_ARN")
    pms_sync_queue_arn: str = Field("", alias="PMS_SYNC_QUEUE_ARN")
    pms_sync_dlq_arn: str = Field("", alias="PMS_SYNC_DLQ_ARN")
    realtime_connections_table: str = Field("bookinghub-RealtimeConnections", alias="REALTIME_CONNECTIONS_TABLE_NAME")
    realtime_timeline_table: str = Field("bookinghub-RealtimeTimeline", alias="REALTIME_TIMELINE_TABLE_NAME")
    # The WebSocket API's management endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage});
    # under `make run`, the local WebSocket server's loopback endpoint
    realtime_management_url: str = Field("", alias="REALTIME_MANAGEMENT_URL")
    secrets_kms_key_id: str = Field("", alias="SECRETS_KMS_KEY_ID")

    # Stripe's webhook signing secret. On AWS: the ARN of its Secrets Manager secret (topology.SECRETS);
    # under `make run` and in tests: the value itself (never set on AWS).
    stripe_webhook_secret_arn: str = Field("", alias="STRIPE_WEBHOOK_SECRET_ARN")
    stripe_webhook_secret: str = Field("", alias="STRIPE_WEBHOOK_SECRET", repr=False)
    # Seed 003's trusted producer (POST /api/webhooks/booking-events): likewise an ARN on AWS, a value locally
    delivery_producer_secret_arn: str = Field("", alias="DELIVERY_PRODUCER_SECRET_ARN")
    delivery_producer_secret: str = Field("", alias="DELIVERY_PRODUCER_SECRET", repr=False)

    # Behaviour
    # The whole API's OpenAPI document; default: the one `make layer` packages beside the bookinghub package
    openapi_document_path: str = Field("", alias="HUB_OPENAPI_DOCUMENT")
    # An AWS call's read timeout: short, so a Lambda fails and is retried rather than hanging, and a call's
    # retries fit in the function's timeout (aws.clients.worst_case_call_seconds). Benchmarks against moto
    # with large tables raise it: moto answers index queries by scanning.
    aws_read_timeout_seconds: float = Field(2.0, alias="HUB_AWS_READ_TIMEOUT_SECONDS", gt=0, le=120)
    stage: str = Field("local", alias="HUB_STAGE")
    max_body_bytes: int = Field(256 * 1024, alias="HUB_MAX_BODY_BYTES")
    log_retention_days: int = Field(90, alias="HUB_LOG_RETENTION_DAYS")
    # Loopback http webhook targets are only acceptable on a developer's machine (`make run`)
    allow_insecure_webhooks: bool = Field(False, alias="HUB_ALLOW_INSECURE_WEBHOOKS")
    # How long a fetched secret is reused before Secrets Manager is asked again
    secret_max_age_seconds: int = Field(300, alias="HUB_SECRET_MAX_AGE_SECONDS", ge=0)
    # Stripe-Signature timestamp tolerance (Stripe's own default)
    stripe_tolerance_seconds: int = Field(300, alias="HUB_STRIPE_TOLERANCE_SECONDS", gt=0)
    # One Rooms Event Hub call; well below the issue_pincodes function's 60 s timeout
    rooms_timeout_seconds: float = Field(10.0, alias="HUB_ROOMS_TIMEOUT_SECONDS", gt=0, le=20)
    # One Beds24 call, and how far back an incremental pull re-reads before its cursor (clock skew, and
    # bookings modified while the previous run was reading)
    beds24_timeout_seconds: float = Field(10.0, alias="HUB_BEDS24_TIMEOUT_SECONDS", gt=0, le=30)
    beds24_overlap_seconds: int = Field(120, alias="HUB_BEDS24_OVERLAP_SECONDS", ge=0, le=3600)
    # Longest wait for Beds24's credit budget inside one invocation; longer waits re-queue the work
    beds24_max_wait_seconds: float = Field(30.0, alias="HUB_BEDS24_MAX_WAIT_SECONDS", ge=0, le=300)


@cache
def get_settings() -> Settings:
    """Parse the environment once per process (cached), validating types."""
    fields = {f.alias for f in Settings.model_fields.values() if f.alias}
    return Settings.model_validate({k: v for k, v in os.environ.items() if k in fields})


class MissingSetting(RuntimeError):
    """A function started without a resource setting that its renderer (CDK or `make run`) must give it."""


def require_settings(*env_vars: str) -> None:
    """Raise MissingSetting, naming them all, when any of these env vars is unset or empty."""
    missing = [name for name in env_vars if not os.environ.get(name, "").strip()]
    if missing:
        raise MissingSetting(
            f"{', '.join(missing)} unset or empty: the function cannot run without "
            "(infra/cdk/ or `make run` sets each from infra/topology/)"
        )


# CPython keeps os.environ's names and values encoded in `_data` (POSIX), which every change through
# os.environ updates: a lookup there skips os.environ's get, __getitem__, encodekey and decodevalue frames
# (four Python calls per name: most of an invocation's settings check). Elsewhere, os.environ itself.
_ENV_DATA: Any = getattr(os.environ, "_data", None)
_ENV_ENCODING = sys.getfilesystemencoding()


def _settings_check(env_vars: tuple[str, ...]) -> Callable[[], None]:
    """require_settings(*env_vars) as a function of no arguments, the names encoded once."""
    encodekey = getattr(os.environ, "encodekey", None)
    if _ENV_DATA is None or encodekey is None:
        return lambda: require_settings(*env_vars)
    keys = tuple(encodekey(name) for name in env_vars)
    read = _ENV_DATA.get
    passed: list[tuple[bytes | None, ...]] = [()]  # the values the last check passed (an environment's stay)

    def check() -> None:
        values = tuple(map(read, keys))
        if values == passed[0]:
            return  # the same values as last time: they passed then
        for value in values:
            # os.environ.get(name, "") is the decoded value (POSIX: the filesystem encoding, surrogateescape)
            if value is None or not value.decode(_ENV_ENCODING, "surrogateescape").strip():
                require_settings(*env_vars)  # raises, naming every one missing
        passed[0] = values

    return check


def requires_settings(*env_vars: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a Lambda handler with the resource settings (table names, queue URLs, key id) it needs.

    Every invocation, the cold start's first, checks them before any work (a few dict lookups): a
    misconfigured function fails at once with the variables' names, rather than an AWS call failing
    later against a queue URL "" or a default table name. The names stay on the handler as
    `required_settings` (tests compare them with the topology's grants).
    """
    aliases = {f.alias for f in Settings.model_fields.values()}
    unknown = [name for name in env_vars if name not in aliases]
    if unknown:
        raise ValueError(f"not settings of bookinghub.core.settings.Settings: {', '.join(unknown)}")

    check = _settings_check(env_vars)

    def decorate(handler: Callable[P, R]) -> Callable[P, R]:
        @wraps(handler)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                check()  # require_settings(*env_vars)
                return handler(*args, **kwargs)
            finally:
                end_of_init()  # the collector paused for the cold start resumes (core/coldstart.py)

        vars(checked)["required_settings"] = env_vars
        vars(checked)["ends_init"] = True
        return checked

    return decorate
