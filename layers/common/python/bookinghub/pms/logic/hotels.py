"""Hotels' PMS configurations: create, read, update, disable (operators), and what a sync or webhook needs.

Credentials are KMS-encrypted as one JSON object bound to the hotel (encryption context), never
returned nor logged: reads show only which credential names are set. The webhook token is stored as its
SHA-256 and compared in constant time; the hub makes one when the operator sends none and shows it
once, in the create (or rotate) answer. An enabled hotel with a sync schedule (cron) has an EventBridge
Scheduler schedule of its own, made, changed and removed here with its configuration (logic/schedule.py).
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from bookinghub.aws.kms import decrypt_secret, encrypt_secret
from bookinghub.core.auth import Forbidden, Principal
from bookinghub.core.clock import iso_now
from bookinghub.core.errors import VersionConflict
from bookinghub.core.observability import logger
from bookinghub.core.security import hash_api_key, same_secret
from bookinghub.core.urls import check_outbound_url
from bookinghub.pms.dal import configs as store
from bookinghub.pms.errors import ConfigurationExists, HotelNotFound, ProviderTokenInvalid, ScheduleUnavailable
from bookinghub.pms.logic import schedule, status
from bookinghub.pms.models.config import ConfigurationCreate, ConfigurationPatch, PMSConfiguration
from bookinghub.pms.providers.base import HotelContext
from bookinghub.pms.providers.registry import require_known

_PURPOSE = "pms-credentials"


def _encrypt(slug: str, credentials: dict[str, str]) -> str | None:
    if not credentials:
        return None
    return encrypt_secret(json.dumps(credentials, sort_keys=True), purpose=_PURPOSE, owner=slug)


def hotel_context(config: PMSConfiguration) -> HotelContext:
    credentials: dict[str, str] = {}
    if config.credentials_encrypted:
        credentials = json.loads(decrypt_secret(config.credentials_encrypted, purpose=_PURPOSE, owner=config.slug))
    return HotelContext(
        slug=config.slug,
        organisation_id=config.organisation_id,
        provider=config.provider,
        credentials=credentials,
        settings=config.settings,
    )


def hotel_context_without_secrets(config: PMSConfiguration) -> HotelContext:
    """For checks that never call the provider (a webhook's shape): no KMS call on the fast path."""
    return HotelContext(
        slug=config.slug, organisation_id=config.organisation_id, provider=config.provider, settings=config.settings
    )


def new_webhook_token() -> str:
    return f"pmswh_{secrets.token_urlsafe(24)}"


def token_hash(token: str) -> str:
    return hash_api_key(token)


def authenticate_webhook(slug: str, provider: str, token: str | None) -> PMSConfiguration:
    """The hotel's configuration if `token` is its webhook token for `provider`; else 401/404."""
    config = store.get(slug) if _SLUG.match(slug) else None
    if config is None or config.provider != provider:
        raise HotelNotFound(f"No {provider} PMS configuration for hotel {slug}")
    if not token or not same_secret(config.webhook_token_hash, token_hash(token.strip())):
        raise ProviderTokenInvalid()
    return config


# --- operators --------------------------------------------------------------------------------------


def _check_settings(settings: dict[str, str]) -> dict[str, str]:
    """A provider endpoint an operator sets must not point inside the network (as webhook URLs)."""
    if settings.get("base_url"):
        check_outbound_url(settings["base_url"], "settings.base_url")
    return settings


def _manage(principal: Principal) -> None:
    if not principal.manages_organisation:
        raise Forbidden("Only admins manage PMS configurations")


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def visible(principal: Principal, slug: str) -> PMSConfiguration:
    """The configuration if the caller may see it; otherwise it does not exist for them (404)."""
    config = store.get(slug) if _SLUG.match(slug) else None
    if config is None or not principal.sees_organisation(config.organisation_id):
        raise HotelNotFound()
    return config


def detail(principal: Principal, slug: str) -> dict[str, Any]:
    """The configuration with its sync status (the latest run of each entity type, from the PMS bus)."""
    return {**visible(principal, slug).view(), "sync_status": status.of_hotel(slug)}


def create(principal: Principal, body: ConfigurationCreate) -> dict[str, Any]:
    _manage(principal)
    require_known(body.provider)
    organisation = principal.scope_organisation(body.organisation_id)
    token = body.webhook_token or new_webhook_token()
    now = iso_now()
    config = PMSConfiguration(
        slug=body.hotel_slug,
        organisation_id=organisation,
        provider=body.provider,
        enabled=body.enabled,
        name=body.name,
        credentials_encrypted=_encrypt(body.hotel_slug, dict(body.credentials)),
        credential_names=sorted(body.credentials),
        webhook_token_hash=token_hash(token),
        settings=_check_settings(dict(body.settings)),
        sync_schedule=body.sync_schedule,
        created_at=now,
        updated_at=now,
    )
    try:
        store.create(config)
    except store.ConfigurationConflict:
        raise ConfigurationExists() from None
    if schedule.desired(config) is not None:
        _schedule_or_put_back(config, previous=None)
    logger.info("pms configuration created", extra={"hotel_slug": config.slug, "provider": config.provider})
    view = config.view()
    if body.webhook_token is None:
        view["webhook_token"] = token  # shown once: only its hash is stored
    return view


def update(principal: Principal, slug: str, patch: ConfigurationPatch) -> dict[str, Any]:
    _manage(principal)
    current = visible(principal, slug)
    changes: dict[str, Any] = {"updated_at": iso_now(), "version": current.version + 1}
    fields = patch.model_fields_set
    for name in ("name", "sync_schedule"):  # null clears these
        if name in fields:
            changes[name] = getattr(patch, name)
    if patch.enabled is not None:  # null leaves it: a configuration is always enabled or not
        changes["enabled"] = patch.enabled
    if patch.settings is not None:
        changes["settings"] = _check_settings(dict(patch.settings))
    if patch.credentials is not None:
        changes["credentials_encrypted"] = _encrypt(slug, dict(patch.credentials))
        changes["credential_names"] = sorted(patch.credentials)
    token = new_webhook_token() if patch.rotate_webhook_token else None
    if token:
        changes["webhook_token_hash"] = token_hash(token)
    updated = current.model_copy(update=changes)
    try:
        store.replace(updated, expected_version=current.version)
    except store.ConfigurationConflict:
        raise VersionConflict("The configuration changed meanwhile; reload and retry") from None
    if schedule.desired(updated) != schedule.desired(current):
        _schedule_or_put_back(updated, previous=current)
    logger.info("pms configuration updated", extra={"hotel_slug": slug, "fields": sorted(fields)})
    view = updated.view()
    if token:
        view["webhook_token"] = token
    return view


def _schedule_or_put_back(config: PMSConfiguration, previous: PMSConfiguration | None) -> None:
    """The configuration is written first (the source of truth), then its schedule. If the schedule call
    fails, the configuration is put back (removed if just created, else its previous content as a newer
    version) and the caller gets 503 SCHEDULE_UNAVAILABLE: both stay as they were. Should the put-back
    fail too, the hourly reconcile (logic/schedule.py) brings the schedule in line with what is stored."""
    try:
        schedule.apply(config)
    except ScheduleUnavailable:
        try:
            if previous is None:
                store.remove(config.slug, expected_version=config.version)
            else:
                restored = previous.model_copy(update={"version": config.version + 1, "updated_at": iso_now()})
                store.replace(restored, expected_version=config.version)
        except Exception as error:  # the reconcile pass repairs the schedule from whatever is stored
            logger.error("pms configuration not put back", extra={"hotel_slug": config.slug, "error": repr(error)})
        raise


def disable(principal: Principal, slug: str) -> dict[str, Any]:
    return update(principal, slug, ConfigurationPatch(enabled=False))


def listing(principal: Principal, organisation_id: str | None) -> list[dict[str, Any]]:
    return [c.view() for c in store.of_organisation(principal.scope_organisation(organisation_id))]
