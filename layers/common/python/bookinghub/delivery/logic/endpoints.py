"""Resolving an endpoint for delivery: a subscription's own item, or a website's sync back (seed 002),
whose URL and secret live on the website; and reading their secrets back from KMS."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache

from bookinghub.aws.kms import decrypt_secret
from bookinghub.delivery.dal import endpoints as store
from bookinghub.delivery.models import (
    WEBSITE_ENDPOINT_PREFIX,
    Endpoint,
    EndpointStatus,
    website_endpoint_id,
)
from bookinghub.websites.dal import websites as website_store
from bookinghub.websites.logic.registry import WEBHOOK_SECRET_PURPOSE
from bookinghub.websites.models import Website

SECRET_PURPOSE = "delivery-endpoint-secret"  # noqa: S105 - KMS context labels, not secrets
HEADERS_PURPOSE = "delivery-endpoint-headers"


def website_endpoint(website: Website) -> Endpoint | None:
    """A website's sync back as an endpoint; None when it cannot receive (inactive, no URL or secret)."""
    if not website.is_active or not website.webhook_url or not website.webhook_secret_encrypted:
        return None
    return Endpoint(
        id=website_endpoint_id(website.id),
        organisation_id=website.organisation_id,
        kind="website",
        url=website.webhook_url,
        description=f"Sync back to {website.name}",
        event_types=["booking.updated", "booking.status_changed"],
        website_ids=[website.id],
        secret_encrypted=website.webhook_secret_encrypted,
        created_at=website.created_at,
        updated_at=website.updated_at,
    )


def load(endpoint_id: str) -> tuple[Endpoint | None, EndpointStatus]:
    """The endpoint (None: deleted, or a website that cannot receive) and its status: a website's two
    items (GetItems), a subscription's partition (one Query)."""
    if is_website(endpoint_id):
        return of_website(website_store.get_website(website_id_of(endpoint_id)), store.get_status(endpoint_id))
    return store.get_endpoint(endpoint_id)


def is_website(endpoint_id: str) -> bool:
    return endpoint_id.startswith(WEBSITE_ENDPOINT_PREFIX)


def website_id_of(endpoint_id: str) -> str:
    return endpoint_id.removeprefix(WEBSITE_ENDPOINT_PREFIX)


def of_website(website: Website | None, status: EndpointStatus) -> tuple[Endpoint | None, EndpointStatus]:
    """A website endpoint as `load` gives it, from its website item and status item however read."""
    return (website_endpoint(website) if website else None), status


@dataclass(frozen=True)
class Credentials:
    secrets: list[str]  # the current secret first, then the rotated-out one during its grace period
    headers: dict[str, str]


def credentials(endpoint: Endpoint, *, now: float | None = None) -> Credentials:
    now = time.time() if now is None else now
    purpose, owner = _context(endpoint)
    secrets = [_decrypt(endpoint.secret_encrypted or "", purpose, owner)]
    if endpoint.previous_secret_encrypted and (endpoint.previous_secret_expires_at or 0) > now:
        secrets.append(_decrypt(endpoint.previous_secret_encrypted, purpose, owner))
    headers: dict[str, str] = {}
    if endpoint.headers_encrypted:
        headers = json.loads(_decrypt(endpoint.headers_encrypted, HEADERS_PURPOSE, endpoint.id))
    return Credentials(secrets=secrets, headers=headers)


def _context(endpoint: Endpoint) -> tuple[str, str]:
    if endpoint.kind == "website":
        return WEBHOOK_SECRET_PURPOSE, endpoint.id.removeprefix(WEBSITE_ENDPOINT_PREFIX)
    return SECRET_PURPOSE, endpoint.id


@lru_cache(maxsize=256)
def _decrypt(ciphertext: str, purpose: str, owner: str) -> str:
    """One KMS call per secret per container: a ciphertext always decrypts to the same value, and a
    rotation writes a new ciphertext, so the cache can never serve a stale secret."""
    return decrypt_secret(ciphertext, purpose=purpose, owner=owner)


def clear_cache() -> None:
    _decrypt.cache_clear()
    store.forget_recent_endpoints()
