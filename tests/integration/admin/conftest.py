"""Admin API tests: callers with claims as API Gateway's Cognito authorizer hands them to the function,
two organisations with websites and bookings, and the handler invoked as Lambda would."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import pytest

from infra import topology
from infra.local.invoke import LocalLambdaContext, load_handler
from infra.local.resources import LocalResources
from infra.local.routes import RouteTable
from tests.conftest import load_event
from tests.integration.conftest import DEMO_ORG, post_sync, seed_body
from tests.integration.test_website_webhooks_delivery import hook_website, receiver  # noqa: F401 - fixtures

RIVAL_ORG = "rival-org"
RIVAL_KEY = "rival_sk_zzzzz"
ORG_KEY_B = "other_sk_yyyyy"
_ROUTES = RouteTable([(route, topology.ADMIN_API) for route in topology.ADMIN_API.routes])


def claims(
    role: str | None,
    *,
    org: str | None = DEMO_ORG,
    websites: tuple[str, ...] = (),
    email: str = "ops@demo.example",
) -> dict[str, str]:
    """ID-token claims as API Gateway REST passes them: every value a string, lists comma-separated."""
    values = {
        "sub": f"sub-{role}-{email}",
        "email": email,
        "token_use": "id",
        "cognito:username": email,
        "cognito:groups": role or "",
        "custom:websites": ",".join(websites),
    }
    if org is not None:
        values["custom:organisation_id"] = org
    return values


Call = Callable[..., tuple[int, dict[str, Any], dict[str, str]]]


def call_admin(
    method: str,
    path: str,
    *,
    caller: dict[str, str] | None,
    query: dict[str, Any] | None = None,
    body: Any = None,
    headers: Mapping[str, str | None] | None = None,
    function: topology.Function = topology.ADMIN_API,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Invoke an operator API function (admin_api unless told) with a request, as API Gateway does behind
    the Cognito authorizer; returns (status, JSON body, headers).

    `body`: JSON-encoded unless a str (sent as is) or bytes (sent base64-encoded, as API Gateway passes a
    body it cannot pass as text)."""
    routes = _ROUTES if function is topology.ADMIN_API else RouteTable([(r, function) for r in function.routes])
    match = routes.match(method, path)
    event = load_event("admin_api/list_bookings")
    event.update(
        resource=match.route.path,
        path=path,
        httpMethod=method,
        pathParameters=match.path_parameters or None,
        queryStringParameters={k: str(v) for k, v in query.items()} if query else None,
        multiValueQueryStringParameters={k: [str(v)] for k, v in query.items()} if query else None,
        body=_event_body(body),
        isBase64Encoded=isinstance(body, bytes),
    )
    for name, value in (headers or {}).items():
        if value is None:  # None: take the sample event's header away
            event["headers"].pop(name, None)
            event["multiValueHeaders"].pop(name, None)
        else:
            event["headers"][name] = value
            event["multiValueHeaders"][name] = [value]
    event["requestContext"].update(resourcePath=match.route.path, httpMethod=method, path=f"/local{path}")
    event["requestContext"]["authorizer"] = {"claims": caller} if caller is not None else None
    context = LocalLambdaContext(function_name=function.name, timeout_seconds=function.timeout_seconds)
    response = load_handler(function)(event, context)
    answer_headers = dict(response.get("headers") or {})
    answer_headers.update({k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items() if v})
    return response["statusCode"], json.loads(response["body"] or "{}"), answer_headers


def _event_body(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return base64.b64encode(body).decode("ascii")
    return body if isinstance(body, str) else json.dumps(body)


def query_string(query: dict[str, Any]) -> str:
    return urlencode(query)


@pytest.fixture
def tenants(aws: LocalResources, test_website: Any, other_website: Any) -> dict[str, Any]:
    """demo-org: test-website (2 bookings) and other-website (1); rival-org: rival-website (1)."""
    from bookinghub.websites.logic.registry import register_website

    register_website(
        website_id="rival-website",
        organisation_id=RIVAL_ORG,
        name="Rival",
        domain="rival.example.com",
        api_key=RIVAL_KEY,
    )
    ids: dict[str, str] = {}
    for name, key, source_id, ref, day, email in (
        ("test_a", "test_sk_xxxxx", "src-a", "HW-000001", "2026-03-01", "alice@example.com"),
        ("test_b", "test_sk_xxxxx", "src-b", "HW-000002", "2026-03-05", "bob@example.com"),
        ("other", ORG_KEY_B, "src-c", "OW-000001", "2026-03-02", "carol@example.com"),
        ("rival", RIVAL_KEY, "src-d", "RV-000001", "2026-03-03", "alice@example.com"),
    ):
        body = seed_body(source_booking_id=source_id, booking_ref=ref, activity_date=day)
        body["customer"] = {**body["customer"], "email": email, "name": f"{name.title()} Customer"}
        status, answer = post_sync(body, api_key=key)
        assert status == 200, answer
        ids[name] = answer["booking_id"]
    return ids
