"""Sync logs (the seed's PMSSyncLog) and the manual sync request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bookinghub.pms.models import Slug

EntityType = Literal["BOOKING", "ROOM", "GUEST"]
Operation = Literal["FETCH", "WEBHOOK", "MANUAL"]
SyncStatus = Literal["RUNNING", "COMPLETED", "FAILED"]
ENTITY_OF_PATH: dict[str, EntityType] = {"bookings": "BOOKING", "rooms": "ROOM", "guests": "GUEST"}


class SyncLog(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    hotel_slug: str
    organisation_id: str
    provider: str
    entity_type: EntityType
    operation: Operation
    status: SyncStatus
    items_processed: int = 0
    items_failed: int = 0
    duration_ms: int = 0
    started_at: str
    finished_at: str | None = None
    error: str | None = None
    correlation_id: str | None = None
    since: str | None = None
    limit: int | None = None
    scheduled_time: str | None = None  # a FETCH run's fire (its hotel's schedule)

    def view(self) -> dict[str, object]:
        return self.model_dump()

    def summary(self) -> dict[str, int]:
        return {"processed": self.items_processed, "failed": self.items_failed, "duration": self.duration_ms}


class SyncRequest(BaseModel):
    """POST /api/pms/sync/{bookings|rooms|guests}: the seed's body, plus the hotel."""

    model_config = ConfigDict(extra="forbid")

    hotel_slug: Slug | None = None
    hotel: Slug | None = None  # alias accepted for the seed-style body
    provider: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    since: datetime | None = None
    limit: int = Field(100, ge=1, le=1000)
    # Run on the queue even when small (a long sync always does)
    asynchronous: bool = False
