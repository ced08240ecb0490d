"""Websites and integrations: secrets shown once and never again (nor logged), key rotation with a
24 h grace period, unsafe webhook URLs refused."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.admin.conftest import call_admin, claims
from tests.integration.conftest import post_sync, seed_body, snapshot_tables, table_items

ADMIN = claims("admin")
PUBLIC = "https://93.184.216.34/hooks/onebooking"


def _register(website_id: str = "fresh-site", **extra: Any) -> tuple[int, dict[str, Any]]:
    body = {"id": website_id, "name": "Fresh", "domain": "fresh.example.com", "webhook_url": PUBLIC, **extra}
    status, answer, _ = call_admin("POST", "/api/websites", caller=ADMIN, body=body)
    return status, answer


def test_the_key_and_secret_are_shown_once_and_work(tenants: dict[str, Any], captured_logs: Callable[[], str]) -> None:
    status, created = _register()
    assert status == 201, created
    api_key, secret = created["api_key"], created["webhook_secret"]
    assert api_key.startswith("fresh_sk_")
    assert secret.startswith("whsec_")
    assert created["website"]["api_key_prefix"] == api_key[:8]
    assert created["website"]["has_webhook_secret"] is True
    # the key authenticates the website's syncs at once
    assert post_sync(seed_body(source_booking_id="fresh-1"), api_key=api_key)[0] == 200

    _, listed, _ = call_admin("GET", "/api/websites", caller=ADMIN)
    _, patched, _ = call_admin("PATCH", "/api/websites/fresh-site", caller=ADMIN, body={"name": "Fresh 2"})
    stored = json.dumps([item for item in table_items("bookinghub-Bookings")])
    for text in (json.dumps(listed), json.dumps(patched), captured_logs(), stored):
        assert api_key not in text
        assert secret not in text
    assert "webhook_secret_encrypted" not in json.dumps(listed)


def test_a_taken_id_is_409_and_overwrites_nothing(tenants: dict[str, Any]) -> None:
    before = snapshot_tables()
    status, answer = _register("test-website")
    assert (status, answer["code"]) == (409, "WEBSITE_EXISTS")
    assert snapshot_tables() == before


def test_rotation_keeps_the_old_key_for_24_hours(
    tenants: dict[str, Any], monkeypatch: pytest.MonkeyPatch, captured_logs: Callable[[], str]
) -> None:
    _, created = _register()
    old_key = created["api_key"]
    status, rotated, _ = call_admin("POST", "/api/websites/fresh-site/rotate-key", caller=ADMIN)
    assert status == 200, rotated
    new_key = rotated["api_key"]
    assert new_key != old_key
    assert 86400 - 60 <= rotated["previous_key_expires_at"] - time.time() <= 86400
    # the new key is in that one answer only: not listed, not logged, not stored (only its hash)
    _, listed, _ = call_admin("GET", "/api/websites", caller=ADMIN)
    assert [w["api_key_prefix"] for w in listed["websites"] if w["id"] == "fresh-site"] == [new_key[:8]]
    for text in (json.dumps(listed), captured_logs(), json.dumps(table_items("bookinghub-Bookings"))):
        assert new_key not in text

    assert post_sync(seed_body(source_booking_id="r-1"), api_key=new_key)[0] == 200
    assert post_sync(seed_body(source_booking_id="r-2"), api_key=old_key)[0] == 200  # in its grace period

    later = time.time() + 86400 + 1
    monkeypatch.setattr("bookinghub.bookings.logic.sync.time.time", lambda: later)
    status, answer = post_sync(seed_body(source_booking_id="r-3"), api_key=old_key)
    assert (status, answer["code"]) == (401, "AUTH_FAILED")
    assert post_sync(seed_body(source_booking_id="r-4"), api_key=new_key)[0] == 200


def test_deactivating_a_website_refuses_its_current_and_its_rotated_out_key_until_reactivated(
    tenants: dict[str, Any],
) -> None:
    """The sync reads the website's state from the key's pointer (no check in its write): the current
    key's pointer follows the website; a key in its grace period checks the website itself."""
    _, created = _register()
    old_key = created["api_key"]
    _, rotated, _ = call_admin("POST", "/api/websites/fresh-site/rotate-key", caller=ADMIN)
    new_key = rotated["api_key"]
    status, _, _ = call_admin("PATCH", "/api/websites/fresh-site", caller=ADMIN, body={"is_active": False})
    assert status == 200
    before = snapshot_tables()
    for number, key in enumerate((new_key, old_key)):
        status, answer = post_sync(seed_body(source_booking_id=f"off-{number}"), api_key=key)
        assert (status, answer["code"]) == (401, "AUTH_FAILED"), key
    assert snapshot_tables() == before  # refused before anything is written

    status, _, _ = call_admin("PATCH", "/api/websites/fresh-site", caller=ADMIN, body={"is_active": True})
    assert status == 200
    assert post_sync(seed_body(source_booking_id="on-1"), api_key=new_key)[0] == 200
    assert post_sync(seed_body(source_booking_id="on-2"), api_key=old_key)[0] == 200


def test_a_website_registered_outside_the_api_can_rotate_its_key(tenants: dict[str, Any]) -> None:
    """The demo websites of `make run` (and any seeded one) are registered by the service directly."""
    status, rotated, _ = call_admin("POST", "/api/websites/test-website/rotate-key", caller=ADMIN)
    assert status == 200, rotated
    assert post_sync(seed_body(source_booking_id="seeded-1"), api_key=rotated["api_key"])[0] == 200
    assert post_sync(seed_body(source_booking_id="seeded-2"), api_key="test_sk_xxxxx")[0] == 200  # grace


def test_a_second_rotation_does_not_extend_the_first_keys_grace(tenants: dict[str, Any]) -> None:
    _register()
    call_admin("POST", "/api/websites/fresh-site/rotate-key", caller=ADMIN)
    status, _, _ = call_admin("POST", "/api/websites/fresh-site/rotate-key", caller=ADMIN)
    assert status == 200
    keys = [
        i
        for i in table_items("bookinghub-Bookings")
        if i.get("entity", {}).get("S") == "api_key" and i["website_id"]["S"] == "fresh-site"
    ]
    assert sorted("expires_at" in key for key in keys) == [False, True, True]


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",  # not https
        "https://10.0.0.5/hook",  # private
        "https://169.254.169.254/latest/meta-data",  # instance metadata
        "https://127.0.0.1/hook",  # loopback (only under make run)
        "https://[::ffff:192.168.1.1]/hook",  # private, IPv4-mapped
        "https://[fd00:ec2::254]/hook",  # IPv6 metadata
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://user:pass@93.184.216.34/hook",  # credentials in the URL
        "ftp://93.184.216.34/hook",
        "https://internal.corp.example/hook",  # resolves to a private address
    ],
)
def test_unsafe_webhook_urls_are_refused(tenants: dict[str, Any], url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bookinghub.core.urls.resolve", lambda host: ["10.1.2.3"])
    before = snapshot_tables()
    status, answer = _register(webhook_url=url)
    assert (status, answer["code"]) == (400, "INVALID_PAYLOAD"), answer
    status, answer, _ = call_admin("PATCH", "/api/websites/test-website", caller=ADMIN, body={"webhook_url": url})
    assert (status, answer["code"]) == (400, "INVALID_PAYLOAD"), answer
    assert snapshot_tables() == before


def test_a_public_host_name_is_accepted(tenants: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bookinghub.core.urls.resolve", lambda host: ["93.184.216.34"])
    status, answer = _register(webhook_url="https://hooks.example.com/onebooking")
    assert status == 201, answer


def test_website_patch_validation(tenants: dict[str, Any]) -> None:
    for body in ({}, {"name": None}, {"api_key_prefix": "x"}, {"logo_url": "http://x.example.com/logo.png"}):
        status, answer, _ = call_admin("PATCH", "/api/websites/test-website", caller=ADMIN, body=body)
        assert (status, answer["code"]) == (400, "INVALID_PAYLOAD"), body
    status, answer, _ = call_admin(
        "PATCH", "/api/websites/test-website", caller=ADMIN, body={"is_active": False, "logo_url": None}
    )
    assert status == 200
    assert answer["website"]["is_active"] is False
    status, answer = post_sync(seed_body(source_booking_id="inactive-1"))
    assert (status, answer["code"]) == (401, "AUTH_FAILED")  # a deactivated website's syncs are refused


def test_integration_secrets_are_write_only(tenants: dict[str, Any], captured_logs: Callable[[], str]) -> None:
    body: dict[str, Any] = {
        "integration_type": "rooms_event_hub",
        "name": "Rooms",
        "config": {
            "base_url": "https://93.184.216.34/v1/webhooks",
            "webhook_path": "zezamiiPass/reservation",
            "property_id": "p",
        },
        "secret_headers": {"X-Api-Key": "very-secret-rooms-key"},
    }
    status, created, _ = call_admin("POST", "/api/integrations", caller=ADMIN, body=body)
    assert status == 201, created
    assert created["integration"]["has_secret_headers"] is True
    path = f"/api/integrations/{created['integration']['id']}"
    _, listed, _ = call_admin("GET", "/api/integrations", caller=ADMIN)
    _, patched, _ = call_admin(
        "PATCH", path, caller=ADMIN, body={"secret_headers": {"X-Api-Key": "rotated-secret-key"}}
    )
    stored = json.dumps(table_items("bookinghub-Bookings"))
    for text in (json.dumps(created), json.dumps(listed), json.dumps(patched), captured_logs(), stored):
        assert "very-secret-rooms-key" not in text
        assert "rotated-secret-key" not in text
    _, cleared, _ = call_admin("PATCH", path, caller=ADMIN, body={"secret_headers": {}})
    assert cleared["integration"]["has_secret_headers"] is False

    for bad in (
        {"config": {**body["config"], "base_url": "https://169.254.169.254/"}},
        {"bogus": 1},
        {"status": "deleted"},
    ):
        status, answer, _ = call_admin("PATCH", path, caller=ADMIN, body=bad)
        assert (status, answer["code"]) == (400, "INVALID_PAYLOAD"), bad
    status, answer, _ = call_admin("PATCH", "/api/integrations/no-such-id", caller=ADMIN, body={"status": "inactive"})
    assert (status, answer["code"]) == (404, "INTEGRATION_NOT_FOUND")


def test_a_keys_pointer_is_read_once_per_bound_and_a_change_elsewhere_counts_after_it(
    tenants: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key check reads the pointer at most once per KEY_RECORD_MAX_AGE_SECONDS here; a deactivation
    made through this environment's registry counts at once, one made elsewhere once the bound is over."""
    from bookinghub.aws import keys
    from bookinghub.aws.clients import client
    from bookinghub.core.security import hash_api_key
    from bookinghub.core.settings import get_settings
    from bookinghub.websites.logic import auth

    _, created = _register()
    api_key = created["api_key"]
    reads: list[str] = []
    client("dynamodb").meta.events.register("before-call.dynamodb.GetItem", lambda **_: reads.append("GetItem"))
    for n in range(3):
        assert post_sync(seed_body(source_booking_id=f"k-{n}"), api_key=api_key)[0] == 200
    assert len(reads) == 1

    call_admin("PATCH", "/api/websites/fresh-site", caller=ADMIN, body={"is_active": False})
    assert post_sync(seed_body(source_booking_id="k-off"), api_key=api_key)[0] == 401  # at once
    call_admin("PATCH", "/api/websites/fresh-site", caller=ADMIN, body={"is_active": True})
    assert post_sync(seed_body(source_booking_id="k-on"), api_key=api_key)[0] == 200

    # Deactivated by another environment (its registry write is not seen here): refused after the bound
    client("dynamodb").update_item(
        TableName=get_settings().bookings_table,
        Key={"PK": {"S": keys.api_key_pk(hash_api_key(api_key))}, "SK": {"S": keys.APIKEY_SK}},
        UpdateExpression="SET is_active = :f",
        ExpressionAttributeValues={":f": {"BOOL": False}},
    )
    assert post_sync(seed_body(source_booking_id="k-lag"), api_key=api_key)[0] == 200  # within the bound
    monkeypatch.setattr(auth, "KEY_RECORD_MAX_AGE_SECONDS", 0.0)
    status, answer = post_sync(seed_body(source_booking_id="k-late"), api_key=api_key)
    assert (status, answer["code"]) == (401, "AUTH_FAILED")
