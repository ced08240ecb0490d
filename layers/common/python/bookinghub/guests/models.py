"""A guest: one person across the bookings of an organisation, merged by email or phone (guests/logic)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Guest(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    organisation_id: str
    name: str | None = None
    email: str | None = None  # lower-cased
    phone: str | None = None  # E.164
    phones: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)
    country: str | None = None
    data_as_of: str  # the modification time of the newest booking merged in
    created_at: str
    updated_at: str
