"""Passes: what a Stripe payment buys (access to a lock for some dates), and its metadata contract.

The payment's Stripe object (Checkout Session or PaymentIntent) carries the pass details in its
`metadata`, all strings as Stripe stores them:

  organisation_id  the hub organisation the pass belongs to (its websites may read the pass)
  lock_id          the Rooms Event Hub lock / access point
  arrival_date     YYYY-MM-DD (property-local date)
  departure_date   YYYY-MM-DD, not before arrival_date
  guest_name       as shown to the lock provider
  guest_email      the guest's email address
  guest_phone      optional; digits, spaces, +, -, ( and )
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

PassStatus = Literal["active", "needs_attention"]
PincodeStatus = Literal["pending", "issued", "failed"]

_DATE = r"^\d{4}-\d{2}-\d{2}$"
METADATA_KEYS = (
    "organisation_id",
    "lock_id",
    "arrival_date",
    "departure_date",
    "guest_name",
    "guest_email",
    "guest_phone",
)
_RAW_VALUE_LIMIT = 300


class PassMetadata(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True, strict=True)

    organisation_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
    lock_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    arrival_date: Annotated[str, StringConstraints(pattern=_DATE)]
    departure_date: Annotated[str, StringConstraints(pattern=_DATE)]
    guest_name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    guest_email: EmailStr  # pydantic's email validation (email-validator, syntax only)
    guest_phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{6,24}$")] | None = None

    @field_validator("arrival_date", "departure_date")
    @classmethod
    def _real_date(cls, value: str) -> str:
        date.fromisoformat(value)  # ValueError for 2026-02-30
        return value

    @field_validator("guest_phone", mode="before")
    @classmethod
    def _blank_phone_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _dates_in_order(self) -> PassMetadata:
        if self.departure_date < self.arrival_date:
            raise ValueError("departure_date must not be before arrival_date")
        return self


def parse_pass_metadata(metadata: Any) -> tuple[PassMetadata | None, str | None]:
    """The metadata as a PassMetadata, or None and a reason naming the fields (never their values)."""
    if not isinstance(metadata, dict) or not metadata:
        return None, "payment has no metadata"
    try:
        return PassMetadata.model_validate(metadata), None
    except ValidationError as error:
        problems = []
        for detail in error.errors(include_url=False, include_input=False, include_context=False):
            field = ".".join(str(part) for part in detail["loc"])
            message = "missing" if detail["type"] == "missing" else detail["msg"].removeprefix("Value error, ")
            problems.append(f"{field}: {message}" if field else message)
        return None, "invalid metadata: " + "; ".join(problems)


def raw_metadata(metadata: Any) -> dict[str, str]:
    """The contract's keys as received (shortened), kept on a needs_attention pass for an operator."""
    if not isinstance(metadata, dict):
        return {}
    return {key: str(metadata[key])[:_RAW_VALUE_LIMIT] for key in METADATA_KEYS if key in metadata}


class PassView(BaseModel):
    """What the passes API returns to an organisation's website."""

    id: str
    status: PassStatus
    payment_intent_id: str | None
    organisation_id: str | None
    lock_id: str | None
    arrival_date: str | None
    departure_date: str | None
    pincode_status: PincodeStatus
    pincode: str | None = None
    attention_reason: str | None = None
    created_at: str
    updated_at: str
