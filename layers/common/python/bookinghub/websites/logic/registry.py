"""The websites registry (seed 002): register a website with its API key and webhook secret.

The API key is stored only as its hash; the webhook secret only KMS-encrypted. Both are returned to the
caller exactly once, from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from bookinghub.aws.kms import encrypt_secret
from bookinghub.core.clock import iso_now
from bookinghub.core.security import hash_api_key, new_api_key, new_webhook_secret
from bookinghub.websites.dal import websites as website_store
from bookinghub.websites.models import Website

WEBHOOK_SECRET_PURPOSE = "website-webhook-secret"  # noqa: S105 - a KMS context label, not a secret


@dataclass(frozen=True)
class RegisteredWebsite:
    website: Website
    api_key: str  # shown once
    webhook_secret: str  # shown once


def register_website(
    *,
    website_id: str,
    organisation_id: str,
    name: str,
    domain: str,
    webhook_url: str | None = None,
    logo_url: str | None = None,
    is_active: bool = True,
    api_key: str | None = None,
    webhook_secret: str | None = None,
) -> RegisteredWebsite:
    api_key = api_key or new_api_key(website_id.split("-")[0][:8])
    webhook_secret = webhook_secret or new_webhook_secret()
    now = iso_now()
    website = Website(
        id=website_id,
        organisation_id=organisation_id,
        name=name,
        domain=domain,
        api_key_prefix=api_key[:8],
        webhook_url=webhook_url,
        webhook_secret_encrypted=encrypt_secret(webhook_secret, purpose=WEBHOOK_SECRET_PURPOSE, owner=website_id),
        logo_url=logo_url,
        is_active=is_active,
        created_at=now,
        updated_at=now,
    )
    website_store.put_website(website, hash_api_key(api_key))
    return RegisteredWebsite(website=website, api_key=api_key, webhook_secret=webhook_secret)
