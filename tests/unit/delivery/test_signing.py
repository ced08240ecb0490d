"""Signatures verify with the reference Standard Webhooks library and with a port of seed 002's
verifyWebhookSignature; during a rotation either secret verifies."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bookinghub.delivery.logic.signing import new_secret, seed_signature, sign_request, standard_key


def verify_webhook_signature(payload: str, signature: str, secret: str, timestamp: str) -> bool:
    """Seed 002's TypeScript function, line for line."""
    signed_payload = f"{timestamp}.{payload}"
    expected = hmac.new(secret.encode(), signed_payload.encode(), hashlib.sha256).hexdigest()
    return f"sha256={expected}" == signature


BODY = json.dumps({"event": "booking.updated", "source_booking_id": "b-1", "data": {"status": "cancelled"}})


def _signed(secrets: list[str], **extra: str) -> tuple[str, dict[str, str]]:
    request = sign_request(
        BODY, webhook_id="msg_1", timestamp=int(time.time()), secrets_in_use=secrets, extra_headers=dict(extra)
    )
    return request.body.decode(), request.headers


def test_standard_webhooks_library_verifies() -> None:
    secret = new_secret()
    body, headers = _signed([secret])
    assert Webhook(secret).verify(body, headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("cancelled", "confirmed"), headers)


def test_seed_function_verifies_outside_rotation() -> None:
    secret = new_secret()
    body, headers = _signed([secret])
    assert verify_webhook_signature(body, headers["X-Webhook-Signature"], secret, headers["X-Webhook-Timestamp"])
    assert not verify_webhook_signature(body, headers["X-Webhook-Signature"], "other", headers["X-Webhook-Timestamp"])
    tampered_stamp = str(int(headers["X-Webhook-Timestamp"]) + 1)
    assert not verify_webhook_signature(body, headers["X-Webhook-Signature"], secret, tampered_stamp)


def test_rotation_signs_with_both_secrets_new_first() -> None:
    new, old = new_secret(), new_secret()
    body, headers = _signed([new, old])
    assert Webhook(new).verify(body, headers)
    assert Webhook(old).verify(body, headers)
    assert len(headers["webhook-signature"].split(" ")) == 2
    values = headers["X-Webhook-Signature"].split(",")
    stamp = headers["X-Webhook-Timestamp"]
    assert values[0] == seed_signature(new, int(stamp), body)
    assert verify_webhook_signature(body, values[1], old, stamp)


def test_non_base64_website_secret_still_verifies_with_the_library() -> None:
    """Older website secrets (token_urlsafe, or demo strings) are keyed with their UTF-8 bytes, which the
    library verifies when handed those bytes (it would misread or refuse the string itself)."""
    for secret in ("whsec_local_demo_only", "whsec_abc-_DEF123xyz", "plain-secret"):
        body, headers = _signed([secret])
        assert standard_key(secret) == secret.encode()
        assert Webhook(secret.encode()).verify(body, headers) is not None


def test_custom_headers_cannot_replace_signature_headers() -> None:
    _, headers = _signed([new_secret()], **{"x-make-apikey": "k", "X-Webhook-Signature": "sha256=forged"})
    assert headers["x-make-apikey"] == "k"
    assert headers["X-Webhook-Signature"] != "sha256=forged"


def test_stale_timestamp_is_refused_by_the_library() -> None:
    secret = new_secret()
    request = sign_request(
        BODY, webhook_id="msg_1", timestamp=int(time.time()) - 600, secrets_in_use=[secret], extra_headers={}
    )
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body, request.headers)


def test_a_signature_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        sign_request(BODY, webhook_id="m", timestamp=1, secrets_in_use=[], extra_headers={})
