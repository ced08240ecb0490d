"""Signing an outbound webhook both ways (pure: no I/O).

- Seed 002: `X-Webhook-Timestamp: <unix seconds>` and `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of
  "{timestamp}.{body}">`, keyed with the secret string as it is.
- Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
  `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the secret's
  base64 part (`whsec_<base64>`), derived exactly as the reference `standardwebhooks` library does.

During a secret rotation both secrets sign, the new one first:
  `webhook-signature: v1,<new> v1,<previous>`   (space-separated, as the Standard Webhooks spec says)
  `X-Webhook-Signature: sha256=<new>,sha256=<previous>`   (comma-separated; a receiver accepts the request
  when any one value matches. The seed's verifyWebhookSignature compares the whole header, so until it
  splits on commas it verifies only outside a rotation's grace period: clients/ does split.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
USER_AGENT = "bookinghub-webhooks/2"


def new_secret() -> str:
    """A signing secret both schemes take: `whsec_` + standard base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def standard_key(secret: str) -> bytes:
    """The HMAC key Standard Webhooks uses. `whsec_<base64>` (padding optional): the decoded bytes, what the
    reference `standardwebhooks` library uses. Any other secret (older website secrets such as
    `whsec_local_demo_x`, or URL-safe `-`/`_`, which the library would misread or refuse): its UTF-8 bytes,
    what `standardwebhooks.Webhook(secret.encode())` uses. clients/onebooking_client.standard_webhooks_key,
    the receivers' side, derives it the same way (tests/unit/clients/test_verify_webhook.py holds them equal)."""
    body = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    return key or secret.encode("utf-8")


def seed_signature(secret: str, timestamp: int, body: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def standard_signature(secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    mac = hmac.new(standard_key(secret), f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256)
    return f"v1,{base64.b64encode(mac.digest()).decode('ascii')}"


@dataclass(frozen=True)
class SignedRequest:
    body: bytes  # exactly the bytes that were signed
    headers: dict[str, str]


def sign_request(
    body: str, *, webhook_id: str, timestamp: int, secrets_in_use: Sequence[str], extra_headers: dict[str, str]
) -> SignedRequest:
    """The request for one attempt: custom headers first, so none can replace a signature header."""
    if not secrets_in_use:
        raise ValueError("at least one signing secret is needed")
    headers = dict(extra_headers)
    headers.update(
        {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Webhook-Id": webhook_id,
            "X-Webhook-Timestamp": str(timestamp),
            "X-Webhook-Signature": ",".join(seed_signature(s, timestamp, body) for s in secrets_in_use),
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(standard_signature(s, webhook_id, timestamp, body) for s in secrets_in_use),
        }
    )
    return SignedRequest(body=body.encode("utf-8"), headers=headers)


# Header names a custom header may not take: they would forge or break the signature or the transport
RESERVED_HEADERS = frozenset(
    name.lower()
    for name in (
        "Content-Type",
        "Content-Length",
        "Host",
        "User-Agent",
        "Transfer-Encoding",
        "Connection",
        "X-Webhook-Id",
        "X-Webhook-Timestamp",
        "X-Webhook-Signature",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    )
)
