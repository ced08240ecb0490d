"""Seed 002's `websites` registry. The API key is never stored: only its SHA-256 and a display prefix."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator, model_validator

from bookinghub.core.fields import AdminBody, OrganisationId, Text, Url, require_some

WebsiteId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
Domain = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    ),
]


class ApiKeyRecord(BaseModel):
    """What an API key resolves to; looked up by the key's hash."""

    model_config = ConfigDict(frozen=True)

    key_hash: str
    website_id: str
    organisation_id: str
    is_active: bool
    expires_at: int | None = None  # epoch seconds; set on a rotated-out key's grace period


class Website(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    organisation_id: str
    name: str
    domain: str
    api_key_prefix: str
    webhook_url: str | None = None
    # KMS ciphertext (base64) of the secret used to sign outbound webhooks; never plaintext at rest
    webhook_secret_encrypted: str | None = None
    logo_url: str | None = None
    is_active: bool = True
    created_at: str
    updated_at: str


# --- Admin API bodies ---------------------------------------------------------------------------------


class WebsiteCreate(AdminBody):
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


class WebsitePatch(AdminBody):
    name: Text | None = None
    domain: Domain | None = None
    webhook_url: Url | None = None  # null removes the webhook
    logo_url: Url | None = None  # null removes the logo
    is_active: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> WebsitePatch:
        require_some(self)
        for name in ("name", "domain", "is_active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        if self.logo_url is not None and not self.logo_url.lower().startswith("https://"):
            raise ValueError("logo_url must be an https:// URL")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}
