"""The operators' Beds24 API (beds24_admin) invoked as API Gateway would, with Cognito claims."""

from __future__ import annotations

from typing import Any

from infra import topology
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
    from tests.integration.admin import conftest as admin

    beds24_admin = topology.function("beds24_admin")
    status, answer, _ = admin.call_admin(method, path, caller=caller, query=query, body=body, function=beds24_admin)
    return status, answer
