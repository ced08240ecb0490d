"""The local gateway does what API Gateway's Cognito authorizer does for `auth="cognito"` routes:
no valid ID token -> 401 AUTH_FAILED from the gateway itself (the function never runs); a valid one ->
its claims in requestContext.authorizer.claims, read by the function."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from infra import topology
from infra.local import auth
from infra.local.gateway import Gateway
from infra.local.invoke import LocalLambdaContext, load_handler
from infra.local.lambdas import Invocation


@pytest.fixture
def gateway(tenants: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Client, list[Any]]:
    monkeypatch.setenv(auth.KEY_ENV, str(tmp_path / "jwt.pem"))
    seen: list[dict[str, Any]] = []

    def invoke(name: str, event: dict[str, Any]) -> Invocation:
        seen.append(event)
        fn = topology.ADMIN_API
        result = load_handler(fn)(event, LocalLambdaContext(function_name=fn.name, timeout_seconds=fn.timeout_seconds))
        return Invocation(function=name, result=result, error=None, seconds=0.0)

    routes = [(route, topology.ADMIN_API) for route in topology.ADMIN_API.routes]
    return Client(Gateway(invoke=invoke, routes=routes)), seen


def _json(response: TestResponse) -> dict[str, Any]:
    body = response.json
    assert isinstance(body, dict), body
    return body


def _bearer(**options: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth.issue_token(**options)}"}


def _forged(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["cognito:groups"] = ["superadmin"]
    return ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), signature])


def test_requests_without_a_valid_token_never_reach_the_function(gateway: tuple[Client, list[Any]]) -> None:
    client, seen = gateway
    staff = auth.issue_token(role="staff", websites=["test-website"])
    expired = auth.issue_token(role="admin", ttl_seconds=60, now=time.time() - 3600)
    for headers in (
        {},
        {"Authorization": "Bearer "},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": _forged(staff)},
    ):
        response = client.get("/api/bookings", headers=headers)
        assert response.status_code == 401
        assert response.json == {"success": False, "error": "Unauthorized", "code": "AUTH_FAILED"}
    assert seen == []


def test_a_staff_token_sees_only_its_websites(gateway: tuple[Client, list[Any]], tenants: dict[str, Any]) -> None:
    client, seen = gateway
    response = client.get("/api/bookings", headers=_bearer(role="staff", websites=["test-website"], email="desk@x.io"))
    assert response.status_code == 200, response.json
    assert {b["website_id"] for b in _json(response)["bookings"]} == {"test-website"}
    claims = seen[-1]["requestContext"]["authorizer"]["claims"]
    assert (claims["cognito:groups"], claims["custom:websites"], claims["email"]) == (
        "staff",
        "test-website",
        "desk@x.io",
    )

    response = client.get(
        "/api/bookings",
        headers=_bearer(role="staff", websites=["test-website"]),
        query_string={"website_id": "other-website"},
    )
    assert response.status_code == 404
    response = client.get("/api/websites", headers=_bearer(role="staff", websites=["test-website"]))
    assert (response.status_code, _json(response)["code"]) == (403, "FORBIDDEN")


def test_an_operator_lists_filters_edits_and_registers(
    gateway: tuple[Client, list[Any]], tenants: dict[str, Any]
) -> None:
    client, _ = gateway
    admin = _bearer(role="admin", email="ops@demo.example")
    listed = _json(client.get("/api/bookings", headers=admin, query_string={"q": "HW-000001"}))
    (booking,) = listed["bookings"]
    edited = client.put(
        f"/api/bookings/{booking['id']}", headers={**admin, "If-Match": '"1"'}, json={"status": "cancelled"}
    )
    assert edited.status_code == 200, edited.json
    assert edited.headers["ETag"] == '"2"'
    created = client.post(
        "/api/websites", headers=admin, json={"id": "via-gateway", "name": "Via Gateway", "domain": "via.example.com"}
    )
    assert created.status_code == 201, created.json


def test_the_openapi_document_is_public_and_describes_the_admin_api(gateway: tuple[Client, list[Any]]) -> None:
    client, _ = gateway
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = _json(response)
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for route in topology.ADMIN_API.routes:
        if route.auth == "cognito":
            assert route.method.lower() in paths[route.path], route
            assert paths[route.path][route.method.lower()]["security"] == [{"cognito": []}]
    assert "/api/openapi.json" not in paths
    assert "BookingEdit" in json.dumps(document["components"])
