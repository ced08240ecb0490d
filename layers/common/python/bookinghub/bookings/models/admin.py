"""Bodies and answers of the admin API. Every body rejects unknown fields; the service layer adds the
rules that need the store or the network (visibility, optimistic concurrency, webhook address checks)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from bookinghub.bookings.models.sync import (
    BookingStatus,
    Count,
    Email,
    GuestCount,
    LongText,
    Money,
    Text,
    TimeSlot,
    TransportType,
)
from bookinghub.core.errors import InvalidPayload
from bookinghub.registry.models import IntegrationStatus

WebsiteId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
OrganisationId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
Domain = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    ),
]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2000)]
WebhookTestEvent = Literal["booking.updated", "booking.status_changed"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _require_some(model: BaseModel) -> None:
    if not model.model_fields_set - {"version"}:
        raise ValueError("at least one field to change is required")


# --- Bookings ----------------------------------------------------------------------------------------


class CustomerEdit(_Body):
    name: Text | None = None
    email: Email | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    country_code: Annotated[str, StringConstraints(pattern=r"^\+?\d{1,4}$")] | None = None


class TransportEdit(_Body):
    type: TransportType | None = None
    hotel_name: Text | None = None
    room_number: Annotated[str, StringConstraints(max_length=32)] | None = None
    non_players: Count | None = None
    private_passengers: Count | None = None
    cost: Money | None = None


# Columns an explicit null clears; the others are required on a booking and may only be replaced.
CLEARABLE = {
    "customer_phone",
    "customer_country_code",
    "special_requests",
    "admin_notes",
    "transport_type",
    "hotel_name",
    "room_number",
}
# Booking columns behind each edit field, for the changed-fields diff (flattened as the seed's table).
_TRANSPORT_COLUMNS = {"type": "transport_type", "cost": "transport_cost"}


class BookingEdit(_Body):
    """PUT /api/bookings/{id}: the editable fields; `version` (or If-Match), if sent, is the version being
    edited (without either, the edit applies to the booking as it is: last writer wins)."""

    version: Annotated[int, Field(ge=1, le=10**12)] | None = None
    status: BookingStatus | None = None
    activity_date: date | None = None
    time_slot: TimeSlot | None = None
    guest_count: GuestCount | None = None
    customer: CustomerEdit | None = None
    transport: TransportEdit | None = None
    special_requests: LongText | None = None
    admin_notes: LongText | None = None

    @model_validator(mode="after")
    def _something(self) -> BookingEdit:
        _require_some(self)
        return self

    def columns(self) -> dict[str, Any]:
        """The booking columns this edit sets (None: clear it), only those the body names."""
        columns: dict[str, Any] = {}
        for name in ("status", "time_slot", "guest_count", "special_requests", "admin_notes"):
            if name in self.model_fields_set:
                columns[name] = getattr(self, name)
        if "activity_date" in self.model_fields_set:
            columns["activity_date"] = self.activity_date.isoformat() if self.activity_date else None
        if self.customer is not None:
            for name in self.customer.model_fields_set:
                columns[f"customer_{name}"] = getattr(self.customer, name)
        if self.transport is not None:
            for name in self.transport.model_fields_set:
                columns[_TRANSPORT_COLUMNS.get(name, name)] = getattr(self.transport, name)
        not_clearable = sorted(k for k, v in columns.items() if v is None and k not in CLEARABLE)
        if not_clearable:
            raise InvalidPayload(
                "These fields cannot be cleared",
                details=[{"field": name, "message": "may not be null"} for name in not_clearable],
            )
        return columns


# --- Websites ----------------------------------------------------------------------------------------


class WebsiteCreate(_Body):
    id: WebsiteId
    name: Text
    domain: Domain
    organisation_id: OrganisationId | None = None  # superadmin only; an admin's is their own
    webhook_url: Url | None = None
    logo_url: Url | None = None
    is_active: bool = True

    @field_validator("logo_url")
    @classmethod
    def _https_logo(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value


class WebsitePatch(_Body):
    name: Text | None = None
    domain: Domain | None = None
    webhook_url: Url | None = None  # null removes the webhook
    logo_url: Url | None = None  # null removes the logo
    is_active: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> WebsitePatch:
        _require_some(self)
        for name in ("name", "domain", "is_active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        if self.logo_url is not None and not self.logo_url.lower().startswith("https://"):
            raise ValueError("logo_url must be an https:// URL")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


# --- Integrations ------------------------------------------------------------------------------------

SecretHeaders = Annotated[
    dict[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,64}$")],
        Annotated[str, StringConstraints(min_length=1, max_length=2000)],
    ],
    Field(max_length=10),
]


class RoomsConfigBody(_Body):
    base_url: Url
    webhook_path: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._~/-]{1,200}$")]
    property_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class IntegrationCreate(_Body):
    integration_type: Literal["rooms_event_hub"]
    name: Text
    organisation_id: OrganisationId | None = None  # superadmin only
    config: RoomsConfigBody
    reservation_id_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{0,20}$")] = ""
    # Write-only: stored KMS-encrypted, never returned (answers say only whether there are any)
    secret_headers: SecretHeaders | None = None
    status: IntegrationStatus = "active"


class IntegrationPatch(_Body):
    name: Text | None = None
    status: IntegrationStatus | None = None
    config: RoomsConfigBody | None = None
    reservation_id_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{0,20}$")] | None = None
    secret_headers: SecretHeaders | None = None  # replaces them all; {} removes them

    @model_validator(mode="after")
    def _something(self) -> IntegrationPatch:
        _require_some(self)
        for name in ("name", "status", "config", "reservation_id_prefix", "secret_headers"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self


# --- Test webhook ------------------------------------------------------------------------------------


class TestWebhookRequest(_Body):
    website_id: WebsiteId
    booking_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]
    event: WebhookTestEvent = "booking.updated"
