"""Bodies of the admin API's booking routes (edit, test webhook). Every body rejects unknown fields; the
logic adds the rules that need the store (visibility, optimistic concurrency)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from bookinghub.bookings.models.fields import BookingStatus, Email, GuestCount, TimeSlot, Transport
from bookinghub.core.errors import InvalidPayload
from bookinghub.core.fields import AdminBody, LongText, Text, require_some
from bookinghub.websites.models import WebsiteId

WebhookTestEvent = Literal["booking.updated", "booking.status_changed"]


# --- Bookings ----------------------------------------------------------------------------------------


class CustomerEdit(AdminBody):
    name: Text | None = None
    email: Email | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    country_code: Annotated[str, StringConstraints(pattern=r"^\+?\d{1,4}$")] | None = None


class TransportEdit(Transport):
    """The sync payload's transport fields, validated as an admin body (JSON from Powertools, not strict)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=False)


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


class BookingEdit(AdminBody):
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
        require_some(self)
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


# --- Test webhook ------------------------------------------------------------------------------------


class TestWebhookRequest(AdminBody):
    website_id: WebsiteId
    booking_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]
    event: WebhookTestEvent = "booking.updated"
