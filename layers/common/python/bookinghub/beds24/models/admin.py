"""Bodies of the operators' Beds24 API (`/api/integrations/beds24/...`). Unknown fields are rejected;
secrets (refresh token, webhook secret) are write-only."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field, StringConstraints, model_validator

from bookinghub.beds24.models.entities import PropertySlug, SyncMode
from bookinghub.core.fields import AdminBody, OrganisationId, Text, Url

Secret = Annotated[str, StringConstraints(min_length=16, max_length=2000)]
RefreshToken = Annotated[str, StringConstraints(min_length=8, max_length=4000)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True)]
TimeZone = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}$", max_length=64)]
RoomMapping = Annotated[
    dict[Annotated[str, StringConstraints(pattern=r"^\d{1,12}$")], Annotated[str, StringConstraints(max_length=100)]],
    Field(max_length=500),
]
Beds24Id = Annotated[int, Field(ge=1, le=10**12)]


class _Settings(AdminBody):
    name: Text | None = None
    base_url: Url | None = None
    room_mapping: RoomMapping | None = None
    time_zone: TimeZone | None = None
    default_country: Country | None = None
    pull_sync_enabled: bool | None = None
    reread_on_webhook: bool | None = None
    full_sync_hour: Annotated[int, Field(ge=0, le=23)] | None = None
    sync_days_back: Annotated[int, Field(ge=0, le=3650)] | None = None
    sync_days_ahead: Annotated[int, Field(ge=1, le=3650)] | None = None
    status: Literal["active", "inactive"] | None = None

    def settings(self) -> dict[str, Any]:
        """The configuration fields this body names (secrets and ids excluded)."""
        return {
            name: getattr(self, name)
            for name in _Settings.model_fields
            if name in self.model_fields_set and getattr(self, name) is not None
        }


class PropertyCreate(_Settings):
    property_id: PropertySlug
    name: Text
    beds24_property_id: Beds24Id
    organisation_id: OrganisationId | None = None  # superadmin only
    refresh_token: RefreshToken | None = None  # without it the property only receives webhooks
    webhook_secret: Secret | None = None  # generated (and shown once) when absent


class PropertyPatch(_Settings):
    beds24_property_id: Beds24Id | None = None
    refresh_token: RefreshToken | None = None
    webhook_secret: Secret | None = None

    @model_validator(mode="after")
    def _something(self) -> PropertyPatch:
        if not self.model_fields_set:
            raise ValueError("at least one field to change is required")
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} may not be null")
        return self


class SyncRequest(AdminBody):
    property_id: PropertySlug
    mode: SyncMode
    organisation_id: OrganisationId | None = None
    resync: bool = False  # reconcile: also re-apply every differing booking from Beds24


class Beds24IntegrationCreate(PropertyCreate):
    """POST /api/integrations for a Beds24 property: the same body as the Beds24 properties route."""

    integration_type: Literal["beds24"]

    def property_body(self) -> PropertyCreate:
        return PropertyCreate.model_validate(self.model_dump(exclude={"integration_type"}, exclude_unset=True))


class ReservationEdit(AdminBody):
    """PATCH /api/integrations/beds24/reservations/{id}: an operator's change to a reservation. Beds24 keeps
    its own copy: a later change there to the same field is a conflict (bookinghub.conflicts)."""

    status: Literal["confirmed", "request", "new", "cancelled", "black", "inquiry"] | None = None
    arrival: date | None = None
    departure: date | None = None
    num_adult: Annotated[int, Field(ge=0, le=1000)] | None = None
    num_child: Annotated[int, Field(ge=0, le=1000)] | None = None
    guest_name: Text | None = None
    # pydantic's email validation (email-validator, syntax only), as the sync API's and Stripe's emails; the
    # body is built at first use (AdminBody's defer_build), so email-validator loads with the first edit
    guest_email: EmailStr | None = None
    guest_phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    price: Annotated[float, Field(ge=0, le=10**9)] | None = None
    notes: Annotated[str, StringConstraints(max_length=4000)] | None = None
    # The reservation's `modified_time` as the operator read it: Beds24's changes since then to other
    # fields leave the edit to apply, one to the same field is a conflict (bookinghub.conflicts.logic.hub_edit)
    version: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")] | None = None

    @model_validator(mode="after")
    def _some_and_ordered(self) -> ReservationEdit:
        if not self.model_fields_set - {"version"}:
            raise ValueError("at least one field to change is required")
        if self.arrival and self.departure and self.departure < self.arrival:
            raise ValueError("departure must not be before arrival")
        return self

    def fields(self) -> dict[str, Any]:
        values = self.model_dump(exclude_unset=True, exclude_none=True, exclude={"version"})
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}
