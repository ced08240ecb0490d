"""Delivery tunables, parsed from the environment once (cached) like bookinghub.core.settings (which has
the delivery system's resources: the Deliveries queue and the producer's secret)."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

# Seed 002's 1 s, 5 s, 30 s, 5 min, then Svix's 30 min, 2 h, 5 h, 10 h, 10 h: ~27.6 h in all
DEFAULT_SCHEDULE_SECONDS: tuple[int, ...] = (1, 5, 30, 300, 1800, 7200, 18000, 36000, 36000)


class DeliverySettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    # One attempt's whole HTTP timeout (Svix's 15 s)
    timeout_seconds: float = Field(15.0, alias="HUB_DELIVERY_TIMEOUT_SECONDS", gt=0, le=30)
    # Multiplies every wait of the schedule, the breaker's cool-down and the auto-disable window (tests: 0.001)
    time_scale: float = Field(1.0, alias="HUB_DELIVERY_TIME_SCALE", gt=0, le=1)
    schedule_seconds: tuple[int, ...] = Field(DEFAULT_SCHEDULE_SECONDS, alias="HUB_DELIVERY_SCHEDULE")
    # +/- this fraction of random jitter on each wait, so retries of one outage do not arrive together
    jitter: float = Field(0.2, alias="HUB_DELIVERY_JITTER", ge=0, le=0.5)
    # Waits up to this long ride on an SQS message timer; longer ones on the due-time index (swept every minute)
    max_queue_delay_seconds: int = Field(900, alias="HUB_DELIVERY_MAX_QUEUE_DELAY_SECONDS", ge=0, le=900)
    # Attempts log retention (TTL)
    attempt_retention_days: int = Field(30, alias="HUB_DELIVERY_ATTEMPT_RETENTION_DAYS", ge=1, le=400)
    # Auto-disable an endpoint after this many consecutive failures spanning at least this long
    disable_after_failures: int = Field(20, alias="HUB_DELIVERY_DISABLE_AFTER_FAILURES", ge=1)
    disable_after_seconds: int = Field(86400, alias="HUB_DELIVERY_DISABLE_AFTER_SECONDS", ge=0)
    # Circuit breaker: open after this many consecutive failures, probe again after the cool-down
    breaker_threshold: int = Field(5, alias="HUB_DELIVERY_BREAKER_THRESHOLD", ge=1)
    breaker_cooldown_seconds: int = Field(30, alias="HUB_DELIVERY_BREAKER_COOLDOWN_SECONDS", ge=1)
    # A claimed attempt that never reports back is re-queued by the sweeper after this long
    lease_seconds: int = Field(300, alias="HUB_DELIVERY_LEASE_SECONDS", ge=30)
    # A queue batch's attempts are sent in parallel on at most this many threads
    dispatch_workers: int = Field(8, alias="HUB_DELIVERY_DISPATCH_WORKERS", ge=1, le=32)
    # How long a rotated-out signing secret keeps signing beside the new one
    rotation_grace_seconds: int = Field(86400, alias="HUB_DELIVERY_ROTATION_GRACE_SECONDS", ge=0)

    def scaled(self, seconds: float) -> float:
        return seconds * self.time_scale


@cache
def get_delivery_settings() -> DeliverySettings:
    fields = {f.alias for f in DeliverySettings.model_fields.values() if f.alias}
    values: dict[str, object] = {k: v for k, v in os.environ.items() if k in fields}
    schedule = values.get("HUB_DELIVERY_SCHEDULE")
    if isinstance(schedule, str):  # "1,5,30": a comma-separated list in the environment
        values["HUB_DELIVERY_SCHEDULE"] = tuple(int(part) for part in schedule.split(",") if part.strip())
    return DeliverySettings.model_validate(values)
