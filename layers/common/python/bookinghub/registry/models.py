"""The integrations registry (the seed's `core.integrations`): an organisation's outbound providers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from bookinghub.core.fields import AdminBody, OrganisationId, Text, Url, require_some

IntegrationType = Literal["rooms_event_hub"]
IntegrationStatus = Literal["active", "inactive"]
ROOMS_EVENT_HUB: IntegrationType = "rooms_event_hub"


class RoomsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: Annotated[str, StringConstraints(min_length=8, max_length=500)]  # .../v1/webhooks
    webhook_path: Annotated[str, StringConstraints(min_length=1, max_length=200)]  # zezamiiPass/reservation
    property_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]  # per organisation


class RoomsCredentials(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reservation_id_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{0,20}$")]
    # KMS ciphertext of a JSON object of extra request headers (an API key, if Rooms ever needs one);
    # decrypted only to make the call, never logged.
    secret_headers_encrypted: str | None = None


class Integration(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    organisation_id: str
    integration_type: IntegrationType
    name: str
    config: RoomsConfig
    credentials: RoomsCredentials
    status: IntegrationStatus
    last_used_at: str | None = None
    created_at: str
    updated_at: str


CallStatus = Literal["success", "error", "timeout"]
# Providers whose calls are logged: Rooms Event Hub (pincodes) and Beds24 (pull sync, webhook re-reads)
CallLogType = Literal["rooms_event_hub", "beds24"]


class IntegrationCallLog(BaseModel):
    """The seed's `core.integration_logs` row: one outbound call, payloads masked (PII, pincode)."""

    id: str
    integration_id: str
    integration_type: CallLogType
    organisation_id: str
    operation: str
    status: CallStatus
    http_status_code: int | None = None
    duration_ms: int | None = None
    error_message: str | None = None
    request_payload: dict[str, Any] | None = None
    response_payload: dict[str, Any] | None = None
    pass_id: str | None = None
    reservation_id: str | None = None
    attempt: int | None = None
    created_at: str


# --- Admin API bodies (Rooms Event Hub; Beds24's are in beds24/models/admin.py) ----------------------

SecretHeaders = Annotated[
    dict[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,64}$")],
        Annotated[str, StringConstraints(min_length=1, max_length=2000)],
    ],
    Field(max_length=10),
]


class RoomsConfigBody(AdminBody):
    base_url: Url
    webhook_path: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._~/-]{1,200}$")]
    property_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class IntegrationCreate(AdminBody):
    integration_type: Literal["rooms_event_hub"]
    name: Text
    organisation_id: OrganisationId | None = None  # superadmin only
    config: RoomsConfigBody
    reservation_id_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{0,20}$")] = ""
    # Write-only: stored KMS-encrypted, never returned (answers say only whether there are any)
    secret_headers: SecretHeaders | None = None
    status: IntegrationStatus = "active"


class IntegrationPatch(AdminBody):
    name: Text | None = None
    status: IntegrationStatus | None = None
    config: RoomsConfigBody | None = None
    reservation_id_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{0,20}$")] | None = None
    secret_headers: SecretHeaders | None = None  # replaces them all; {} removes them

    @model_validator(mode="after")
    def _something(self) -> IntegrationPatch:
        require_some(self)
        for name in ("name", "status", "config", "reservation_id_prefix", "secret_headers"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self
