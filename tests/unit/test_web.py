"""web.py: every domain error maps to its status and the seed's error shape; nothing else leaks."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from bookinghub.core import errors
from bookinghub.core.observability import metrics
from bookinghub.web.resolver import make_resolver, raw_body
from infra.local.invoke import LocalLambdaContext
from tests.conftest import load_event

DOMAIN_ERRORS: list[tuple[type[errors.DomainError], int, str]] = [
    (errors.AuthFailed, 401, "AUTH_FAILED"),
    (errors.InvalidPayload, 400, "INVALID_PAYLOAD"),
    (errors.PayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"),
    (errors.DuplicateBooking, 409, "DUPLICATE_BOOKING"),
    (errors.WebsiteNotFound, 404, "WEBSITE_NOT_FOUND"),
    (errors.BookingNotFound, 404, "BOOKING_NOT_FOUND"),
    (errors.ServerError, 500, "SERVER_ERROR"),
]


@pytest.fixture(autouse=True)
def _no_metric_leftovers() -> Iterator[None]:
    yield
    metrics.clear_metrics()  # the resolver counts rejections; nothing flushes them in these tests


def _resolve(app: Any, path: str, method: str = "POST") -> tuple[int, dict[str, str], dict[str, Any]]:
    event = load_event("sync_bookings/booking_created")
    event.update(path=path, resource=path, httpMethod=method)
    response = app.resolve(event, LocalLambdaContext(function_name="test", timeout_seconds=3))
    # Powertools answers with multiValueHeaders when the request carried them (as API Gateway's do)
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()} | (response.get("headers") or {})
    return response["statusCode"], headers, json.loads(response["body"])


def _raising(error: BaseException) -> Any:
    app = make_resolver()

    @app.post("/boom")
    def boom() -> Any:
        raise error

    return app


@pytest.mark.parametrize(("error_type", "status", "code"), DOMAIN_ERRORS, ids=[c for _, _, c in DOMAIN_ERRORS])
def test_domain_error_maps_to_status_and_seed_shape(
    error_type: type[errors.DomainError], status: int, code: str
) -> None:
    got_status, headers, body = _resolve(_raising(error_type()), "/boom")

    assert got_status == status
    assert body == {"success": False, "error": error_type.message, "code": code}
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-store"


def test_domain_error_keeps_its_message_and_field_details() -> None:
    details = [{"field": "customer.email", "message": "must be an email address"}]
    _, _, body = _resolve(_raising(errors.InvalidPayload("Request body validation failed", details=details)), "/boom")

    assert body == {
        "success": False,
        "error": "Request body validation failed",
        "code": "INVALID_PAYLOAD",
        "details": details,
    }


def test_unexpected_exception_is_a_bare_server_error() -> None:
    status, _, body = _resolve(_raising(RuntimeError("db password is hunter2 at /srv/app.py")), "/boom")

    assert (status, body) == (500, {"success": False, "error": "Internal server error", "code": "SERVER_ERROR"})


def test_unknown_route_is_not_found() -> None:
    status, _, body = _resolve(make_resolver(), "/nowhere", "GET")

    assert (status, body["code"], body["success"]) == (404, "NOT_FOUND", False)


def _proxy_event(body: str | None, *, b64: bool = False) -> APIGatewayProxyEvent:
    event = load_event("sync_bookings/booking_created")
    event.update(body=body, isBase64Encoded=b64)
    return APIGatewayProxyEvent(event)


def test_raw_body_returns_the_bytes_sent() -> None:
    assert raw_body(_proxy_event('{"a": "café"}')) == '{"a": "café"}'.encode()
    assert raw_body(_proxy_event(base64.b64encode(b'{"a":"\xff"}').decode(), b64=True)) == b'{"a":"\xff"}'
    assert raw_body(_proxy_event(None)) == b""


def test_raw_body_rejects_broken_base64() -> None:
    with pytest.raises(errors.InvalidPayload) as raised:
        raw_body(_proxy_event("not base64!", b64=True))
    assert raised.value.details == [{"field": "body", "message": "invalid base64"}]


def test_the_hubs_own_bodies_are_written_as_the_standard_library_writes_them() -> None:
    """own_json_response (pydantic-core's encoder) answers the sync's bodies byte for byte as json_response."""
    from bookinghub.bookings.models.sync import BookingSyncRequest
    from bookinghub.web.resolver import json_response, own_json_response

    columns = sorted([*BookingSyncRequest.model_fields, "customer_email", "source_created_at", "order_key#status"])
    bodies: list[dict[str, Any]] = [
        {
            "success": True,
            "booking_id": "0b5c8a8e-0000-4000-8000-000000000001",
            "message": "Booking already synced (duplicate delivery ignored)",
            "outcome": outcome,
            "applied_fields": columns,
            "stale_fields": columns[:3],
            "held_fields": [],
            "conflict_fields": ["status"],
            "count": 12,
        }
        for outcome in ("created", "updated", "unchanged", "ignored_stale")
    ]
    for body in bodies:
        assert own_json_response(200, body).body == json_response(200, body).body
    # Why a caller's text stays json_response's: the two escape it differently
    assert own_json_response(200, {"e": "é\x7f"}).body != json_response(200, {"e": "é\x7f"}).body
    assert own_json_response(201, bodies[0]).headers == json_response(201, bodies[0]).headers
