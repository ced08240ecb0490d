"""verify_webhook against the seed's own verifyWebhookSignature (ported) and the standardwebhooks library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from clients.onebooking_client import (
    InvalidWebhookSecret,
    MalformedSignatureHeaders,
    MissingSignature,
    SignatureMismatch,
    TimestampOutOfTolerance,
    WebhookPayloadError,
    apply_updated_fields,
    standard_webhooks_key,
    verify_webhook,
)
from tests.unit.clients import signing
from tests.unit.clients.signing import library, seed_sign

NOW = 1_771_601_400
BODY = json.dumps(
    {
        "event": "booking.status_changed",
        "source_booking_id": "b-1",
        "updated_fields": ["status", "admin_notes"],
        "data": {"status": "cancelled", "admin_notes": "Flight change, คืนเงิน"},
        "updated_at": "2026-02-20T15:30:00Z",
        "updated_by": "admin@onebooking.co",
    },
    ensure_ascii=False,
).encode()
B64_SECRET = "whsec_" + base64.b64encode(b"k" * 24).decode()  # Standard Webhooks' own format
LEGACY_SECRET = "whsec_local_demo_hanuman-world"  # today's demo secret: not base64


def seed_verify(payload: str, signature: str, secret: str, timestamp: str) -> bool:
    """Seed 002's verifyWebhookSignature, line for line (createHmac with a string key uses its UTF-8 bytes)."""
    signed_payload = f"{timestamp}.{payload}"
    expected = hmac.new(secret.encode("utf-8"), signed_payload.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"sha256={expected}" == signature


def hub_headers(
    secrets_: list[str] | None = None, *, stamp: int = NOW, webhook_id: str = "msg_1", body: bytes = BODY
) -> dict[str, str]:
    return signing.hub_headers(secrets_ or [B64_SECRET], body, webhook_id=webhook_id, stamp=stamp)


def only(headers: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() in {n.lower() for n in names}}


SEED_HEADERS = ("X-Webhook-Timestamp", "X-Webhook-Signature")
STANDARD_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


@pytest.mark.parametrize("secret", [B64_SECRET, LEGACY_SECRET, "test-secret", "whsec_xxxxx"])
def test_both_schemes_verify_and_agree_with_the_seed_function_and_the_library(secret: str) -> None:
    stamp = int(time.time())  # the library checks against the real clock
    headers = hub_headers([secret], stamp=stamp)
    verified = verify_webhook(headers, BODY, secret)
    assert verified.schemes == ("standard-webhooks", "seed")
    assert verified.payload["data"]["status"] == "cancelled"
    assert (verified.webhook_id, verified.id_is_signed, verified.timestamp) == ("msg_1", True, stamp)
    assert seed_verify(BODY.decode(), headers["X-Webhook-Signature"], secret, headers["X-Webhook-Timestamp"])
    assert library(secret).verify(BODY, only(headers, *STANDARD_HEADERS))["source_booking_id"] == "b-1"


def test_standard_key_is_the_librarys_own_for_base64_secrets() -> None:
    for size in (16, 24, 32, 33, 64):
        raw = secrets.token_bytes(size)
        for secret in (
            "whsec_" + base64.b64encode(raw).decode(),
            "whsec_" + base64.b64encode(raw).decode().rstrip("="),
        ):
            assert standard_webhooks_key(secret) == raw
            stamp = int(time.time())
            headers = {
                "webhook-id": "msg_x",
                "webhook-timestamp": str(stamp),
                "webhook-signature": Webhook(secret).sign("msg_x", datetime.fromtimestamp(stamp, tz=UTC), "{}"),
            }
            assert verify_webhook(headers, b"{}", secret).schemes == ("standard-webhooks",)


def test_a_secret_the_library_cannot_read_is_used_as_its_utf8_bytes() -> None:
    with pytest.raises(Exception, match="base64"):
        Webhook(LEGACY_SECRET)  # the library refuses it outright
    assert standard_webhooks_key(LEGACY_SECRET) == LEGACY_SECRET.encode()
    urlsafe = "whsec_ab-_cd"  # the library would silently drop "-" and "_"
    assert standard_webhooks_key(urlsafe) == urlsafe.encode()
    with pytest.raises(InvalidWebhookSecret):
        standard_webhooks_key("whsec_")


def test_the_hubs_signature_verifies_both_ways() -> None:
    """What the hub's delivery system sends (bookinghub.delivery.logic.signing): both schemes, one webhook id."""
    from bookinghub.delivery.logic.signing import sign_request

    body = {"event": "booking.updated", "source_booking_id": "b-1", "updated_fields": [], "data": {}}
    for secret in (LEGACY_SECRET, B64_SECRET, "whsec_ab-_cd"):
        signed = sign_request(
            json.dumps(body), webhook_id="evt-9", timestamp=NOW, secrets_in_use=[secret], extra_headers={}
        )
        verified = verify_webhook(signed.headers, signed.body, secret, now=NOW)
        assert set(verified.schemes) == {"seed", "standard-webhooks"}
        assert (verified.webhook_id, verified.id_is_signed) == ("evt-9", True)
        assert verified.payload == body


@pytest.mark.parametrize("secret", ["whsec_local_demo_hanuman-world", "whsec_ab-_cd", "whsec_", "plain", "whsec_QUJD"])
def test_the_hub_and_the_client_derive_the_same_standard_webhooks_key(secret: str) -> None:
    from bookinghub.delivery.logic.signing import standard_key

    if secret == "whsec_":
        with pytest.raises(InvalidWebhookSecret):
            standard_webhooks_key(secret)
        return
    assert standard_key(secret) == standard_webhooks_key(secret)


def test_either_scheme_alone_is_enough() -> None:
    headers = hub_headers()
    assert verify_webhook(only(headers, *SEED_HEADERS), BODY, B64_SECRET, now=NOW).schemes == ("seed",)
    assert verify_webhook(only(headers, *STANDARD_HEADERS), BODY, B64_SECRET, now=NOW).schemes == ("standard-webhooks",)


@pytest.mark.parametrize(("broken", "scheme"), [("X-Webhook-Signature", "seed"), ("webhook-signature", "standard")])
def test_every_scheme_present_must_verify(broken: str, scheme: str) -> None:
    headers = hub_headers()
    headers[broken] = hub_headers(["whsec_" + base64.b64encode(b"other").decode()])[broken]
    with pytest.raises(SignatureMismatch) as raised:
        verify_webhook(headers, BODY, B64_SECRET, now=NOW)
    assert raised.value.scheme.startswith(scheme)


def test_rotation_headers_verify_with_either_secret() -> None:
    old, new = B64_SECRET, "whsec_" + base64.b64encode(b"n" * 32).decode()
    stamp = int(time.time())
    headers = hub_headers([new, old], stamp=stamp)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert len(headers["X-Webhook-Signature"].split(",")) == 2
    for secret in (old, new):
        assert verify_webhook(headers, BODY, secret).schemes == ("standard-webhooks", "seed")
        assert library(secret).verify(BODY, only(headers, *STANDARD_HEADERS))
        # The seed's function compares the whole header, so it cannot read a rotation header
        assert not seed_verify(BODY.decode(), headers["X-Webhook-Signature"], secret, str(stamp))
    with pytest.raises(SignatureMismatch):
        verify_webhook(headers, BODY, LEGACY_SECRET)


def test_a_website_may_hold_several_secrets() -> None:
    headers = hub_headers([LEGACY_SECRET])
    assert verify_webhook(headers, BODY, [B64_SECRET, LEGACY_SECRET], now=NOW).schemes == ("standard-webhooks", "seed")


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamps_within_tolerance_pass(offset: int) -> None:
    assert verify_webhook(hub_headers(stamp=NOW + offset), BODY, B64_SECRET, now=NOW)


@pytest.mark.parametrize(("offset", "words"), [(-301, "old"), (301, "future"), (-86400, "old")])
@pytest.mark.parametrize("names", [SEED_HEADERS, STANDARD_HEADERS])
def test_timestamps_outside_tolerance_fail_both_ways(offset: int, words: str, names: tuple[str, ...]) -> None:
    headers = only(hub_headers(stamp=NOW + offset), *names)
    with pytest.raises(TimestampOutOfTolerance, match=words):
        verify_webhook(headers, BODY, B64_SECRET, now=NOW)


def test_the_library_refuses_the_same_stale_and_future_messages() -> None:
    for offset in (-301, 301):
        headers = only(hub_headers(stamp=int(time.time()) + offset), *STANDARD_HEADERS)
        with pytest.raises(WebhookVerificationError):
            library(B64_SECRET).verify(BODY, headers)
        with pytest.raises(TimestampOutOfTolerance):
            verify_webhook(headers, BODY, B64_SECRET)


def test_a_custom_tolerance_is_used() -> None:
    with pytest.raises(TimestampOutOfTolerance):
        verify_webhook(hub_headers(stamp=NOW - 31), BODY, B64_SECRET, tolerance=30, now=NOW)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b.replace(b"cancelled", b"confirmed")),
        lambda h, b: ({**h, "webhook-id": "msg_2"}, b),
        lambda h, b: ({**h, "X-Webhook-Timestamp": str(NOW + 1), "webhook-timestamp": str(NOW + 1)}, b),
        lambda h, b: (h, b + b" "),
    ],
)
def test_changed_bodies_ids_and_timestamps_are_refused(tamper: Any) -> None:
    headers, body = tamper(hub_headers(), BODY)
    with pytest.raises(SignatureMismatch):
        verify_webhook(headers, body, B64_SECRET, now=NOW)


def test_the_unsigned_x_webhook_id_is_reported_as_unsigned() -> None:
    headers = {**only(hub_headers(), *SEED_HEADERS), "X-Webhook-Id": "anything"}
    verified = verify_webhook(headers, BODY, B64_SECRET, now=NOW)
    assert (verified.webhook_id, verified.id_is_signed) == ("anything", False)


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, MissingSignature),
        ({"Content-Type": "application/json"}, MissingSignature),
        ({"X-Webhook-Signature": "sha256=00"}, MissingSignature),
        ({"webhook-id": "msg_1", "webhook-signature": "v1,AAAA"}, MissingSignature),
        ({"X-Webhook-Signature": "sha256=00", "X-Webhook-Timestamp": ""}, MissingSignature),
        ({"X-Webhook-Signature": "md5=00", "X-Webhook-Timestamp": str(NOW)}, MalformedSignatureHeaders),
        ({"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": "v2,AAAA"}, MalformedSignatureHeaders),
        ({"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": "v1,@@@"}, MalformedSignatureHeaders),
        ({"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": "garbage"}, MalformedSignatureHeaders),
    ],
)
def test_missing_and_malformed_headers_have_their_own_errors(headers: dict[str, str], error: type[Exception]) -> None:
    with pytest.raises(error):
        verify_webhook(headers, BODY, B64_SECRET, now=NOW)


@pytest.mark.parametrize("stamp", ["1771601400.5", "abc", "-1771601400", " "])
def test_a_timestamp_must_be_whole_seconds(stamp: str) -> None:
    headers = {"X-Webhook-Timestamp": stamp, "X-Webhook-Signature": seed_sign([B64_SECRET], stamp, BODY)}
    with pytest.raises((MalformedSignatureHeaders, MissingSignature)):
        verify_webhook(headers, BODY, B64_SECRET, now=NOW)


def test_header_names_are_case_insensitive_and_str_bodies_work() -> None:
    headers = {k.upper(): v for k, v in hub_headers().items()}
    assert verify_webhook(headers, BODY.decode(), B64_SECRET, now=NOW).schemes == ("standard-webhooks", "seed")


def test_an_authentic_body_that_is_not_json_is_a_payload_error() -> None:
    headers = hub_headers(body=b"not json")
    with pytest.raises(WebhookPayloadError):
        verify_webhook(headers, b"not json", B64_SECRET, now=NOW)
    assert verify_webhook(headers, b"not json", B64_SECRET, now=NOW, parse_json=False).payload is None


@pytest.mark.parametrize("secret", ["", [], ["ok", ""]])
def test_an_empty_secret_is_a_configuration_error(secret: Any) -> None:
    with pytest.raises(InvalidWebhookSecret):
        verify_webhook(hub_headers(), BODY, secret, now=NOW)


def test_apply_updated_fields_changes_only_the_listed_fields() -> None:
    record = {"status": "confirmed", "admin_notes": "old", "special_requests": "veg", "guest_count": 2}
    payload = {"updated_fields": ["status", "special_requests"], "data": {"status": "cancelled", "guest_count": 9}}
    assert apply_updated_fields(record, payload) == {
        "status": "cancelled",
        "admin_notes": "old",
        "special_requests": None,  # listed without a value: cleared in the hub
        "guest_count": 2,  # in data but not listed: untouched
    }
    assert record["status"] == "confirmed"
    with pytest.raises(WebhookPayloadError):
        apply_updated_fields(record, {"updated_fields": "status", "data": {}})
