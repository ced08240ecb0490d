"""Regressions from the Schemathesis run over /api/openapi.json: input that once answered 500.

Each is now a 4xx with an error code, answered after the caller's own 401/403, and writes nothing:
- a body sent as multipart/form-data (Powertools raised ValueError on the missing boundary) or as any
  other media type than JSON; a multipart body with a boundary was even parsed and accepted;
- a body Python's json module cannot decode without raising something else than a JSON error: an
  integer of more than 4300 digits (ValueError), arrays nested deeper than the recursion limit
  (RecursionError); and bytes that are not UTF-8, with a garbage If-Match header beside them;
- an outbound URL urllib cannot split (unbalanced IPv6 brackets) or with a port that is no port;
- a website id in the path longer than DynamoDB accepts in a key (a ValidationException on AWS).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.admin.conftest import call_admin, claims
from tests.integration.conftest import snapshot_tables

ADMIN = claims("admin")
PUBLIC_IP_URL = "https://93.184.216.34/v1/webhooks"


def _body_routes(tenants: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every admin route that takes a body, with a body it would accept as JSON."""
    rooms = {"base_url": PUBLIC_IP_URL, "webhook_path": "zezamiiPass/reservation", "property_id": "p-1"}
    return [
        ("PUT", f"/api/bookings/{tenants['test_a']}", {"version": 1, "admin_notes": "n"}),
        ("POST", "/api/admin/test-webhook", {"website_id": "test-website", "booking_id": tenants["test_a"]}),
        ("POST", "/api/websites", {"id": "form-site", "name": "Form", "domain": "form.example.com"}),
        ("PATCH", "/api/websites/test-website", {"name": "Renamed"}),
        ("POST", "/api/integrations", {"integration_type": "rooms_event_hub", "name": "R", "config": rooms}),
        ("PATCH", "/api/integrations/no-such-integration", {"name": "Renamed"}),
    ]


def _assert_rejected(
    tenants: dict[str, Any],
    body_for: Any,
    headers: dict[str, str],
    expected: tuple[int, str],
    caller: dict[str, str] | None = ADMIN,
) -> list[dict[str, Any]]:
    answers = []
    before = snapshot_tables()
    for method, path, valid in _body_routes(tenants):
        status, answer, _ = call_admin(method, path, caller=caller, body=body_for(valid), headers=headers)
        assert (status, answer.get("code")) == expected, (method, path, answer)
        assert answer["success"] is False
        answers.append(answer)
    assert snapshot_tables() == before
    return answers


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",  # no boundary: was a ValueError out of Powertools, a 500
        "multipart/form-data; boundary=xyz",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/xml",
    ],
)
def test_bodies_in_another_media_type_are_415(tenants: dict[str, Any], content_type: str) -> None:
    _assert_rejected(
        tenants, lambda valid: json.dumps(valid), {"Content-Type": content_type}, (415, "UNSUPPORTED_MEDIA_TYPE")
    )


def test_a_real_multipart_form_is_not_accepted_as_a_website(tenants: dict[str, Any]) -> None:
    form = (
        b'--xyz\r\nContent-Disposition: form-data; name="id"\r\n\r\nform-site\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nForm\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="domain"\r\n\r\nform.example.com\r\n--xyz--\r\n'
    )
    before = snapshot_tables()
    status, answer, _ = call_admin(
        "POST", "/api/websites", caller=ADMIN, body=form, headers={"Content-Type": "multipart/form-data; boundary=xyz"}
    )
    assert (status, answer["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert snapshot_tables() == before


def test_the_caller_is_still_answered_first(tenants: dict[str, Any]) -> None:
    headers = {"Content-Type": "multipart/form-data"}
    _assert_rejected(tenants, lambda valid: "x", headers, (401, "AUTH_FAILED"), caller=None)
    _assert_rejected(tenants, lambda valid: b"\xff", {}, (403, "FORBIDDEN"), caller=claims("viewers"))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xa5\x0b\xff$2\xd3\x80", "not UTF-8"),
        (b'{"name": "\xed\xa0\x80"}', "not UTF-8"),  # an encoded lone surrogate
        (b'{"version": ' + b"9" * 5000 + b"}", "invalid JSON"),  # json.loads: ValueError (int digits)
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),  # json.loads: RecursionError
        (b'{"version": NaN}', "invalid JSON"),
        (b'{"version": 1} trailing', "invalid JSON"),
        (b"\xef\xbf\xbd", "invalid JSON"),
    ],
)
def test_bodies_that_are_not_json_are_400_on_the_body(tenants: dict[str, Any], raw: bytes, reason: str) -> None:
    for answer in _assert_rejected(tenants, lambda valid: raw, {}, (400, "INVALID_PAYLOAD")):
        (detail,) = answer["details"]
        assert detail["field"] == "body"
        assert detail["message"].startswith(reason), detail


def test_a_garbage_if_match_beside_a_non_utf8_body_is_400(tenants: dict[str, Any]) -> None:
    before = snapshot_tables()
    garbage = 'ula8{[!i-udU&2g\tio0_(kyGPR~gU%(-+|^l#t\\@)hVFcut"/K7iyWzW;Moq/I.}Mt'
    for booking_id in (tenants["test_a"], "\u00e4m"):
        status, answer, _ = call_admin(
            "PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body=b"\xa5\x0b\xff$2", headers={"If-Match": garbage}
        )
        assert (status, answer["code"]) == (400, "INVALID_PAYLOAD"), answer
    status, answer, _ = call_admin(
        "PUT", f"/api/bookings/{tenants['test_a']}", caller=ADMIN, body={"admin_notes": "x"}, headers={"If-Match": "x"}
    )
    assert (status, answer["code"]) == (400, "INVALID_PAYLOAD"), answer
    assert answer["details"] == [{"field": "If-Match", "message": "not a version"}]
    assert snapshot_tables() == before


@pytest.mark.parametrize("content_type", [None, "application/json; charset=utf-8", "Application/JSON"])
def test_json_is_json_with_parameters_in_capitals_or_unnamed(tenants: dict[str, Any], content_type: str | None) -> None:
    # None: no Content-Type header at all, which Powertools (and so this API) has always read as JSON
    status, answer, _ = call_admin(
        "PATCH",
        "/api/websites/test-website",
        caller=ADMIN,
        body={"name": "Still JSON"},
        headers={"Content-Type": content_type},
    )
    assert status == 200, answer
    assert answer["website"]["name"] == "Still JSON"


@pytest.mark.parametrize(
    "url",
    [
        "https://[::1/hook",  # urlsplit: "Invalid IPv6 URL"
        "https://93.184.216.34:99999/hook",  # port out of range
        "https://93.184.216.34:https/hook",  # port not a number
    ],
)
def test_urls_that_do_not_parse_are_400(tenants: dict[str, Any], url: str) -> None:
    before = snapshot_tables()
    body = {"id": "bad-url", "name": "Bad", "domain": "bad.example.com", "webhook_url": url}
    for method, path, request, field in (
        ("POST", "/api/websites", body, "webhook_url"),
        ("PATCH", "/api/websites/test-website", {"webhook_url": url}, "webhook_url"),
        (
            "POST",
            "/api/integrations",
            {
                "integration_type": "rooms_event_hub",
                "name": "R",
                "config": {"base_url": url, "webhook_path": "p", "property_id": "p"},
            },
            "config.base_url",
        ),
    ):
        status, answer, _ = call_admin(method, path, caller=ADMIN, body=request)
        assert (status, answer["code"]) == (400, "INVALID_PAYLOAD"), answer
        assert answer["details"] == [{"field": field, "message": "is not a valid URL"}]
    assert snapshot_tables() == before


def test_a_website_id_too_long_for_a_key_is_404_without_asking_dynamodb(tenants: dict[str, Any]) -> None:
    from bookinghub.aws.clients import client

    asked: list[str] = []
    events = client("dynamodb").meta.events
    events.register("before-call.dynamodb.GetItem", lambda **kwargs: asked.append("GetItem"), unique_id="fuzz-probe")
    try:
        long_id = "a" * 2100
        for method, path, body in (
            ("PATCH", f"/api/websites/{long_id}", {"name": "x"}),
            ("POST", f"/api/websites/{long_id}/rotate-key", None),
        ):
            status, answer, _ = call_admin(method, path, caller=ADMIN, body=body)
            assert (status, answer["code"]) == (404, "WEBSITE_NOT_FOUND"), answer
        status, answer, _ = call_admin("GET", "/api/bookings", caller=ADMIN, query={"website_id": long_id[:64]})
        assert (status, answer["code"]) == (404, "WEBSITE_NOT_FOUND")
    finally:
        events.unregister("before-call.dynamodb.GetItem", unique_id="fuzz-probe")
    assert asked == ["GetItem"]  # only the 64-character id of the list was looked up


def test_a_body_flagged_base64_that_is_not_is_400(tenants: dict[str, Any]) -> None:
    from infra import topology
    from infra.local.invoke import LocalLambdaContext, load_handler
    from tests.conftest import load_event

    event = load_event("admin_api/edit_booking")
    event.update(
        path=f"/api/bookings/{tenants['test_a']}",
        pathParameters={"booking_id": tenants["test_a"]},
        body="not base64!",
        isBase64Encoded=True,
    )
    event["requestContext"]["authorizer"] = {"claims": ADMIN}
    fn = topology.ADMIN_API
    before = snapshot_tables()
    response = load_handler(fn)(event, LocalLambdaContext(function_name=fn.name, timeout_seconds=fn.timeout_seconds))
    answer = json.loads(response["body"])
    assert (response["statusCode"], answer["code"]) == (400, "INVALID_PAYLOAD"), answer
    assert answer["details"] == [{"field": "body", "message": "not valid base64"}]
    assert snapshot_tables() == before
