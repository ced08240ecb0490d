"""A website's server authenticated by its X-API-Key (seed 002): the booking sync, passes and the
realtime connect all take the same key, checked the same way.

Kept apart from the booking sync's logic so that a function that only checks a key does not import the
sync's payload models (and their email validator) at cold start.

A key's pointer is read at most once per KEY_RECORD_MAX_AGE_SECONDS in an execution environment (its
state and end are checked on every request): a website deactivated, or a rotated-out key ended, through
another environment is refused here within that bound (at once where the write was made).
"""

from __future__ import annotations

import time

from bookinghub.core.errors import AuthFailed, WebsiteNotFound
from bookinghub.core.security import hash_api_key, same_secret
from bookinghub.websites.dal import websites as website_store
from bookinghub.websites.models import ApiKeyRecord

KEY_RECORD_MAX_AGE_SECONDS = 30.0


def authenticate(api_key: str | None) -> ApiKeyRecord:
    if not api_key or not api_key.strip():
        raise AuthFailed("Missing API key")
    key_hash = hash_api_key(api_key.strip())
    record = website_store.recent_api_key(key_hash, max_age_seconds=KEY_RECORD_MAX_AGE_SECONDS)
    # The lookup is by hash; the comparison re-checks it in constant time so a store that matched on a
    # prefix or case-folded could never authenticate a different key.
    if record is None or not same_secret(record.key_hash, key_hash):
        raise AuthFailed("Invalid API key")
    if not record.is_active or (record.expires_at is not None and record.expires_at <= time.time()):
        raise AuthFailed("API key is inactive")
    if record.expires_at is not None:
        # A rotated-out key in its grace period: its pointer no longer follows the website's state
        # (deactivating a website updates its current key's record in the same transaction)
        website = website_store.get_website(record.website_id)
        if website is None:
            raise WebsiteNotFound()
        if not website.is_active:
            raise AuthFailed("Website is inactive")
    return record
