"""The gateway over a real socket: header names arrive as the client spelled them, as behind API Gateway."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from infra import topology
from infra.local.gateway import Gateway
from infra.local.lambdas import Invocation
from infra.local.servers import ServerThread

pytestmark = pytest.mark.e2e

ECHO = topology.Function(name="echo", description="test", routes=(topology.Route("POST", "/echo/{id}"),))


def test_header_case_body_and_query_over_http() -> None:
    events: list[dict[str, Any]] = []

    def invoke(name: str, event: dict[str, Any]) -> Invocation:
        events.append(event)
        result = {"statusCode": 200, "headers": {"X-Echo": "yes"}, "body": json.dumps({"ok": True})}
        return Invocation(function=name, result=result, error=None, seconds=0.0)

    server = ServerThread("gateway-test", "127.0.0.1", 0, Gateway(invoke=invoke, routes=[(ECHO.routes[0], ECHO)]))
    server.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        body = b'{"a" :  1}'
        connection.putrequest("POST", "/echo/b-1?x=1&x=2")
        for name, value in [("X-API-Key", "k"), ("x-lower", "v"), ("Accept", "a"), ("Accept", "b")]:
            connection.putheader(name, value)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("X-Echo") == "yes"
        assert json.loads(response.read()) == {"ok": True}
    finally:
        server.stop()
    event = events[0]
    assert event["headers"]["X-API-Key"] == "k"
    assert event["headers"]["x-lower"] == "v"
    assert event["multiValueHeaders"]["Accept"] == ["a", "b"]
    assert event["body"] == '{"a" :  1}'
    assert event["pathParameters"] == {"id": "b-1"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
