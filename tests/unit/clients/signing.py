"""Signing as issue 12's hub does it, for receiver tests: the seed's sha256= scheme by hand, Standard
Webhooks by the standardwebhooks library itself (one value per secret during a rotation)."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from clients.onebooking_client import standard_webhooks_key


def library(secret: str) -> Webhook:
    """The library as a receiver holding `secret` would use it (raw bytes for a non-base64 secret)."""
    return Webhook(standard_webhooks_key(secret))


def seed_sign(secrets: list[str], stamp: str, body: bytes) -> str:
    values = [hmac.new(s.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest() for s in secrets]
    return ",".join(f"sha256={v}" for v in values)


def standard_sign(secrets: list[str], webhook_id: str, stamp: int, body: bytes) -> str:
    moment = datetime.fromtimestamp(stamp, tz=UTC)
    return " ".join(library(s).sign(webhook_id, moment, body.decode()) for s in secrets)


def hub_headers(
    secrets: list[str], body: bytes, *, webhook_id: str = "msg_1", stamp: int | None = None
) -> dict[str, str]:
    """Both schemes, as issue 12's hub sends them."""
    stamp = int(time.time()) if stamp is None else stamp
    return {
        "Content-Type": "application/json",
        "X-Webhook-Timestamp": str(stamp),
        "X-Webhook-Signature": seed_sign(secrets, str(stamp), body),
        "webhook-id": webhook_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": standard_sign(secrets, webhook_id, stamp, body),
    }
