"""The operators' Cognito user pool and the API Gateway authorizer on the admin routes (infra/cdk/auth.py).

cdk-nag's Cognito and authorization rules must be met on the admin routes, not suppressed.
"""

from __future__ import annotations

import csv
from typing import Any

import pytest

from bookinghub.core.auth import ORGANISATION_CLAIM, ROLES, WEBSITES_CLAIM
from infra import topology
from tests.infra.conftest import STACK_NAME, Assembly
from tests.infra.helpers import method_paths

ADMIN_ROUTES = [
    route for route in topology.ADMIN_API.routes if (route.method, route.path) != ("GET", "/api/openapi.json")
]
ALL_ROUTES = [route for route, _ in topology.all_routes()]


def _one(assembly: Assembly, type_: str) -> tuple[str, dict[str, Any]]:
    ((logical_id, resource),) = assembly.resources(type_).items()
    return logical_id, dict(resource.get("Properties", {}))


def _method(assembly: Assembly, route: topology.Route) -> tuple[str, dict[str, Any]]:
    """The AWS::ApiGateway::Method of a route: its logical id and properties."""
    props = method_paths(assembly.template)[(route.method, route.path)]
    logical_id = next(k for k, v in assembly.template["Resources"].items() if v.get("Properties") is props)
    return logical_id, props


def _nag_findings(assembly: Assembly) -> list[dict[str, str]]:
    (report,) = assembly.outdir.glob("AwsSolutions-*NagReport.csv")
    with report.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_password_policy_mfa_and_threat_protection(assembly: Assembly) -> None:
    _, pool = _one(assembly, "AWS::Cognito::UserPool")
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[f"Require{kind}"] is True for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols"))
    assert policy["TemporaryPasswordValidityDays"] <= 7
    assert pool["MfaConfiguration"] == "ON"  # required, not optional
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]  # TOTP, no SMS
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}  # threat protection, full function
    assert pool["UserPoolTier"] == "PLUS"
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}  # no self sign-up


def test_the_three_role_groups_in_the_order_roles_are_read(assembly: Assembly) -> None:
    pool_id, _ = _one(assembly, "AWS::Cognito::UserPool")
    groups = [props["Properties"] for props in assembly.resources("AWS::Cognito::UserPoolGroup").values()]
    assert all(group["UserPoolId"] == {"Ref": pool_id} for group in groups)
    # Precedence: the strongest group first, as bookinghub.core.auth picks a user's role from cognito:groups
    by_precedence = [group["GroupName"] for group in sorted(groups, key=lambda group: group["Precedence"])]
    assert tuple(by_precedence) == ROLES == ("superadmin", "admin", "staff")


def test_tenant_attributes_are_readable_but_not_writable_by_the_app(assembly: Assembly) -> None:
    _, pool = _one(assembly, "AWS::Cognito::UserPool")
    custom = {attribute["Name"]: attribute for attribute in pool["Schema"]}
    claims = {f"custom:{name}" for name in custom}
    assert claims == {ORGANISATION_CLAIM, WEBSITES_CLAIM}
    assert all(attribute["AttributeDataType"] == "String" for attribute in custom.values())
    # custom:websites holds a comma-separated list of website ids (up to MAX_TOKEN_WEBSITES of them)
    assert int(custom["websites"]["StringAttributeConstraints"]["MaxLength"]) >= 1024

    _, client = _one(assembly, "AWS::Cognito::UserPoolClient")
    assert claims <= set(client["ReadAttributes"])
    # A user must not move themselves into another tenant or onto other websites: no custom attribute here
    assert not [attribute for attribute in client["WriteAttributes"] if attribute.startswith("custom:")]


def test_the_app_client_has_no_secret_no_oauth_and_no_client_side_passwords(assembly: Assembly) -> None:
    _, client = _one(assembly, "AWS::Cognito::UserPoolClient")
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",  # the aws CLI, with IAM credentials (docs/admin-api.md)
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert client.get("AllowedOAuthFlowsUserPoolClient") is False
    assert "AllowedOAuthFlows" not in client
    assert "CallbackURLs" not in client
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["TokenValidityUnits"]["IdToken"] == "minutes"
    assert client["IdTokenValidity"] <= 60


def test_the_authorizer_reads_id_tokens_of_this_user_pool(assembly: Assembly) -> None:
    pool_id, _ = _one(assembly, "AWS::Cognito::UserPool")
    _, authorizer = _one(assembly, "AWS::ApiGateway::Authorizer")
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["ProviderARNs"] == [{"Fn::GetAtt": [pool_id, "Arn"]}]
    assert authorizer["IdentitySource"] == "method.request.header.Authorization"


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=[f"{r.method} {r.path}" for r in ADMIN_ROUTES])
def test_every_admin_route_is_behind_the_cognito_authorizer(assembly: Assembly, route: topology.Route) -> None:
    authorizer_id, _ = _one(assembly, "AWS::ApiGateway::Authorizer")
    assert route.auth == "cognito"
    _, method = _method(assembly, route)
    assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
    assert method["AuthorizerId"] == {"Ref": authorizer_id}
    assert "AuthorizationScopes" not in method  # ID tokens: scopes would make the authorizer want access tokens


@pytest.mark.parametrize("route", ALL_ROUTES, ids=[f"{r.method} {r.path}" for r in ALL_ROUTES])
def test_routes_are_authorized_by_their_topology_auth_kind(assembly: Assembly, route: topology.Route) -> None:
    _, method = _method(assembly, route)
    if route.auth == "cognito":
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
    else:  # public, API key or signature: authenticated inside the function, never by a Cognito token
        assert method["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in method


def test_the_openapi_document_is_the_one_public_admin_route(assembly: Assembly) -> None:
    public = [route for route in topology.ADMIN_API.routes if route.auth != "cognito"]
    assert [(route.method, route.path, route.auth) for route in public] == [("GET", "/api/openapi.json", "public")]
    _, method = _method(assembly, public[0])
    assert method["AuthorizationType"] == "NONE"


@pytest.mark.parametrize("rule", ["AwsSolutions-APIG4", "AwsSolutions-COG4"])
def test_nag_authorization_rules_pass_on_admin_routes_unsuppressed(assembly: Assembly, rule: str) -> None:
    findings = {row["Resource ID"]: row["Compliance"] for row in _nag_findings(assembly) if row["Rule ID"] == rule}
    for route in ADMIN_ROUTES:
        construct = f"{STACK_NAME}/Api/Default{route.path}/{route.method}/Resource"
        assert findings.get(construct) == "Compliant", (route, findings.get(construct))
        logical_id, _ = _method(assembly, route)
        metadata = assembly.template["Resources"][logical_id].get("Metadata", {})
        suppressed = {entry["id"] for entry in metadata.get("cdk_nag", {}).get("rules_to_suppress", [])}
        assert rule not in suppressed, route
    errors = [text for kind, _, text in assembly.messages if kind == "aws:cdk:error" and rule in text]
    assert errors == []


@pytest.mark.parametrize("rule", ["AwsSolutions-COG1", "AwsSolutions-COG2", "AwsSolutions-COG8"])
def test_nag_user_pool_rules_pass_unsuppressed(assembly: Assembly, rule: str) -> None:
    pool_id, _ = _one(assembly, "AWS::Cognito::UserPool")
    findings = [row for row in _nag_findings(assembly) if row["Rule ID"] == rule]
    assert [row["Compliance"] for row in findings] == ["Compliant"], findings
    assert findings[0]["Resource ID"] == f"{STACK_NAME}/AdminUserPool/Resource"
    assert "cdk_nag" not in assembly.template["Resources"][pool_id].get("Metadata", {})
