"""A hotel's PMS configuration (the seed's PMSConfiguration), as stored and as operators send it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bookinghub.pms.models import Slug

# The seed's five-field cron ("0 */6 * * *"); bookinghub.pms.logic.cron checks it and converts it for the Scheduler
Cron = Annotated[str, StringConstraints(strip_whitespace=True, min_length=9, max_length=100)]
SecretText = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
SettingText = Annotated[str, StringConstraints(max_length=500)]


def check_cron(value: str | None) -> str | None:
    if value is None:
        return None
    from bookinghub.pms.logic.cron import normalise  # the one cron reader (pydantic turns its error into a 400)

    return normalise(value)


class PMSConfiguration(BaseModel):
    """Stored: credentials only as KMS ciphertext, the webhook token only as its SHA-256."""

    model_config = ConfigDict(frozen=True)

    slug: str
    organisation_id: str
    provider: str
    enabled: bool
    credentials_encrypted: str | None = Field(None, repr=False)
    credential_names: list[str] = Field(default_factory=list)  # which credentials are set (never values)
    webhook_token_hash: str = Field(repr=False)
    settings: dict[str, str] = Field(default_factory=dict)
    sync_schedule: str | None = None
    name: str | None = None
    created_at: str
    updated_at: str
    version: int = 1

    def view(self) -> dict[str, object]:
        """What the admin API shows: never the credentials, nor the token's hash."""
        return {
            "hotel_slug": self.slug,
            "organisation_id": self.organisation_id,
            "provider": self.provider,
            "enabled": self.enabled,
            "name": self.name,
            "credentials_set": self.credential_names,
            "settings": self.settings,
            "sync_schedule": self.sync_schedule,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "version": self.version,
        }


class ConfigurationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hotel_slug: Slug
    provider: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    organisation_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    enabled: bool = True
    credentials: dict[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")], SecretText] = Field(
        default_factory=dict, max_length=10
    )
    settings: dict[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")], SettingText] = Field(
        default_factory=dict, max_length=20
    )
    # Optional: the hub makes one (returned once) when absent
    webhook_token: Annotated[str, StringConstraints(min_length=16, max_length=200)] | None = None
    sync_schedule: Cron | None = None

    _cron = field_validator("sync_schedule")(check_cron)


class ConfigurationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    enabled: bool | None = None
    credentials: dict[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")], SecretText] | None = Field(
        None, max_length=10
    )
    settings: dict[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")], SettingText] | None = Field(
        None, max_length=20
    )
    rotate_webhook_token: bool = False
    sync_schedule: Cron | None = None

    _cron = field_validator("sync_schedule")(check_cron)
