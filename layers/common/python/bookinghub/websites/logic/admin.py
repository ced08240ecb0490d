"""Operators register and manage source websites (seed 002 `POST /api/websites` and friends).

The API key and webhook secret are returned once, by the create (and a rotation returns the new key
once); afterwards only the key's display prefix is ever shown. A rotated-out key keeps working for
KEY_GRACE_SECONDS so the website can switch without downtime.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bookinghub.aws.kms import encrypt_secret
from bookinghub.core.auth import Principal
from bookinghub.core.clock import iso_now
from bookinghub.core.errors import KeyRotationConflict, WebsiteExists, WebsiteNotFound
from bookinghub.core.observability import logger
from bookinghub.core.security import hash_api_key, new_api_key, new_webhook_secret
from bookinghub.core.urls import check_outbound_url
from bookinghub.websites.dal import admin as store
from bookinghub.websites.logic.registry import WEBHOOK_SECRET_PURPOSE
from bookinghub.websites.models import Website, WebsiteCreate, WebsitePatch

KEY_GRACE_SECONDS = 24 * 3600
# Never part of an answer: the key's hash, the encrypted secret (the dal never returns storage keys)
_HIDDEN = {"api_key_hash", "webhook_secret_encrypted"}


def website_view(item: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in sorted(item.items()) if k not in _HIDDEN}
    view["has_webhook_secret"] = bool(item.get("webhook_secret_encrypted"))
    return view


@dataclass(frozen=True)
class CreatedWebsite:
    website: dict[str, Any]
    api_key: str
    webhook_secret: str


def create_website(principal: Principal, body: WebsiteCreate) -> CreatedWebsite:
    principal.require_manager()
    organisation = principal.scope_organisation(body.organisation_id)
    if body.webhook_url:
        check_outbound_url(body.webhook_url, "webhook_url")
    api_key = new_api_key(body.id.split("-")[0][:8])
    webhook_secret = new_webhook_secret()
    now = iso_now()
    website = Website(
        id=body.id,
        organisation_id=organisation,
        name=body.name,
        domain=body.domain,
        api_key_prefix=api_key[:8],
        webhook_url=body.webhook_url,
        webhook_secret_encrypted=encrypt_secret(webhook_secret, purpose=WEBHOOK_SECRET_PURPOSE, owner=body.id),
        logo_url=body.logo_url,
        is_active=body.is_active,
        created_at=now,
        updated_at=now,
    )
    try:
        store.create_website(website, hash_api_key(api_key))
    except store.WebsiteExists:
        raise WebsiteExists() from None
    logger.info("website registered", extra={"website_id": body.id, "organisation_id": organisation})
    return CreatedWebsite(website_view(website.model_dump()), api_key, webhook_secret)


def list_websites(principal: Principal, organisation_id: str | None) -> list[dict[str, Any]]:
    principal.require_manager()
    organisation = principal.scope_organisation(organisation_id)
    items = store.organisation_websites(organisation)
    return [website_view(item) for item in sorted(items, key=lambda item: str(item["id"]))]


def _managed_website(principal: Principal, website_id: str) -> dict[str, Any]:
    principal.require_manager()
    item = store.get_website_record(website_id)
    if item is None or not principal.sees_website(str(item["organisation_id"]), website_id):
        raise WebsiteNotFound()
    return item


def update_website(principal: Principal, website_id: str, patch: WebsitePatch) -> dict[str, Any]:
    _managed_website(principal, website_id)
    changes = patch.changes()
    if changes.get("webhook_url"):
        check_outbound_url(changes["webhook_url"], "webhook_url")
    try:
        item = store.update_website(website_id, changes, iso_now())
    except store.WebsiteChanged:
        raise WebsiteNotFound() from None
    logger.info("website updated", extra={"website_id": website_id, "fields": sorted(changes)})
    return website_view(item)


@dataclass(frozen=True)
class RotatedKey:
    api_key: str
    previous_key_expires_at: int


def rotate_key(principal: Principal, website_id: str) -> RotatedKey:
    item = _managed_website(principal, website_id)
    old_hash = item.get("api_key_hash")
    if not old_hash:
        # Registered before the website remembered its key's hash: the old key cannot be found to retire
        raise KeyRotationConflict("This website's current key is unknown to the registry; re-register the website")
    api_key = new_api_key(website_id.split("-")[0][:8])
    grace_until = int(time.time()) + KEY_GRACE_SECONDS
    website = Website.model_validate({**item, "api_key_prefix": api_key[:8]})
    try:
        store.rotate_key(
            website, old_hash=str(old_hash), new_hash=hash_api_key(api_key), grace_until=grace_until, now=iso_now()
        )
    except store.WebsiteChanged:
        raise KeyRotationConflict() from None
    logger.info("website key rotated", extra={"website_id": website_id, "grace_until": grace_until})
    return RotatedKey(api_key, grace_until)
