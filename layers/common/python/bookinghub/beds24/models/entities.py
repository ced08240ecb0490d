"""Beds24 (seed 001): a property's configuration, Beds24's booking as it arrives, and the hub's records
made from it (reservation, sync run, webhook event; the guest is guests/models.py).

Beds24 is lenient about types (ids and prices come as numbers or numeric strings, empty strings stand for
"none"), so the inbound booking model coerces rather than rejects; only what the hub cannot do without
(`id`, `propertyId`) is required. Everything the hub stores is normalised here, once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

BEDS24: Literal["beds24"] = "beds24"
# Every status Beds24 knows; GET /bookings returns all but cancelled unless told otherwise.
BEDS24_STATUSES = ("confirmed", "request", "new", "cancelled", "black", "inquiry")
DEFAULT_BASE_URL = "https://beds24.com/api/v2"

# Each model builds its validator on first use rather than at import: a function imports all of them but
# uses a few (the webhook handler only reads a property), and building them all cost ~170 ms of cold start.
LAZY = ConfigDict(defer_build=True)

PropertySlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
SyncMode = Literal["incremental", "full", "reconcile"]
RunStatus = Literal["queued", "running", "succeeded", "failed"]
WebhookKind = Literal["created", "modified", "cancelled", "deleted"]


# --- Configuration (the seed's beds24_config) ------------------------------------------------------


class Beds24Credentials(BaseModel):
    """KMS ciphertexts (bookinghub.aws.kms) and a hash; never plaintext, never returned by the API."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    refresh_token_encrypted: str | None = None
    access_token_encrypted: str | None = None
    access_token_expires_at: float | None = None  # epoch seconds
    webhook_secret_encrypted: str | None = None  # HMAC key for X-Beds24-Signature; also the URL/header token
    webhook_token_hash: str | None = None  # SHA-256 of the same secret, to find the property by its token


class Beds24Property(BaseModel):
    """One Beds24 property wired to the hub, per organisation."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    id: PropertySlug  # the hub's name for it, e.g. demo-property
    organisation_id: str
    name: str
    beds24_property_id: int
    base_url: str = DEFAULT_BASE_URL
    room_mapping: dict[str, str] = Field(default_factory=dict)  # Beds24 roomId -> the hub's room name
    time_zone: str = "UTC"  # IANA; the daily full sync runs at full_sync_hour local time
    default_country: str | None = None  # ISO 3166 alpha-2, for phone numbers written without +country
    pull_sync_enabled: bool = True
    reread_on_webhook: bool = True  # a webhook is a hint: read the booking back before applying it
    full_sync_hour: int = Field(3, ge=0, le=23)
    sync_days_back: int = Field(30, ge=0, le=3650)  # pull window: departures from this many days ago ...
    sync_days_ahead: int = Field(730, ge=1, le=3650)  # ... to arrivals this many days ahead
    status: Literal["active", "inactive"] = "active"
    credentials: Beds24Credentials = Field(default_factory=Beds24Credentials)
    # Sync state: the incremental cursor only advances after a fully successful run
    last_successful_cursor: str | None = None
    last_full_sync_date: str | None = None  # local date of the last successful full sync
    active_run_id: str | None = None  # the run holding the property's sync lease
    active_run_expires_at: float | None = None
    created_at: str
    updated_at: str


# --- Beds24's booking, as GET /bookings and the booking webhook carry it ----------------------------


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class Beds24Booking(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    id: int
    property_id: int = Field(alias="propertyId")
    room_id: int | None = Field(None, alias="roomId")
    unit_id: int | None = Field(None, alias="unitId")
    status: str = "confirmed"
    sub_status: str | None = Field(None, alias="subStatus")
    arrival: date | None = None
    departure: date | None = None
    num_adult: int | None = Field(None, alias="numAdult")
    num_child: int | None = Field(None, alias="numChild")
    title: str | None = None
    first_name: str | None = Field(None, alias="firstName")
    last_name: str | None = Field(None, alias="lastName")
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    country: str | None = None
    country2: str | None = None
    price: float | None = None
    deposit: float | None = None
    tax: float | None = None
    commission: float | None = None
    channel: str | None = None
    api_reference: str | None = Field(None, alias="apiReference")
    referer: str | None = None
    notes: str | None = None
    comments: str | None = None
    booking_time: str | None = Field(None, alias="bookingTime")
    modified_time: str | None = Field(None, alias="modifiedTime")
    cancel_time: str | None = Field(None, alias="cancelTime")

    @field_validator("*", mode="before")
    @classmethod
    def _blanks(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("phone", "mobile", "api_reference", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value  # Beds24 may send a phone as a number

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        return str(value).strip().lower() if value is not None else "confirmed"

    @field_validator("booking_time", "modified_time", "cancel_time", mode="before")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        return normalise_time(value) if value is not None else None

    @property
    def guest_name(self) -> str | None:
        name = " ".join(part.strip() for part in (self.first_name, self.last_name) if part and part.strip())
        return name or None


def normalise_time(value: Any) -> str:
    """Beds24's `2025-01-15T10:00:00Z` / `2025-01-15 10:00:00` (UTC) -> `2025-01-15T10:00:00Z`.

    One fixed format, so modification times compare correctly as strings in DynamoDB conditions.
    """
    text = str(value).strip().replace(" ", "T")
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- What the hub stores ---------------------------------------------------------------------------


class Reservation(BaseModel):
    """The hub's normalised reservation made from one Beds24 booking (one per organisation and booking)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    organisation_id: str
    property_id: str
    source: Literal["beds24"] = BEDS24
    beds24_booking_id: int
    beds24_property_id: int
    beds24_room_id: int | None = None
    unit_id: int | None = None
    room: str | None = None  # the hub's room name from the property's room mapping
    status: str
    sub_status: str | None = None
    deleted: bool = False
    arrival: str | None = None
    departure: str | None = None
    num_adult: int | None = None
    num_child: int | None = None
    guest_id: str | None = None
    guest_name: str | None = None
    guest_email: str | None = None
    guest_phone: str | None = None
    price: float | None = None
    deposit: float | None = None
    tax: float | None = None
    commission: float | None = None
    channel: str | None = None
    api_reference: str | None = None
    referer: str | None = None
    notes: str | None = None
    comments: str | None = None
    booking_time: str | None = None
    modified_time: str  # Beds24's clock: what orders changes
    cancel_time: str | None = None
    needs_attention: bool = False
    attention_reasons: list[str] = Field(default_factory=list)
    # Of what Beds24 says (orders two versions with the same modification time) and of everything stored,
    # the hub's own derivations included (room name, attention): an unchanged booking is not rewritten
    source_hash: str
    content_hash: str
    last_source: str  # webhook | incremental | full | reconcile
    created_at: str
    updated_at: str
    # Operators' edits Beds24 has yet to learn of (bookinghub.conflicts.logic.detect): field -> marker
    hub_edits: dict[str, Any] | None = None
    # Beds24's modifiedTime when it last changed each operator-editable field (a versioned edit's check)
    field_times: dict[str, str] | None = None
    updated_by: str | None = None  # the operator of the last hub edit


class SyncCounts(BaseModel):
    model_config = LAZY

    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    needs_attention: int = 0


class SyncRun(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    run_id: str
    organisation_id: str
    property_id: str
    mode: SyncMode
    status: RunStatus
    trigger: str  # schedule | operator | cli
    requested_by: str | None = None
    resync: bool = False
    started_at: str
    finished_at: str | None = None
    duration_ms: int | None = None
    pages: int = 0
    next_page: int = 1
    modified_from: str | None = None
    cursor_candidate: str | None = None
    counts: SyncCounts = Field(default_factory=SyncCounts)
    report: dict[str, int] | None = None  # reconcile: missing_in_hub, missing_in_beds24, discrepancies
    error: str | None = None
