"""Seed 002's `websites` registry. The API key is never stored: only its SHA-256 and a display prefix."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


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
