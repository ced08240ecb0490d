"""The inbound sync payload of seed 002 (`POST /api/bookings/sync`), validated strictly.

`booking.created` must carry the full booking. The other events may carry only what changed (the seed:
"Updated fields", "Status + reason", "Status + amount"); a complete payload on them is an upsert.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

SyncEvent = Literal["booking.created", "booking.updated", "booking.cancelled", "booking.refunded"]
BookingStatus = Literal["pending", "confirmed", "cancelled", "refunded", "completed", "no_show"]
TransportType = Literal["hotel_pickup", "self_arrange", "private"]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
SourceId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._:-]{1,128}$")]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
Money = Annotated[int, Field(ge=0, le=10**12)]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")

# Fields a `booking.created` (or an upsert) must carry; mirrors the seed's NOT NULL columns.
REQUIRED_FOR_CREATE = (
    "booking_ref",
    "package_name",
    "package_price",
    "activity_date",
    "time_slot",
    "guest_count",
    "total_amount",
    "customer",
)
# Status implied by an event when the payload does not name one.
EVENT_STATUS: dict[str, str] = {"booking.cancelled": "cancelled", "booking.refunded": "refunded"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Customer(_Strict):
    name: Text
    email: Annotated[str, StringConstraints(max_length=254)]
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    country_code: Annotated[str, StringConstraints(pattern=r"^\+?\d{1,4}$")] | None = None
    special_requests: LongText | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError("must be an email address")
        return value


class Transport(_Strict):
    type: TransportType | None = None
    hotel_name: Text | None = None
    room_number: Annotated[str, StringConstraints(max_length=32)] | None = None
    non_players: Annotated[int, Field(ge=0, le=1000)] = 0
    private_passengers: Annotated[int, Field(ge=0, le=1000)] = 0
    cost: Money = 0


class Addon(_Strict):
    name: Text
    quantity: Annotated[int, Field(ge=1, le=10000)]
    unit_price: Money


class BookingSyncRequest(_Strict):
    event: SyncEvent
    source_booking_id: SourceId
    booking_ref: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    package_name: Text | None = None
    package_price: Money | None = None
    activity_date: date | None = None
    time_slot: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    guest_count: Annotated[int, Field(ge=1, le=10000)] | None = None
    total_amount: Money | None = None
    discount_amount: Money | None = None
    currency: Currency | None = None
    status: BookingStatus | None = None
    customer: Customer | None = None
    transport: Transport | None = None
    addons: Annotated[list[Addon], Field(max_length=100)] | None = None
    stripe_payment_intent_id: Annotated[str, StringConstraints(pattern=r"^pi_[A-Za-z0-9_]{1,200}$")] | None = None
    created_at: datetime | None = None
    # Additions to the seed, both optional: the source's modification time and a monotonically
    # increasing version. Either orders changes, so an older update never overwrites a newer one.
    updated_at: datetime | None = None
    version: Annotated[int, Field(ge=0, le=10**12)] | None = None
    # The seed's `booking.cancelled` carries "Status + reason" and `booking.refunded` "Status + amount"
    reason: LongText | None = None
    refund_amount: Money | None = None

    @field_validator("created_at", "updated_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must include a timezone (e.g. 2026-02-20T10:30:00Z)")
        return value.astimezone(UTC) if value is not None else None

    @model_validator(mode="after")
    def _created_is_complete(self) -> BookingSyncRequest:
        if self.event == "booking.created":
            missing = self.missing_for_create()
            if missing:
                raise ValueError(f"booking.created requires: {', '.join(missing)}")
        return self

    def missing_for_create(self) -> list[str]:
        return [name for name in REQUIRED_FOR_CREATE if getattr(self, name) is None]

    @property
    def is_complete(self) -> bool:
        return not self.missing_for_create()

    def effective_status(self) -> str | None:
        return self.status or EVENT_STATUS.get(self.event)

    def booking_fields(self) -> dict[str, Any]:
        """The booking columns this payload sets, flattened as in the seed's `bookings` table."""
        fields: dict[str, Any] = {}
        for name in (
            "booking_ref",
            "package_name",
            "package_price",
            "time_slot",
            "guest_count",
            "total_amount",
            "discount_amount",
            "currency",
            "stripe_payment_intent_id",
            "cancellation_reason",
            "refund_amount",
        ):
            value = self.reason if name == "cancellation_reason" else getattr(self, name)
            if value is not None:
                fields[name] = value
        if self.activity_date is not None:
            fields["activity_date"] = self.activity_date.isoformat()
        if (status := self.effective_status()) is not None:
            fields["status"] = status
        if self.created_at is not None:
            fields["source_created_at"] = _iso(self.created_at)
        if self.customer is not None:
            for key, value in self.customer.model_dump().items():
                fields[f"customer_{key}"] = value
        if self.transport is not None:
            transport = self.transport.model_dump()
            fields["transport_type"] = transport.pop("type")
            fields["transport_cost"] = transport.pop("cost")
            fields.update(transport)
        if self.addons is not None:
            fields["addons"] = [addon.model_dump() for addon in self.addons]
        return fields


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_now() -> str:
    return _iso(datetime.now(UTC))


def to_iso(value: datetime) -> str:
    return _iso(value)
