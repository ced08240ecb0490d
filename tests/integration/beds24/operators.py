"""The operators' Beds24 API (beds24_admin) invoked as API Gateway would, with Cognito claims."""

from __future__ import annotations

import json
from typing import Any

from infra import topology
from infra.local.invoke import LocalLambdaContext, load_handler
from tests.conftest import load_event
from tests.integration.conftest import DEMO_ORG

RIVAL_ORG = "rival-org"


def claims(role: str, *, org: str | None = DEMO_ORG, email: str = "ops@demo.example") -> dict[str, str]:
    values = {
        "sub": f"sub-{role}-{email}",
        "email": email,
        "token_use": "id",
        "cognito:username": email,
        "cognito:groups": role,
        "custom:websites": "",
    }
    if org is not None:
        values["custom:organisation_id"] = org
    return values


ADMIN = claims("admin")
STAFF = claims("staff", email="desk@demo.example")
RIVAL_ADMIN = claims("admin", org=RIVAL_ORG, email="ops@rival.example")


def call_admin(
    method: str,
    path: str,
    *,
    caller: dict[str, str] | None = ADMIN,
    query: dict[str, Any] | None = None,
    body: Any = None,
) -> tuple[int, dict[str, Any]]:
    """Invoke beds24_admin as API Gateway would (Cognito claims in the authorizer context); returns
    (status, JSON body). `body`: JSON-encoded unless a str (sent as is)."""
    from infra.local.routes import RouteTable

    fn = topology.function("beds24_admin")
    match = RouteTable([(route, fn) for route in fn.routes]).match(method, path)
    event = load_event("admin_api/list_bookings")
    event.update(
        resource=match.route.path,
        path=path,
        httpMethod=method,
        pathParameters=match.path_parameters or None,
        queryStringParameters={k: str(v) for k, v in query.items()} if query else None,
        multiValueQueryStringParameters={k: [str(v)] for k, v in query.items()} if query else None,
        body=None if body is None else body if isinstance(body, str) else json.dumps(body),
        isBase64Encoded=False,
    )
    event["requestContext"].update(resourcePath=match.route.path, httpMethod=method, path=f"/local{path}")
    event["requestContext"]["authorizer"] = {"claims": caller} if caller is not None else None
    context = LocalLambdaContext(function_name=fn.name, timeout_seconds=fn.timeout_seconds)
    response = load_handler(fn)(event, context)
    return response["statusCode"], json.loads(response["body"] or "{}")
