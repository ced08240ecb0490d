"""POST /api/webhooks/stripe refuses anything Stripe did not sign, and stores nothing for it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from infra.local.resources import LocalResources
from tests.conftest import reset_caches
from tests.integration.conftest import snapshot_tables
from tests.integration.passes.conftest import STRIPE_SECRET, post_stripe, receive, sign, stripe_event

PAYLOAD = json.dumps(stripe_event())


def _tampered() -> tuple[str, str]:
    header = sign(PAYLOAD)
    return PAYLOAD.replace('"amount_total": 8500', '"amount_total": 1'), header


CASES: dict[str, Callable[[], tuple[str, str | None]]] = {
    "missing": lambda: (PAYLOAD, None),
    "empty": lambda: (PAYLOAD, ""),
    "malformed": lambda: (PAYLOAD, "not-a-signature"),
    "no v1 scheme": lambda: (PAYLOAD, f"t={int(time.time())},v0=abc"),
    "tampered body": _tampered,
    "wrong secret": lambda: (PAYLOAD, sign(PAYLOAD, secret="whsec_someone_else")),
    "expired": lambda: (PAYLOAD, sign(PAYLOAD, timestamp=int(time.time()) - 301)),
}


def test_bad_signatures_are_400_and_store_nothing(hub: Any, aws: LocalResources) -> None:
    # One moto setup for every case (each costs ~1 s); each case names itself when it fails
    before = snapshot_tables()
    for case, make in CASES.items():
        payload, header = make()

        status, body = post_stripe(payload, signature=header)

        assert (status, body["code"], body["success"]) == (400, "INVALID_SIGNATURE", False), case
        assert snapshot_tables() == before, case
        assert receive(aws) == [], case


def test_signed_payload_that_is_not_json_is_400(hub: Any, aws: LocalResources) -> None:
    before = snapshot_tables()
    status, body = post_stripe("this is not json")
    assert (status, body["code"]) == (400, "INVALID_PAYLOAD")
    assert snapshot_tables() == before


def test_signed_json_that_is_not_an_event_is_400(hub: Any, aws: LocalResources) -> None:
    before = snapshot_tables()
    status, body = post_stripe({"hello": "world"})
    assert (status, body["code"]) == (400, "INVALID_PAYLOAD")
    assert snapshot_tables() == before


def test_without_a_configured_secret_nothing_is_accepted(
    hub: Any, aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    reset_caches()  # settings are parsed once per process, as in Lambda
    before = snapshot_tables()
    status, body = post_stripe(PAYLOAD)
    assert (status, body["code"]) == (500, "SERVER_ERROR")
    assert snapshot_tables() == before


def test_secret_is_read_from_secrets_manager_when_its_arn_is_set(
    hub: Any, aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="bookinghub-StripeWebhookSecret", SecretString="whsec_from_secrets_manager"
    )["ARN"]
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET_ARN", arn)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET)  # ignored: the ARN wins
    reset_caches()

    status, _ = post_stripe(PAYLOAD, signature=sign(PAYLOAD, secret="whsec_from_secrets_manager"))
    assert status == 200
    status, body = post_stripe(PAYLOAD, signature=sign(PAYLOAD))
    assert (status, body["code"]) == (400, "INVALID_SIGNATURE")
