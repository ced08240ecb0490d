"""Normalised PMS records (seed 004): what every provider's data becomes before it reaches the hub.

Money is integer cents with an ISO currency; dates are ISO dates. Providers map their own statuses to
these enums exhaustively (a status they do not know is a MappingError, never silently "pending").
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class BookingStatus(StrEnum):
    PENDING = "PENDING"  # Cloudbeds not_confirmed
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    CHECKED_IN = "CHECKED_IN"
    CHECKED_OUT = "CHECKED_OUT"
    NO_SHOW = "NO_SHOW"


class RoomStatus(StrEnum):
    AVAILABLE = "AVAILABLE"
    OCCUPIED = "OCCUPIED"
    BLOCKED = "BLOCKED"  # out of order / out of service


class CleaningStatus(StrEnum):
    CLEAN = "CLEAN"
    DIRTY = "DIRTY"
    INSPECTED = "INSPECTED"
    UNKNOWN = "UNKNOWN"


class BookingSource(StrEnum):
    DIRECT = "DIRECT"
    OTA = "OTA"
    WALK_IN = "WALK_IN"
    PHONE = "PHONE"
    OTHER = "OTHER"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NormalizedGuest(_Record):
    external_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    loyalty_tier: str | None = None
    total_stays: int = Field(0, ge=0)
    # The provider's own change time, when it has one (guest matching keeps the newest data)
    modified_at: datetime | None = None

    @property
    def full_name(self) -> str | None:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or None


class NormalizedBooking(_Record):
    external_id: str = Field(min_length=1, max_length=128)
    status: BookingStatus
    source: BookingSource = BookingSource.OTHER
    channel: str | None = None  # the provider's source name, e.g. "Booking.com"
    guest: NormalizedGuest
    check_in: date
    check_out: date
    room: str | None = None
    total_amount_cents: int = Field(ge=0)
    currency: Currency
    modified_at: datetime | None = None


class NormalizedRoom(_Record):
    external_id: str = Field(min_length=1, max_length=128)
    room_number: str
    room_type: str | None = None
    status: RoomStatus
    cleaning_status: CleaningStatus = CleaningStatus.UNKNOWN
    rate_cents: int | None = Field(None, ge=0)
    currency: Currency | None = None


class FetchOptions(_Record):
    since: datetime | None = None
    limit: int = Field(100, ge=1, le=1000)


class SyncSummary(_Record):
    processed: int
    failed: int
    duration: int  # milliseconds, as the seed
