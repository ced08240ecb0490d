"""The real-time package's own environment (kept apart from core.settings so the domain stays self-contained)."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field


class RealtimeSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    connections_table: str = Field("bookinghub-RealtimeConnections", alias="REALTIME_CONNECTIONS_TABLE_NAME")
    timeline_table: str = Field("bookinghub-RealtimeTimeline", alias="REALTIME_TIMELINE_TABLE_NAME")
    # The API Gateway management endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage});
    # under `make run`, the local WebSocket server's loopback endpoint
    management_url: str = Field("", alias="REALTIME_MANAGEMENT_URL")


def get_realtime_settings() -> RealtimeSettings:
    """Read on every call (three variables: cheap), so tests and the local runtime need no cache reset."""
    fields = {f.alias for f in RealtimeSettings.model_fields.values() if f.alias}
    return RealtimeSettings.model_validate({k: v for k, v in os.environ.items() if k in fields})
