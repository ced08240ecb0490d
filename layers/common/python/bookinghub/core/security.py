"""API key hashing, webhook signing and PII masking: small, dependency-free helpers."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

# Any character but whitespace, "@" and the delimiters around addresses in text, so non-ASCII local parts
# (maría@...) are masked whole instead of leaking everything before their last non-ASCII letter.
_ADDRESS_CHAR = r"[^\s@<>()\[\]{},;:\"]"
_EMAIL = re.compile(rf"({_ADDRESS_CHAR}){_ADDRESS_CHAR}*@({_ADDRESS_CHAR}+\.{_ADDRESS_CHAR}{{2,}})")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
# Field names whose values are masked wherever they appear in a structure written to a log
_EMAIL_KEYS = {"email", "customer_email", "guest_email", "guestemail"}
_PHONE_KEYS = {"phone", "mobile", "customer_phone", "guest_phone", "guestphone"}
_SECRET_KEYS = {"api_key", "webhook_secret", "pincode", "code", "password", "token", "refresh_token"}


def hash_api_key(api_key: str) -> str:
    """API keys are random and long, so a plain SHA-256 is a safe lookup hash (no salt needed)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def new_api_key(prefix: str) -> str:
    return f"{prefix}_sk_{secrets.token_urlsafe(32)}"


def new_webhook_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def sign_webhook(secret: str, timestamp: str, body: str) -> str:
    """Seed 002's signature: `sha256=` + hex HMAC-SHA256 of `{timestamp}.{body}`."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def mask_email(value: str) -> str:
    """Mask every email address in `value`: john@example.com -> j***@example.com."""
    if "@" not in value:  # most values (mask_pii sees every string of a payload): skip the regex
        return value
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", value)


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return f"***{digits[-2:]}" if len(digits) >= 4 else "***"


def mask_name(name: str) -> str:
    """John Smith -> J*** S***"""
    return " ".join(f"{part[0]}***" for part in name.split()) or "***"


def mask_text(value: str) -> str:
    """Mask emails and phone-like digit runs inside free text (error messages, log lines)."""
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), mask_email(value))


def mask_pii(value: Any, *, by_key: Mapping[str, Callable[[str], str]] | None = None) -> Any:
    """A copy of a JSON-like structure with emails, phones and secrets masked, for logs and audit rows.

    `by_key` adds maskers for the string values of further (lower-case) field names, e.g. a guest's name;
    they get the value with its emails already masked. The secret, email and phone fields above win.
    """
    if isinstance(value, dict):
        masked: dict[str, Any] = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if lowered in _SECRET_KEYS and item not in (None, ""):
                masked[key] = "***"
            elif lowered in _EMAIL_KEYS and isinstance(item, str):
                # A value the pattern does not recognise (john@localhost) is hidden whole
                masked[key] = mask_email(item) if _EMAIL.search(item) else "***"
            elif lowered in _PHONE_KEYS and isinstance(item, str):
                masked[key] = mask_phone(item)
            elif by_key and lowered in by_key and isinstance(item, str):
                masked[key] = by_key[lowered](mask_email(item))
            else:
                masked[key] = mask_pii(item, by_key=by_key)
        return masked
    if isinstance(value, list):
        return [mask_pii(item, by_key=by_key) for item in value]
    if isinstance(value, str):
        return mask_email(value)
    return value
