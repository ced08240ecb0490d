"""The local gateway hands handlers the API Gateway REST proxy event Lambda would get (no sockets)."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest
from werkzeug.test import Client

from infra import topology
from infra.local.gateway import MAX_BODY_BYTES, Gateway
from infra.local.gateway_event import RAW_HEADERS_KEY
from infra.local.lambdas import Invocation
from infra.local.routes import MethodNotAllowed, RouteNotFound, RouteTable
from infra.topology import gateway

BOOKING = topology.Function(
    name="booking_api",
    description="test",
    routes=(
        topology.Route("GET", "/api/bookings/{booking_id}"),
        topology.Route("PUT", "/api/bookings/{booking_id}", json_body=True),
        topology.Route("GET", "/api/bookings/export"),
        topology.Route("POST", "/api/sync", json_body=True),
        topology.Route("GET", "/files/{proxy+}"),
    ),
)
OK = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok":true}'}


class Recorder:
    """Stands in for the function: records each event and answers a fixed proxy result."""

    def __init__(self, result: Any = OK, error: BaseException | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.result, self.error = result, error

    def __call__(self, name: str, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        return Invocation(function=name, result=self.result, error=self.error, seconds=0.0)

    @property
    def event(self) -> dict[str, Any]:
        assert len(self.events) == 1, self.events
        return self.events[0]


def client_for(recorder: Recorder, ready: threading.Event | None = None) -> Client:
    routes = [(route, BOOKING) for route in BOOKING.routes]
    return Client(Gateway(invoke=recorder, routes=routes, ready=ready))


def test_text_body_reaches_the_handler_byte_for_byte() -> None:
    recorder = Recorder()
    body = '{ "name" : "Jöhn",\n  "n": 1.50 }  '
    client_for(recorder).post("/api/sync", data=body.encode(), content_type="application/json")
    assert recorder.event["body"] == body
    assert recorder.event["isBase64Encoded"] is False


def test_malformed_json_on_a_json_route_is_left_to_the_handler() -> None:
    recorder = Recorder()
    response = client_for(recorder).post("/api/sync", data=b"{not json", content_type="application/json")
    assert response.status_code == 200
    assert recorder.event["body"] == "{not json"


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("application/octet-stream", bytes(range(256))),
        ("image/png", b"\x89PNG\r\n\x1a\n\x00"),
        ("application/json", b'{"a": "\xff\xfe"}'),  # not UTF-8: cannot travel as a string
    ],
)
def test_binary_body_travels_base64(content_type: str, payload: bytes) -> None:
    recorder = Recorder()
    client_for(recorder).post("/api/sync", data=payload, content_type=content_type)
    assert recorder.event["isBase64Encoded"] is True
    assert base64.b64decode(recorder.event["body"]) == payload


def test_no_body_is_null() -> None:
    recorder = Recorder()
    client_for(recorder).get("/api/bookings/b-1")
    assert recorder.event["body"] is None
    assert recorder.event["isBase64Encoded"] is False


def test_path_parameters_and_resource_template() -> None:
    recorder = Recorder()
    client_for(recorder).get("/api/bookings/b%2042")
    event = recorder.event
    assert event["resource"] == "/api/bookings/{booking_id}"
    assert event["path"] == "/api/bookings/b 42"
    assert event["pathParameters"] == {"booking_id": "b 42"}
    assert event["requestContext"]["resourcePath"] == "/api/bookings/{booking_id}"


def test_a_literal_resource_wins_over_a_parameter() -> None:
    recorder = Recorder()
    client_for(recorder).get("/api/bookings/export")
    assert recorder.event["resource"] == "/api/bookings/export"
    assert recorder.event["pathParameters"] is None


def test_greedy_path_parameter_takes_the_rest_of_the_path() -> None:
    recorder = Recorder()
    client_for(recorder).get("/files/a/b/c.txt")
    assert recorder.event["pathParameters"] == {"proxy": "a/b/c.txt"}


def test_single_and_multi_value_query_strings() -> None:
    recorder = Recorder()
    client_for(recorder).get("/api/bookings/b1?status=confirmed&tag=a&tag=b%20c&empty=")
    event = recorder.event
    assert event["queryStringParameters"] == {"status": "confirmed", "tag": "b c", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"status": ["confirmed"], "tag": ["a", "b c"], "empty": [""]}


def test_no_query_string_is_null() -> None:
    recorder = Recorder()
    client_for(recorder).get("/api/bookings/b1")
    assert recorder.event["queryStringParameters"] is None
    assert recorder.event["multiValueQueryStringParameters"] is None


def test_header_names_keep_the_clients_spelling_and_repeat_in_multi_value_headers() -> None:
    recorder = Recorder()
    raw = [("Host", "localhost"), ("X-API-Key", "k1"), ("Accept", "a/b"), ("Accept", "c/d")]
    client_for(recorder).get("/api/bookings/b1", environ_overrides={RAW_HEADERS_KEY: raw})
    event = recorder.event
    assert event["headers"]["X-API-Key"] == "k1"
    assert "X-Api-Key" not in event["headers"]
    assert event["headers"]["Accept"] == "c/d"  # the last value, as API Gateway does
    assert event["multiValueHeaders"]["Accept"] == ["a/b", "c/d"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"


def test_headers_without_raw_lines_still_arrive() -> None:
    recorder = Recorder()
    client_for(recorder).get("/api/bookings/b1", headers={"X-API-Key": "k1"})
    lowered = {name.lower(): value for name, value in recorder.event["headers"].items()}
    assert lowered["x-api-key"] == "k1"


def test_request_context() -> None:
    recorder = Recorder()
    response = client_for(recorder).get("/api/bookings/b1", headers={"User-Agent": "site/1.0"})
    context = recorder.event["requestContext"]
    assert context["httpMethod"] == "GET"
    assert context["stage"] == "local"
    assert context["path"] == "/local/api/bookings/b1"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "site/1.0"
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert isinstance(context["requestTimeEpoch"], int)
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == "local"
    assert context["domainName"] == "localhost"
    assert context["protocol"].startswith("HTTP/")


def test_unknown_path_is_404_in_the_api_error_shape() -> None:
    recorder = Recorder()
    response = client_for(recorder).get("/api/nothing")
    assert response.status_code == 404
    assert response.get_json() == {"success": False, "error": "No such route", "code": "NOT_FOUND"}
    assert recorder.events == []


@pytest.mark.parametrize("method", ["DELETE", "POST", "PATCH", "HEAD", "OPTIONS"])
def test_wrong_method_is_the_unknown_route_answer_as_on_api_gateway(method: str) -> None:
    """A REST API answers a method a resource lacks like a resource it lacks (no 405 is possible there)."""
    recorder = Recorder()
    client = client_for(recorder)
    wrong = client.open("/api/bookings/b1", method=method)
    unknown = client.open("/api/nothing", method=method)
    assert wrong.status_code == unknown.status_code == 404
    if method != "HEAD":  # no body to a HEAD
        assert (
            wrong.get_json() == unknown.get_json() == {"success": False, "error": "No such route", "code": "NOT_FOUND"}
        )
    assert "Allow" not in wrong.headers
    assert recorder.events == []


@pytest.mark.parametrize(
    ("send", "declared"),
    [
        (lambda c: c.get("/api/nothing"), gateway.UNKNOWN_ROUTE),
        (lambda c: c.delete("/api/sync"), gateway.UNKNOWN_ROUTE),
        (lambda c: c.post("/api/sync", data=b"x" * (MAX_BODY_BYTES + 1)), gateway.TOO_LARGE),
    ],
)
def test_local_rejections_render_the_declared_gateway_answer(send: Any, declared: gateway.GatewayError) -> None:
    """The body API Gateway renders from the declared template (its message filled in) is the local body."""
    response = send(client_for(Recorder()))
    assert response.status_code == declared.status
    body = response.get_json()
    rendered = json.loads(declared.template().replace(gateway.GATEWAY_MESSAGE, json.dumps(body["error"])))
    assert body == rendered
    assert set(body) == {"success", "error", "code"}


def test_body_over_api_gateway_limit_is_413() -> None:
    recorder = Recorder()
    response = client_for(recorder).post("/api/sync", data=b"x" * (MAX_BODY_BYTES + 1), content_type="text/plain")
    assert response.status_code == 413
    assert response.get_json()["code"] == "PAYLOAD_TOO_LARGE"
    assert recorder.events == []


def test_not_ready_answers_503() -> None:
    ready = threading.Event()
    recorder = Recorder()
    client = client_for(recorder, ready)
    assert client.get("/api/bookings/b1").status_code == 503
    ready.set()
    assert client.get("/api/bookings/b1").status_code == 200
    assert len(recorder.events) == 1


def test_proxy_result_becomes_the_response() -> None:
    result = {
        "statusCode": 201,
        "headers": {"X-One": "1", "Set-Cookie": "ignored"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": base64.b64encode(b"\x00\x01binary").decode(),
        "isBase64Encoded": True,
    }
    response = client_for(Recorder(result)).get("/api/bookings/b1")
    assert response.status_code == 201
    assert response.data == b"\x00\x01binary"
    assert response.headers["X-One"] == "1"
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.headers["Content-Type"] == "application/json"  # API Gateway's default


@pytest.mark.parametrize("result", [None, "text", {"body": "x"}, {"statusCode": 99}, {"statusCode": 200, "body": 5}])
def test_malformed_proxy_result_is_502(result: Any) -> None:
    response = client_for(Recorder(result)).get("/api/bookings/b1")
    assert response.status_code == 502
    assert response.get_json()["code"] == "SERVER_ERROR"


def test_handler_failure_is_502_without_internals() -> None:
    response = client_for(Recorder(error=RuntimeError("secret detail"))).get("/api/bookings/b1")
    assert response.status_code == 502
    assert "secret detail" not in response.get_data(as_text=True)
    assert json.loads(response.data)["code"] == "SERVER_ERROR"


def test_route_table_uses_only_the_given_routes() -> None:
    table = RouteTable(topology.all_routes())
    assert table.match("POST", "/api/bookings/sync").function.name == "sync_bookings"
    assert table.match("GET", "/api/health/").function.name == "health"  # a trailing slash is the same resource
    with pytest.raises(RouteNotFound):
        table.match("GET", "/api/bookings/sync/extra")
    with pytest.raises(MethodNotAllowed) as not_allowed:
        table.match("GET", "/api/bookings/sync")
    assert not_allowed.value.allowed == ["POST"]


def test_every_topology_path_answers_a_wrong_method_with_the_unknown_route() -> None:
    recorder = Recorder()
    client = Client(Gateway(invoke=recorder))
    declared = {(route.method, route.path) for route, _ in topology.all_routes()}
    for _, path in declared:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            if (method, path) not in declared:
                answer = client.open(path.replace("{", "").replace("}", ""), method=method)
                assert (answer.status_code, answer.get_json()["code"]) == (404, "NOT_FOUND"), f"{method} {path}"
    assert recorder.events == []
