"""Webhook authentication (issue 5): an HMAC-SHA256 signature of the raw body (hex, with or without
`sha256=`), or the webhook secret as `?token=` or `X-Beds24-Token`. Anything else is 401 with an error code
and leaves every table and the queue as they were."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local.resources import LocalResources
from tests.integration.beds24.hub import (
    OTHER_SECRET,
    SECRET,
    drain_events,
    post_webhook,
    queued,
    set_property,
    sign,
    stored_event,
    webhook_body,
)
from tests.integration.conftest import snapshot_tables


def _raw(booking_id: int, **booking: Any) -> bytes:
    return json.dumps(webhook_body(booking_id, **booking)).encode()


def _assert_rejected(aws: LocalResources, status: int, answer: dict[str, Any], case: str) -> None:
    assert status == 401, (case, answer)
    assert (answer["success"], answer["code"]) == (False, "AUTH_FAILED"), (case, answer)
    assert queued(aws, "Beds24Events") == 0, case


def test_every_accepted_proof_stores_and_queues_the_event(aws: LocalResources, prop: Any) -> None:
    proofs: dict[str, dict[str, str]] = {}
    bodies: dict[str, bytes] = {}
    for booking_id, case in enumerate(
        ("signature", "signature with sha256=", "upper-case signature", "?token=", "X-Beds24-Token"), start=40000101
    ):
        body = bodies[case] = _raw(booking_id)
        proofs[case] = {
            "signature": {"signature": sign(body)},
            "signature with sha256=": {"signature": f"sha256={sign(body)}"},
            "upper-case signature": {"signature": f"SHA256={sign(body).upper()}"},
            "?token=": {"token": SECRET},
            "X-Beds24-Token": {"header_token": SECRET},
        }[case]

    keys: dict[str, str] = {}
    for case, proof in proofs.items():
        status, answer = post_webhook(bodies[case], **proof)
        assert status == 200, (case, answer)
        assert (answer["success"], answer["status"]) == (True, "queued"), (case, answer)
        keys[case] = answer["event_key"]
    assert queued(aws, "Beds24Events") == len(proofs)
    assert drain_events(aws) == (len(proofs), 0)  # the consumer records each event, with its outcome
    for case, key in keys.items():
        event = stored_event(key)
        assert event is not None, case
        assert event["status"] == "processed"
        assert event["payload"] == bodies[case].decode()  # the raw body, kept for audit
        assert event["authenticated_by"] == ("signature" if "signature" in case else "token")
        assert event["beds24_booking_id"] == json.loads(bodies[case])["booking"]["id"]


def test_bad_signatures_are_401_and_store_nothing(aws: LocalResources, prop: Any) -> None:
    body = _raw(40000201)
    tampered = body.replace(b'"price": 10500', b'"price": 1')
    assert tampered != body
    cases: dict[str, tuple[bytes, str]] = {
        "tampered body": (tampered, sign(body)),
        "wrong secret": (body, sign(body, OTHER_SECRET)),
        "empty signature": (body, " "),
        "not hex": (body, "sha256=" + "zz" * 32),
        "truncated": (body, sign(body)[:-2]),
        "other scheme": (body, f"sha1={sign(body)}"),
        "unknown property": (_raw(40000201, propertyId=99999), sign(_raw(40000201, propertyId=99999))),
        "no property id": (_raw(40000201, propertyId=None), sign(_raw(40000201, propertyId=None))),
    }
    before = snapshot_tables()
    for case, (raw, signature) in cases.items():
        status, answer = post_webhook(raw, signature=signature)
        _assert_rejected(aws, status, answer, case)
    assert snapshot_tables() == before


def test_bad_tokens_are_401_and_store_nothing(aws: LocalResources, prop: Any) -> None:
    body = _raw(40000301)
    cases: dict[str, dict[str, str]] = {
        "no proof at all": {},
        "wrong query token": {"token": OTHER_SECRET},
        "wrong header token": {"header_token": OTHER_SECRET},
        "token differing in case": {"token": SECRET.upper()},
        "token prefix": {"token": SECRET[:-1]},
        "empty token": {"token": ""},
        "right token, bad signature": {"token": SECRET, "signature": sign(body, OTHER_SECRET)},
        "bad token, right signature": {"header_token": OTHER_SECRET, "signature": sign(body)},
    }
    before = snapshot_tables()
    for case, proof in cases.items():
        status, answer = post_webhook(body, **proof)
        _assert_rejected(aws, status, answer, case)
    assert snapshot_tables() == before


def test_an_inactive_property_accepts_no_webhook(aws: LocalResources, prop: Any) -> None:
    set_property(status="inactive")
    body = _raw(40000401)
    before = snapshot_tables()
    for proof in ({"token": SECRET}, {"signature": sign(body)}):
        status, answer = post_webhook(body, **proof)
        _assert_rejected(aws, status, answer, str(proof))
    assert snapshot_tables() == before


def test_a_replaced_secret_stops_working_at_once(aws: LocalResources, prop: Any) -> None:
    from bookinghub.beds24.dal.properties import get_property
    from bookinghub.beds24.logic.properties import update_property

    current = get_property(prop.organisation_id, prop.id)
    assert current is not None
    update_property(current, {}, webhook_secret=OTHER_SECRET)
    body = _raw(40000501)
    before = snapshot_tables()
    for proof in ({"token": SECRET}, {"signature": sign(body)}):
        status, answer = post_webhook(body, **proof)
        _assert_rejected(aws, status, answer, f"old secret {proof}")
    assert snapshot_tables() == before
    status, answer = post_webhook(body, token=OTHER_SECRET)
    assert (status, answer["status"]) == (200, "queued")


def test_a_non_ascii_signature_is_401_not_a_server_error(aws: LocalResources, prop: Any) -> None:
    body = _raw(40000601)
    before = snapshot_tables()
    status, answer = post_webhook(body, signature="sha256=" + "é" * 64)
    _assert_rejected(aws, status, answer, "non-ASCII signature")
    assert snapshot_tables() == before


def test_a_webhook_naming_another_beds24_property_needs_attention_and_is_not_queued(
    aws: LocalResources, prop: Any
) -> None:
    body = _raw(40000701, propertyId=99999)
    status, answer = post_webhook(body, token=SECRET)
    assert (status, answer["status"]) == (200, "needs_attention"), answer
    event = stored_event(answer["event_key"])
    assert event is not None
    assert event["status"] == "needs_attention"
    assert "99999" in event["reason"]
    assert event["property_id"] == prop.id
    assert event["beds24_property_id"] == 99999
    assert queued(aws, "Beds24Events") == 0

    before = snapshot_tables()
    status, again = post_webhook(body, token=SECRET)  # Beds24 retries it: still recorded once
    assert (status, again["status"]) == (200, "duplicate")
    assert snapshot_tables() == before
    assert queued(aws, "Beds24Events") == 0


def test_malformed_or_oversized_bodies_are_rejected_and_store_nothing(aws: LocalResources, prop: Any) -> None:
    no_id = webhook_body()
    del no_id["booking"]["id"]
    cases: dict[str, tuple[bytes, int, str]] = {
        "not JSON": (b"{booking", 400, "INVALID_PAYLOAD"),
        "not UTF-8": (b'{"booking": {"id": 1, "firstName": "\xff"}}', 400, "INVALID_PAYLOAD"),
        "no booking": (b'{"timeStamp": "2026-11-20T10:30:00Z"}', 400, "INVALID_PAYLOAD"),
        "booking without id": (json.dumps(no_id).encode(), 400, "INVALID_PAYLOAD"),
        "negative id": (_raw(-5), 400, "INVALID_PAYLOAD"),
        "over 256 KB": (_raw(40000801, notes="x" * 300_000), 413, "PAYLOAD_TOO_LARGE"),
    }
    before = snapshot_tables()
    for case, (raw, expected, code) in cases.items():
        status, answer = post_webhook(raw, token=SECRET)
        assert (status, answer.get("code")) == (expected, code), (case, answer)
    assert snapshot_tables() == before
    assert queued(aws, "Beds24Events") == 0


def test_a_base64_encoded_body_is_verified_over_its_decoded_bytes(aws: LocalResources, prop: Any) -> None:
    import base64

    from infra.local.invoke import invoke
    from tests.integration.beds24.hub import webhook_event

    body = _raw(40000851, firstName="Zoë")
    event = webhook_event(body, query=None, headers={"X-Beds24-Signature": f"sha256={sign(body)}"})
    event.update(body=base64.b64encode(body).decode(), isBase64Encoded=True)
    response = invoke("beds24_webhook", event)
    assert response["statusCode"] == 200, response["body"]
    assert drain_events(aws) == (1, 0)
    stored = stored_event(json.loads(response["body"])["event_key"])
    assert stored is not None
    assert stored["payload"] == body.decode()


def test_another_environment_s_edit_reaches_a_warm_webhook_within_its_recent_window(
    aws: LocalResources, prop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: a webhook environment remembers the aliases it found for RECENT_TARGET_SECONDS (a property's
    webhooks come in bursts); an edit made elsewhere (the admin function) is refused once that passes."""
    from bookinghub.aws import keys
    from bookinghub.aws.clients import client
    from bookinghub.aws.codec import to_item
    from bookinghub.beds24.dal import properties
    from bookinghub.beds24.logic.properties import token_hash
    from bookinghub.core.settings import get_settings

    assert post_webhook(_raw(40000701), token=SECRET)[0] == 200  # the alias, read and remembered
    table = get_settings().bookings_table
    key = {"PK": keys.beds24_token_alias_pk(token_hash(SECRET)), "SK": keys.ALIAS_SK}
    alias = client("dynamodb").get_item(TableName=table, Key=to_item(key))["Item"]
    client("dynamodb").put_item(TableName=table, Item={**alias, "status": {"S": "inactive"}})  # deactivated elsewhere
    assert post_webhook(_raw(40000702), token=SECRET)[0] == 200  # within the window: as remembered
    monkeypatch.setattr(properties, "RECENT_TARGET_SECONDS", 0)  # the window has passed
    status, answer = post_webhook(_raw(40000703), token=SECRET)
    assert (status, answer["code"]) == (401, "AUTH_FAILED")
    assert queued(aws, "Beds24Events") == 2
