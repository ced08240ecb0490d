"""Every bad request gets its error code and leaves every table exactly as it was."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.core.security import hash_api_key
from bookinghub.core.settings import get_settings
from tests.integration.conftest import TEST_KEY, post_sync, seed_body, snapshot_tables

NEW_ID = "another-booking"  # a booking the hub does not know: a wrongly accepted request would create it


def _new_booking(**changes: Any) -> dict[str, Any]:
    return seed_body(source_booking_id=NEW_ID, **changes)


def _customer(**changes: Any) -> dict[str, Any]:
    return {**seed_body()["customer"], **changes}


def _deactivate_website() -> None:
    # Through the registry: the key pointer carries the website's state, which the sync reads alone
    from bookinghub.websites.dal.admin import update_website

    update_website("test-website", {"is_active": False}, "2026-02-20T10:00:00.000000Z")


def _delete_website() -> None:
    # The website and its key pointer (the hub has no delete; this is what one would remove)
    for key in (
        {"PK": {"S": keys.website_pk("test-website")}, "SK": {"S": keys.WEBSITE_SK}},
        {"PK": {"S": keys.api_key_pk(hash_api_key(TEST_KEY))}, "SK": {"S": keys.APIKEY_SK}},
    ):
        client("dynamodb").delete_item(TableName=get_settings().bookings_table, Key=key)
    _after_the_key_cache_bound()


def _after_the_key_cache_bound() -> None:
    # Written around the registry (as another execution environment, or the table's TTL, would): the
    # key as read by the earlier sync is kept for a bound (test_admin_websites tests it); this is after it
    from bookinghub.websites.dal.websites import forget_recent_api_keys

    forget_recent_api_keys()


def _update_key(expression: str, values: dict[str, Any]) -> None:
    client("dynamodb").update_item(
        TableName=get_settings().bookings_table,
        Key={"PK": {"S": keys.api_key_pk(hash_api_key(TEST_KEY))}, "SK": {"S": keys.APIKEY_SK}},
        UpdateExpression=expression,
        ExpressionAttributeValues=values,
    )
    _after_the_key_cache_bound()


@dataclass(frozen=True)
class Case:
    body: dict[str, Any] | str | bytes
    status: int
    code: str
    fields: tuple[str, ...] = ()  # fields named in `details` (INVALID_PAYLOAD)
    options: dict[str, Any] = field(default_factory=dict)
    setup: Callable[[], None] | None = None


# Type errors in depth are unit-tested (tests/unit/test_booking_sync_model.py); here each kind of bad
# input goes through the handler once, to prove it writes nothing.
CASES: dict[str, Case] = {
    "malformed JSON": Case('{"event": "booking.created",', 400, "INVALID_PAYLOAD", ("body",)),
    "empty body": Case("", 400, "INVALID_PAYLOAD", ("body",)),
    "JSON array": Case("[1, 2]", 400, "INVALID_PAYLOAD", ("body",)),
    "created without required fields": Case(
        _new_booking(package_name=None, customer=None), 400, "INVALID_PAYLOAD", ("package_name", "customer")
    ),
    "price as a string": Case(_new_booking(package_price="3490"), 400, "INVALID_PAYLOAD", ("package_price",)),
    "activity date as a number": Case(_new_booking(activity_date=0), 400, "INVALID_PAYLOAD", ("activity_date",)),
    "bad email": Case(
        _new_booking(customer=_customer(email="not-an-email")), 400, "INVALID_PAYLOAD", ("customer.email",)
    ),
    "unknown event": Case(_new_booking(event="booking.deleted"), 400, "INVALID_PAYLOAD", ("event",)),
    "missing event": Case(_new_booking(event=None), 400, "INVALID_PAYLOAD", ("event",)),
    "unknown extra field": Case(_new_booking(coupon="FREE"), 400, "INVALID_PAYLOAD", ("coupon",)),
    "unknown nested field": Case(_new_booking(customer=_customer(age=42)), 400, "INVALID_PAYLOAD", ("customer.age",)),
    "updated_at far in the future": Case(
        _new_booking(updated_at="2099-01-01T00:00:00Z"), 400, "INVALID_PAYLOAD", ("updated_at",)
    ),
    "cancellation that says confirmed": Case(
        {"event": "booking.cancelled", "source_booking_id": "uuid-from-source-database", "status": "confirmed"},
        400,
        "INVALID_PAYLOAD",
        ("status",),
    ),
    "lone surrogate in a string": Case(
        '{"event": "booking.updated", "source_booking_id": "uuid-from-source-database", "booking_ref": "\\ud800"}',
        400,
        "INVALID_PAYLOAD",
        ("body",),
    ),
    "base64 body that is not UTF-8": Case(
        b'{"event": "booking.updated", "source_booking_id": "x", "booking_ref": "\xff"}',
        400,
        "INVALID_PAYLOAD",
        ("body",),
        options={"b64": True},
    ),
    "body over 256 KB": Case(json.dumps(_new_booking()) + " " * (256 * 1024), 413, "PAYLOAD_TOO_LARGE"),
    "missing API key": Case(_new_booking(), 401, "AUTH_FAILED", options={"api_key": None}),
    "blank API key": Case(_new_booking(), 401, "AUTH_FAILED", options={"api_key": "  "}),
    "unknown API key": Case(_new_booking(), 401, "AUTH_FAILED", options={"api_key": "hw_sk_live_unknown"}),
    "API key of another case": Case(_new_booking(), 401, "AUTH_FAILED", options={"api_key": TEST_KEY.upper()}),
    "inactive API key": Case(
        _new_booking(), 401, "AUTH_FAILED", setup=lambda: _update_key("SET is_active = :f", {":f": {"BOOL": False}})
    ),
    "expired API key": Case(
        _new_booking(),
        401,
        "AUTH_FAILED",
        setup=lambda: _update_key("SET expires_at = :t", {":t": {"N": str(int(time.time()) - 60)}}),
    ),
    "inactive website": Case(_new_booking(), 401, "AUTH_FAILED", setup=_deactivate_website),
    "deleted website": Case(_new_booking(), 401, "AUTH_FAILED", setup=_delete_website),
    "redelivery to a deleted website": Case(seed_body(), 401, "AUTH_FAILED", setup=_delete_website),
    # Seed 002 sends Content-Type: application/json; any other media type is 415, like the admin API
    "JSON sent as text/plain": Case(
        _new_booking(), 415, "UNSUPPORTED_MEDIA_TYPE", options={"content_type": "text/plain"}
    ),
    "a form": Case(
        "event=booking.created&source_booking_id=another-booking",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        options={"content_type": "application/x-www-form-urlencoded"},
    ),
    "multipart without a boundary": Case(
        _new_booking(), 415, "UNSUPPORTED_MEDIA_TYPE", options={"content_type": "multipart/form-data"}
    ),
    "JSON with a JSON-like media type": Case(
        _new_booking(), 415, "UNSUPPORTED_MEDIA_TYPE", options={"content_type": "application/jsonx; charset=utf-8"}
    ),
    "the caller before the media type": Case(
        "a=b", 401, "AUTH_FAILED", options={"api_key": None, "content_type": "application/x-www-form-urlencoded"}
    ),
    "partial update of an unknown booking": Case(
        {"event": "booking.cancelled", "source_booking_id": NEW_ID, "reason": "flight change"},
        404,
        "BOOKING_NOT_FOUND",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_request_is_rejected_and_writes_nothing(test_website: Any, case: Case) -> None:
    assert post_sync(seed_body())[0] == 200  # a stored booking the bad request must not touch either
    if case.setup:
        case.setup()
    before = snapshot_tables()

    status, body = post_sync(case.body, **case.options)

    assert (status, body["code"]) == (case.status, case.code), body
    assert body["success"] is False
    assert isinstance(body["error"], str)
    assert body["error"]
    assert set(body) <= {"success", "error", "code", "details"}
    if case.fields:
        assert {detail["field"] for detail in body["details"]} == set(case.fields)
    assert snapshot_tables() == before


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON", None])
def test_json_is_json_with_a_charset_in_capitals_or_unnamed(test_website: Any, content_type: str | None) -> None:
    # None: no Content-Type header at all, read as JSON (as the admin API reads it)
    status, body = post_sync(_new_booking(), content_type=content_type)

    assert (status, body["outcome"]) == (200, "created"), body


def test_body_of_exactly_256_kb_is_accepted(test_website: Any) -> None:
    raw = json.dumps(seed_body())
    raw += " " * (256 * 1024 - len(raw.encode()))

    status, body = post_sync(raw)

    assert (status, body["outcome"]) == (200, "created")


def test_error_details_do_not_echo_the_input(test_website: Any) -> None:
    _, body = post_sync(_new_booking(customer=_customer(email="secret-person@@example.com"), package_price="X1"))

    assert body["code"] == "INVALID_PAYLOAD"
    assert "secret-person" not in json.dumps(body)
    assert "X1" not in json.dumps(body)
