"""The inbound sync payload of seed 002 (`POST /api/bookings/sync`), validated strictly.

`booking.created` must carry the full booking. The other events may carry only what changed (the seed:
"Updated fields", "Status + reason", "Status + amount"); a complete payload on them is an upsert.
Parsing is strict JSON: "3490" is not an integer, 0 is not a date, an unknown field is an error.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationError, field_validator

from bookinghub.bookings.models.fields import BookingStatus, Email, GuestCount, Money, StrictModel, TimeSlot, Transport
from bookinghub.bookings.models.payload_shape import CUSTOMER_COLUMNS, RENAMED_COLUMNS, TRANSPORT_COLUMNS
from bookinghub.core.clock import iso_date, to_iso
from bookinghub.core.errors import InvalidPayload
from bookinghub.core.fields import LongText, Text

SyncEvent = Literal["booking.created", "booking.updated", "booking.cancelled", "booking.refunded"]

SourceId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._:-]{1,128}$")]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
# A change time further ahead than this is a broken clock: accepting it would make every later
# (correctly timed) change of the booking look stale forever.
MAX_CLOCK_SKEW = timedelta(hours=24)

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
# The seed's column defaults, applied when a booking is created without them.
CREATE_DEFAULTS: dict[str, Any] = {
    "discount_amount": 0,
    "currency": "THB",
    "status": "confirmed",
    "non_players": 0,
    "private_passengers": 0,
    "transport_cost": 0,
    "addons": [],
}
# Status implied by an event when the payload does not name one, and the statuses it may name.
EVENT_STATUS: dict[str, str] = {"booking.cancelled": "cancelled", "booking.refunded": "refunded"}
_ALLOWED_STATUS: dict[str, set[str]] = {"booking.cancelled": {"cancelled", "refunded"}}


class Customer(StrictModel):
    name: Text
    email: Email
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    country_code: Annotated[str, StringConstraints(pattern=r"^\+?\d{1,4}$")] | None = None
    special_requests: LongText | None = None


class Addon(StrictModel):
    name: Text
    quantity: Annotated[int, Field(ge=1, le=10000)]
    unit_price: Money


class BookingSyncRequest(StrictModel):
    event: SyncEvent
    source_booking_id: SourceId
    booking_ref: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    package_name: Text | None = None
    package_price: Money | None = None
    activity_date: date | None = None
    time_slot: TimeSlot | None = None
    guest_count: GuestCount | None = None
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
    def _aware_and_not_ahead(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("must include a timezone (e.g. 2026-02-20T10:30:00Z)")
        if value > datetime.now(UTC) + MAX_CLOCK_SKEW:
            raise ValueError("must not be in the future")
        return value.astimezone(UTC)

    def missing_for_create(self) -> list[str]:
        return [name for name in REQUIRED_FOR_CREATE if getattr(self, name) is None]

    @property
    def is_complete(self) -> bool:
        return not self.missing_for_create()

    def effective_status(self) -> str | None:
        return self.status or EVENT_STATUS.get(self.event)

    def booking_fields(self) -> dict[str, Any]:
        """The booking columns this payload sets, flattened as in the seed's `bookings` table.

        Only what the payload carries: an absent (or null) field never clears a stored one.
        """
        # Read from the validated values themselves (a model's fields are its __dict__; extra="forbid"
        # leaves nothing else there): no serializer pass, which cost as much as the rest of this method
        values = self.__dict__
        fields = {name: values[name] for name in PLAIN_COLUMNS if values[name] is not None}
        if self.reason is not None:
            fields[RENAMED_COLUMNS["reason"]] = self.reason
        if self.activity_date is not None:
            fields["activity_date"] = iso_date(self.activity_date)
        if (status := self.effective_status()) is not None:
            fields["status"] = status
        if self.created_at is not None:
            fields[RENAMED_COLUMNS["created_at"]] = to_iso(self.created_at)
        if self.customer is not None:
            _flatten(self.customer, CUSTOMER_COLUMNS, fields)
        if self.transport is not None:
            _flatten(self.transport, TRANSPORT_COLUMNS, fields)
        if self.addons is not None:
            # An add-on's fields are all required (never None): its values as they are, copied in C
            fields["addons"] = [dict(addon.__dict__) for addon in self.addons]
        return fields


def _flatten(part: StrictModel, columns: dict[str, str], into: dict[str, Any]) -> None:
    """A nested model's set values under their column names, in its fields' order."""
    values = part.__dict__
    for name, column in columns.items():
        if (value := values[name]) is not None:
            into[column] = value


# Payload fields stored under their own name (bookings/dal/payload_values.py reads them too)
PLAIN_COLUMNS = (
    "booking_ref",
    "package_name",
    "package_price",
    "time_slot",
    "guest_count",
    "total_amount",
    "discount_amount",
    "currency",
    "stripe_payment_intent_id",
    "refund_amount",
)


def parse_sync_request(raw: bytes) -> BookingSyncRequest:
    """Parse and validate a request body; InvalidPayload names every failing field."""
    try:
        request = BookingSyncRequest.model_validate_json(raw)
    except ValidationError as error:
        errors = error.errors(include_url=False, include_input=False, include_context=False)
        details = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]} for e in errors]
        raise InvalidPayload(_summary(errors), details=details) from None
    details = _rule_violations(request)
    if details:
        raise InvalidPayload("Request body validation failed", details=details)
    return request


def _summary(errors: list[Any]) -> str:
    types = {e["type"] for e in errors if not e["loc"]}
    if "json_invalid" in types:
        return "Request body is not valid JSON"
    if "model_type" in types:
        return "Request body must be a JSON object"
    return "Request body validation failed"


def _rule_violations(request: BookingSyncRequest) -> list[dict[str, str]]:
    """Rules across fields, reported per field like the type errors."""
    details: list[dict[str, str]] = []
    if request.event == "booking.created":
        details += [
            {"field": name, "message": "Field required for booking.created"} for name in request.missing_for_create()
        ]
    allowed = _ALLOWED_STATUS.get(request.event)
    if allowed and request.status is not None and request.status not in allowed:
        details.append({"field": "status", "message": f"must be one of {sorted(allowed)} for {request.event}"})
    return details
