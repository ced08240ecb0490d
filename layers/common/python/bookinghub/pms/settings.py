"""The PMS module's tunables (its queues and bus are resources: bookinghub.core.settings)."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class PMSSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    # A manual sync of at most this many items answers inline; a bigger one runs on the queue
    inline_sync_limit: int = Field(500, alias="HUB_PMS_INLINE_SYNC_LIMIT", ge=0, le=1000)
    # How often a running sync rewrites its log (items)
    progress_every: int = Field(25, alias="HUB_PMS_PROGRESS_EVERY", ge=1)


@cache
def get_pms_settings() -> PMSSettings:
    fields = {f.alias for f in PMSSettings.model_fields.values() if f.alias}
    return PMSSettings.model_validate({k: v for k, v in os.environ.items() if k in fields})
