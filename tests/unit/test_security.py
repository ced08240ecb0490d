"""security.py: API key hashing, seed 002 webhook signatures and PII masking."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from bookinghub.core.security import (
    hash_api_key,
    mask_email,
    mask_phone,
    mask_pii,
    mask_text,
    new_api_key,
    new_webhook_secret,
    same_secret,
    sign_webhook,
)


def test_hash_api_key_is_hex_sha256() -> None:
    # printf 'test_sk_xxxxx' | sha256sum
    assert hash_api_key("test_sk_xxxxx") == "25194caec1e28fa0b5180aba34ed4eb3a7ebedd3037a84cabaa9127003f1be17"
    assert hash_api_key("test_sk_xxxxX") != hash_api_key("test_sk_xxxxx")


def test_sign_webhook_matches_a_known_answer() -> None:
    # printf '1708444800.{"event":"booking.updated"}' | openssl dgst -sha256 -hmac 'whsec_xxxxx'
    expected = "sha256=b08d56e806fba0f37d6a51612c9e67a76676f4de0bee86ba80455597f318d115"
    assert sign_webhook("whsec_xxxxx", "1708444800", '{"event":"booking.updated"}') == expected


def _seed_verify(payload: str, signature: str, secret: str, timestamp: str) -> bool:
    """Seed 002's verifyWebhookSignature, line for line."""
    signed_payload = f"{timestamp}.{payload}"
    expected = hmac.new(secret.encode(), signed_payload.encode(), hashlib.sha256).hexdigest()
    return f"sha256={expected}" == signature


def test_sign_webhook_verifies_with_the_seed_receiver_and_binds_every_input() -> None:
    body = '{"event":"booking.updated","data":{"status":"cancelled","note":"café"}}'
    signature = sign_webhook("whsec_a", "1708444800", body)

    assert _seed_verify(body, signature, "whsec_a", "1708444800")
    assert not _seed_verify(body, signature, "whsec_b", "1708444800")
    assert not _seed_verify(body, signature, "whsec_a", "1708444801")
    assert not _seed_verify(body.replace("cancelled", "confirmed"), signature, "whsec_a", "1708444800")


def test_new_secrets_are_prefixed_random_and_long() -> None:
    keys = {new_api_key("hw") for _ in range(20)}
    assert len(keys) == 20
    assert all(key.startswith("hw_sk_") and len(key) >= 40 for key in keys)
    assert new_webhook_secret().startswith("whsec_")
    assert new_webhook_secret() != new_webhook_secret()


def test_same_secret() -> None:
    assert same_secret("abc", "abc")
    assert not same_secret("abc", "abd")
    assert not same_secret("abc", "abcd")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("john@example.com", "j***@example.com"),
        ("Contact: John.Doe+tag@mail.example.co.th, thanks", "Contact: J***@mail.example.co.th, thanks"),
        ("<a@b.io>", "<a***@b.io>"),
        ("maría.garcía@example.com", "m***@example.com"),  # non-ASCII local parts are masked whole
        ("{'email': 'o'brien@example.com'}", "{'email': '***@example.com'}"),
        ("two: a@x.org b@y.org", "two: a***@x.org b***@y.org"),
        ("no address here @ all", "no address here @ all"),
    ],
)
def test_mask_email(text: str, masked: str) -> None:
    assert mask_email(text) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("1234567890", "***90"), ("+66 81-234 5678", "***78"), ("12", "***"), ("", "***"), ("call me", "***")],
)
def test_mask_phone_keeps_only_the_last_two_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_mask_text_masks_emails_and_phone_numbers_in_free_text() -> None:
    text = "Guest john@example.com (+66 81 234 5678) failed; booking HW-000023, 2 guests"
    masked = mask_text(text)
    assert masked == "Guest j***@example.com (***78) failed; booking HW-000023, 2 guests"


def test_mask_pii_masks_by_key_and_in_nested_text() -> None:
    payload: dict[str, Any] = {
        "booking_ref": "HW-000023",
        "activity_date": "2026-03-01",  # dates are not phone numbers here
        "customer": {"name": "John Doe", "Email": "john@example.com", "phone": "1234567890"},
        "customer_email": "odd@localhost",  # not recognised as an address: hidden whole
        "notes": ["reach me at jane@example.org", 3, None],
        "api_key": "hw_sk_live_secret",
        "token": "",
        "guest_count": 2,
    }
    masked = mask_pii(payload)
    assert masked == {
        "booking_ref": "HW-000023",
        "activity_date": "2026-03-01",
        "customer": {"name": "John Doe", "Email": "j***@example.com", "phone": "***90"},
        "customer_email": "***",
        "notes": ["reach me at j***@example.org", 3, None],
        "api_key": "***",
        "token": "",
        "guest_count": 2,
    }
    assert payload["customer"]["Email"] == "john@example.com"  # a copy: the input is untouched
