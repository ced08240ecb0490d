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


def _twin_apps() -> list[Any]:
    """The same routes on the hub's resolver and on Powertools' own (its answers are the reference)."""
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
    from aws_lambda_powertools.event_handler.api_gateway import Request

    from bookinghub.web.resolver import HubRestResolver, add_error_handlers, own_json_response

    apps = []
    for app in (add_error_handlers(HubRestResolver()), add_error_handlers(APIGatewayRestResolver())):

        @app.post("/ok")
        def ok() -> Any:
            return own_json_response(200, {"success": True})

        @app.get("/items/<item_id>")
        def item(item_id: str) -> Any:
            return {"item": item_id}, 201

        @app.post("/rejected")
        def rejected() -> Any:
            raise errors.AuthFailed()

        @app.post("/broken")
        def broken() -> Any:
            raise RuntimeError("boom")

        @app.get("/zipped", compress=True)
        def zipped() -> Any:
            return Response(200, content_type="text/plain", body="z" * 100)

        @app.get("/zipped-off", compress=True)
        def zipped_off() -> Any:
            return Response(200, content_type="text/plain", body="z" * 100, compress=False)

        @app.get("/request")
        def with_request(request: Request) -> Any:
            return {"path": request.route}

        def tagging(app: Any, next_middleware: Any) -> Any:
            response = next_middleware(app)
            response.headers["X-Tag"] = "1"
            return response

        @app.get("/tagged", middlewares=[tagging])
        def tagged() -> Any:
            return {"tagged": True}

        apps.append(app)
    return apps


@pytest.mark.parametrize(
    ("method", "path", "gzip"),
    [
        ("POST", "/ok", False),
        ("GET", "/items/42", False),
        ("POST", "/rejected", False),
        ("POST", "/broken", False),
        ("GET", "/nowhere", False),
        ("GET", "/zipped", True),
        ("GET", "/zipped", False),
        ("GET", "/zipped-off", True),
        ("GET", "/request", False),
        ("GET", "/tagged", False),
    ],
)
def test_the_hubs_resolver_answers_as_powertools_own(method: str, path: str, gzip: bool) -> None:
    """HubRestResolver calls a plain route directly and skips the compression check that cannot compress:
    its answers (status, body, headers, base64 flag) are Powertools' own, for every kind of route."""
    answers = []
    for app in _twin_apps():
        event = load_event("sync_bookings/booking_created")
        event.update(path=path, resource=path, httpMethod=method)
        if gzip:
            event["headers"]["Accept-Encoding"] = "gzip, deflate"
            event["multiValueHeaders"]["Accept-Encoding"] = ["gzip, deflate"]
        # The second request of a static route's method and path finds the route remembered
        answers.append([app.resolve(event, LocalLambdaContext(function_name="test", timeout_seconds=3)) for _ in "12"])
    hub, powertools = answers
    assert hub[0] == hub[1] == powertools[0] == powertools[1]
    header_types = {type(answer.get("multiValueHeaders")) for answer in [*hub, *powertools]}
    assert len(header_types) == 1  # (Powertools' is a defaultdict)
    assert hub[0]["isBase64Encoded"] is (path == "/zipped" and gzip)  # compression still applies where asked


def test_a_remembered_static_route_skips_powertools_scan_and_a_route_added_later_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    scans: list[str] = []
    original = ApiGatewayResolver._resolve

    def counted(self: Any) -> Any:
        scans.append(self.current_event.path)
        return original(self)

    monkeypatch.setattr(ApiGatewayResolver, "_resolve", counted)
    hub, _ = _twin_apps()

    def answer(path: str, method: str = "POST") -> tuple[int, Any]:
        event = load_event("sync_bookings/booking_created")
        event.update(path=path, resource=path, httpMethod=method)
        response = hub.resolve(event, LocalLambdaContext(function_name="test", timeout_seconds=3))
        return response["statusCode"], json.loads(response["body"])

    assert [answer("/ok") for _ in range(3)] == [(200, {"success": True})] * 3
    assert answer("/items/7", "GET") == answer("/items/7", "GET") == (201, {"item": "7"})  # dynamic: scanned
    assert answer("/rejected")[0] == answer("/rejected")[0] == 401  # its exception handler, remembered too
    assert answer("/nowhere")[0] == answer("/nowhere")[0] == 404  # nothing to remember
    assert scans == ["/ok", "/items/7", "/items/7", "/rejected", "/nowhere", "/nowhere"]

    # A route added since (here one that shadows a dynamic path): the remembered pairs are forgotten
    @hub.get("/items/new")
    def new_item() -> Any:
        return {"new": True}

    assert answer("/items/new", "GET") == (200, {"new": True})
    assert answer("/ok") == (200, {"success": True})
    assert scans[-2:] == ["/items/new", "/ok"]


def test_powertools_debug_log_keeps_powertools_own_path() -> None:
    import logging

    from aws_lambda_powertools.event_handler import api_gateway

    hub, powertools = _twin_apps()
    event = load_event("sync_bookings/booking_created")
    event.update(path="/ok", resource="/ok", httpMethod="POST")
    context = LocalLambdaContext(function_name="test", timeout_seconds=3)
    hub.resolve(event, context)  # remembered
    lines: list[str] = []

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler, level = Lines(), api_gateway.logger.level
    api_gateway.logger.addHandler(handler)
    api_gateway.logger.setLevel(logging.DEBUG)  # (setLevel: the loggers' cached levels are cleared)
    try:
        assert hub.resolve(event, context) == powertools.resolve(event, context)
    finally:
        api_gateway.logger.setLevel(level)
        api_gateway.logger.removeHandler(handler)
    assert "Found a registered route. Calling function" in lines
    assert len([line for line in lines if line.startswith("Found a registered route")]) == 2  # one each


def test_the_hubs_resolver_calls_a_plain_route_without_powertools_middleware_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aws_lambda_powertools.event_handler import api_gateway

    frames: list[str] = []
    original = api_gateway.MiddlewareFrame.__call__

    def counted(self: Any, app: Any) -> Any:
        frames.append(self.__name__)
        return original(self, app)

    monkeypatch.setattr(api_gateway.MiddlewareFrame, "__call__", counted)
    hub, _ = _twin_apps()
    for path in ("/ok", "/tagged"):
        event = load_event("sync_bookings/booking_created")
        event.update(path=path, resource=path, httpMethod="POST" if path == "/ok" else "GET")
        assert hub.resolve(event, LocalLambdaContext(function_name="test", timeout_seconds=3))["statusCode"] == 200
    assert frames == ["tagging", "_registered_api_adapter"]  # the routed one only


def test_request_headers_are_powertools_headers_as_a_plain_dict() -> None:
    from bookinghub.web.resolver import request_headers

    event = load_event("sync_bookings/booking_created")
    event["headers"] = {"X-API-Key": "k1", "content-TYPE": "application/json; charset=utf-8", "x-api-KEY": "k2"}
    proxy = APIGatewayProxyEvent(event)
    assert request_headers(proxy) == dict(proxy.headers)
    assert request_headers(proxy)["x-api-key"] == proxy.headers.get("X-Api-Key") == "k2"
    event["headers"] = None
    assert request_headers(APIGatewayProxyEvent(event)) == dict(APIGatewayProxyEvent(event).headers) == {}


def test_a_remembered_route_keeps_the_event_on_its_resolver_not_on_powertools_base_class() -> None:
    """The fast path writes no class attribute (each write invalidates the attribute caches of BaseRouter and
    every resolver class); the event and context each route reads are still the request's own, on either path,
    whatever order the paths come in, and through an included Router too."""
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router

    hub, _ = _twin_apps()
    router = Router()
    seen: list[tuple[str, str, str]] = []

    @router.post("/routed")
    def routed() -> Any:
        seen.append(("routed", router.current_event.path, router.lambda_context.aws_request_id))
        return {"routed": True}

    hub.include_router(router)

    @hub.post("/watched")
    def watched() -> Any:
        seen.append(("watched", hub.current_event.path, hub.lambda_context.aws_request_id))
        return {"watched": True}

    @hub.get("/watched/<n>")
    def watched_n(n: str) -> Any:
        seen.append(("dynamic", hub.current_event.path, hub.lambda_context.aws_request_id))
        return {"n": n}

    def call(path: str, method: str = "POST") -> str:
        event = load_event("sync_bookings/booking_created")
        event.update(path=path, resource=path, httpMethod=method)
        context = LocalLambdaContext(function_name="test", timeout_seconds=3)
        assert hub.resolve(event, context)["statusCode"] == 200
        return str(context.aws_request_id)

    call("/watched")  # Powertools' path: it sets BaseRouter's, then the route is remembered
    before = dict(BaseRouter.__dict__)
    expected = [("watched", "/watched", call("/watched")), ("watched", "/watched", call("/watched"))]
    # nothing written on the class by the remembered route (compared by identity: events compare equal)
    assert BaseRouter.__dict__.keys() == before.keys()
    assert all(BaseRouter.__dict__[name] is value for name, value in before.items())
    expected.append(("dynamic", "/watched/3", call("/watched/3", "GET")))  # Powertools' path again
    expected.append(("watched", "/watched", call("/watched")))
    call("/routed")
    expected.append(("routed", "/routed", call("/routed")))
    expected.append(("dynamic", "/watched/4", call("/watched/4", "GET")))
    assert hub.current_event.path == "/watched/4"  # Powertools' path's event is not hidden by an older one
    assert seen[1:4] + seen[4:5] + seen[6:] == expected
