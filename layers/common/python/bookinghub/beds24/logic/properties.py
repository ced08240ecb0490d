"""Beds24 properties (the seed's beds24_config): registration, edits, secrets, and a client for each.

The refresh token, the access token it mints and the webhook secret are stored KMS-encrypted, bound to
their purpose and property; the webhook secret is also kept as a SHA-256 hash so a webhook presenting it
as a token finds its property. Nothing secret is ever returned or logged.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bookinghub.aws.kms import decrypt_secret, encrypt_secret
from bookinghub.beds24.dal import properties as store
from bookinghub.beds24.models.entities import DEFAULT_BASE_URL, Beds24Credentials, Beds24Property
from bookinghub.core.clock import iso_now
from bookinghub.core.errors import DomainError, InvalidPayload
from bookinghub.core.settings import get_settings

if TYPE_CHECKING:
    # The Beds24 HTTP client, imported by client_for: the webhook receiver checks tokens and secrets
    # with this module and never calls Beds24 (~10 ms of its init)
    from bookinghub.beds24.client.api import AccessToken, Beds24Client, CallRecord

REFRESH_PURPOSE = "beds24-refresh-token"
ACCESS_PURPOSE = "beds24-access-token"
WEBHOOK_PURPOSE = "beds24-webhook-secret"
MIN_SECRET_LENGTH = 16


class PropertyNotFound(DomainError):
    code, status, message = "PROPERTY_NOT_FOUND", 404, "Beds24 property not found"


class PropertyExists(DomainError):
    code, status, message = "PROPERTY_EXISTS", 409, "This property id, Beds24 property or webhook secret is in use"


class NotConfigured(DomainError):
    code, status, message = "BEDS24_NOT_CONFIGURED", 409, "The property has no Beds24 refresh token"


def _owner(prop: Beds24Property) -> str:
    return f"{prop.organisation_id}/{prop.id}"


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidPayload(
            "Unknown time zone", details=[{"field": "time_zone", "message": "not an IANA time zone"}]
        ) from None
    return name


def check_secret(secret: str) -> str:
    if len(secret) < MIN_SECRET_LENGTH:
        raise InvalidPayload(
            "Webhook secret too short",
            details=[{"field": "webhook_secret", "message": f"at least {MIN_SECRET_LENGTH} characters"}],
        )
    return secret


@dataclass(frozen=True)
class Registered:
    property: Beds24Property
    webhook_secret: str  # shown once, to configure Beds24's webhook URL or header


def register_property(
    *,
    organisation_id: str,
    property_id: str,
    name: str,
    beds24_property_id: int,
    refresh_token: str | None,
    webhook_secret: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    **config: Any,
) -> Registered:
    """Create a property; a webhook secret is generated unless one is given."""
    secret = check_secret(webhook_secret) if webhook_secret else secrets.token_urlsafe(32)
    check_time_zone(str(config.get("time_zone", "UTC")))
    now = iso_now()
    draft = Beds24Property(
        id=property_id,
        organisation_id=organisation_id,
        name=name,
        beds24_property_id=beds24_property_id,
        base_url=base_url,
        created_at=now,
        updated_at=now,
        **config,
    )
    credentials = Beds24Credentials(
        refresh_token_encrypted=(
            encrypt_secret(refresh_token, purpose=REFRESH_PURPOSE, owner=_owner(draft)) if refresh_token else None
        ),
        webhook_secret_encrypted=encrypt_secret(secret, purpose=WEBHOOK_PURPOSE, owner=_owner(draft)),
        webhook_token_hash=token_hash(secret),
    )
    prop = draft.model_copy(update={"credentials": credentials})
    try:
        store.create_property(prop)
    except store.PropertyTaken:
        raise PropertyExists() from None
    return Registered(prop, secret)


def update_property(
    prop: Beds24Property,
    changes: dict[str, Any],
    *,
    refresh_token: str | None = None,
    webhook_secret: str | None = None,
) -> Beds24Property:
    """Apply an operator's edit; secrets are replaced only when given."""
    if "time_zone" in changes:
        check_time_zone(str(changes["time_zone"]))
    credentials = prop.credentials
    # An access token belongs to its refresh token and its host: a new one of either mints a new token
    forget_access_token = bool(refresh_token) or changes.get("base_url", prop.base_url) != prop.base_url
    if forget_access_token:
        credentials = credentials.model_copy(update={"access_token_encrypted": None, "access_token_expires_at": None})
    if refresh_token:
        credentials = credentials.model_copy(
            update={
                "refresh_token_encrypted": encrypt_secret(refresh_token, purpose=REFRESH_PURPOSE, owner=_owner(prop)),
            }
        )
    if webhook_secret:
        credentials = credentials.model_copy(
            update={
                "webhook_secret_encrypted": encrypt_secret(
                    check_secret(webhook_secret), purpose=WEBHOOK_PURPOSE, owner=_owner(prop)
                ),
                "webhook_token_hash": token_hash(webhook_secret),
            }
        )
    updated = Beds24Property.model_validate(
        {**prop.model_dump(), **changes, "credentials": credentials.model_dump(), "updated_at": iso_now()}
    )
    try:
        store.update_property(prop, updated, forget_access_token=forget_access_token)
    except store.PropertyTaken:
        raise PropertyExists() from None
    return updated


def property_view(prop: Beds24Property) -> dict[str, Any]:
    """What operators see: the configuration and sync state, never a secret."""
    view = prop.model_dump(mode="json", exclude={"credentials", "active_run_expires_at"})
    view["has_refresh_token"] = bool(prop.credentials.refresh_token_encrypted)
    view["has_webhook_secret"] = bool(prop.credentials.webhook_secret_encrypted)
    view["webhook_path"] = "/api/integrations/beds24/webhook"
    return view


def webhook_secret(prop: Beds24Property) -> str | None:
    return webhook_secret_of(prop.organisation_id, prop.id, prop.credentials.webhook_secret_encrypted)


def webhook_secret_of(organisation_id: str, property_id: str, encrypted: str | None) -> str | None:
    owner = f"{organisation_id}/{property_id}"
    return decrypt_secret(encrypted, purpose=WEBHOOK_PURPOSE, owner=owner) if encrypted else None


def client_for(
    prop: Beds24Property, *, on_call: Callable[[CallRecord], None] | None = None, just_read: bool = False
) -> Beds24Client:
    """A Beds24 client for the property, reusing its stored access token and saving any new one.

    `just_read`: `prop` was read (consistently) for this very request, so its credentials are current;
    otherwise they are read again, since another worker may have minted a token meanwhile."""
    from bookinghub.beds24.client.api import AccessToken, Beds24Client

    credentials = prop.credentials if just_read else store.credentials_of(prop)
    if not credentials.refresh_token_encrypted:
        raise NotConfigured()
    refresh_encrypted = credentials.refresh_token_encrypted

    def refresh() -> str:  # decrypted only when a token is minted: a valid stored token costs no KMS call
        return decrypt_secret(refresh_encrypted, purpose=REFRESH_PURPOSE, owner=_owner(prop))

    access = None
    if credentials.access_token_encrypted and credentials.access_token_expires_at:
        token = decrypt_secret(credentials.access_token_encrypted, purpose=ACCESS_PURPOSE, owner=_owner(prop))
        access = AccessToken(token=token, expires_at=float(credentials.access_token_expires_at))

    def save_token(minted: AccessToken) -> None:
        encrypted = encrypt_secret(minted.token, purpose=ACCESS_PURPOSE, owner=_owner(prop))
        store.save_access_token(prop, encrypted, minted.expires_at)

    settings = get_settings()
    return Beds24Client(
        prop.base_url,
        refresh_token=refresh,
        access_token=access,
        on_token=save_token,
        on_call=on_call,
        timeout_seconds=settings.beds24_timeout_seconds,
        max_wait_seconds=settings.beds24_max_wait_seconds,
        allow_insecure_loopback=settings.allow_insecure_webhooks,  # the loopback sandbox under `make run`
    )
