"""A booking's field types and the transport model, shared by the sync payload (models/sync.py) and the
admin API's edit (models/admin.py).

Kept apart from models/sync.py so that the admin API does not build the sync payload's models (and import
email-validator's compiled patterns) at import: ~0.1x `import boto3` + one client of its cold start.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from bookinghub.core.fields import Text

BookingStatus = Literal["pending", "confirmed", "cancelled", "refunded", "completed", "no_show"]
TransportType = Literal["hotel_pickup", "self_arrange", "private"]

Money = Annotated[int, Field(ge=0, le=10**12)]
Count = Annotated[int, Field(ge=0, le=1000)]
TimeSlot = Annotated[str, StringConstraints(min_length=1, max_length=32)]
GuestCount = Annotated[int, Field(ge=1, le=10000)]

# pydantic's email validation (email-validator, syntax only: no DNS lookups). It accepts documentation
# domains (example.com, *.example) and rejects special-use ones (.local, .test, .invalid); the domain is
# normalised to lower case, the local part kept as sent.
Email = EmailStr


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


class Transport(StrictModel):
    type: TransportType | None = None
    hotel_name: Text | None = None
    room_number: Annotated[str, StringConstraints(max_length=32)] | None = None
    non_players: Count | None = None
    private_passengers: Count | None = None
    cost: Money | None = None
