"""Environment parsed once into a pydantic model.

A plain pydantic model (not pydantic-settings) keeps cold starts short: pydantic-settings pulls in
asyncio and costs ~200 ms of import time here.
"""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    # Physical resource names, injected by the renderer (CDK or the local runtime)
    bookings_table: str = Field("bookinghub-Bookings", alias="BOOKINGS_TABLE_NAME")
    idempotency_table: str = Field("bookinghub-Idempotency", alias="IDEMPOTENCY_TABLE_NAME")
    integration_logs_table: str = Field("bookinghub-IntegrationLogs", alias="INTEGRATION_LOGS_TABLE_NAME")
    booking_events_queue_url: str = Field("", alias="BOOKING_EVENTS_QUEUE_URL")
    secrets_kms_key_id: str = Field("", alias="SECRETS_KMS_KEY_ID")

    # Behaviour
    stage: str = Field("local", alias="HUB_STAGE")
    max_body_bytes: int = Field(256 * 1024, alias="HUB_MAX_BODY_BYTES")
    log_retention_days: int = Field(90, alias="HUB_LOG_RETENTION_DAYS")
    webhook_timeout_seconds: float = Field(10.0, alias="HUB_WEBHOOK_TIMEOUT_SECONDS")
    # Loopback http webhook targets are only acceptable on a developer's machine (`make run`)
    allow_insecure_webhooks: bool = Field(False, alias="HUB_ALLOW_INSECURE_WEBHOOKS")


@cache
def get_settings() -> Settings:
    """Parse the environment once per process (cached), validating types."""
    fields = {f.alias for f in Settings.model_fields.values() if f.alias}
    return Settings.model_validate({k: v for k, v in os.environ.items() if k in fields})
