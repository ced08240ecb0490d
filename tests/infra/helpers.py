"""Reading a synthesised template: who may do what to which resource, which path a method serves."""

from __future__ import annotations

import re
from typing import Any

from infra.cdk.naming import function_id

Template = dict[str, Any]


def render(value: Any) -> str:
    """A resource reference in cdk-nag's notation: "<BookingsTable.Arn>/index/*", "<Queue>", "*"."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::Join":
            return arg[0].join(render(part) for part in arg[1])
    raise AssertionError(f"unexpected reference in a policy: {value!r}")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_of(template: Template, function_name: str) -> str:
    role = template["Resources"][function_id(function_name)]["Properties"]["Role"]
    return str(role["Fn::GetAtt"][0])


def role_statements(template: Template, role_id: str) -> list[dict[str, Any]]:
    """Every Allow/Deny statement that applies to the role: its inline policies and attached AWS::IAM::Policy."""
    resources = template["Resources"]
    role = resources[role_id]["Properties"]
    statements = [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"].get("Roles", []):
            statements.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    return statements


def grants(template: Template, function_name: str) -> set[tuple[str, str]]:
    """(action, resource) pairs the function's role is allowed."""
    pairs = set()
    for statement in role_statements(template, role_of(template, function_name)):
        assert statement["Effect"] == "Allow", statement
        assert "NotAction" not in statement, statement
        assert "NotResource" not in statement, statement
        for action in _as_list(statement["Action"]):
            for resource in _as_list(statement["Resource"]):
                pairs.add((action, render(resource)))
    return pairs


def referenced_ids(resource: str, attribute: str | None = None) -> set[str]:
    """Logical ids a rendered resource points at, optionally only through one attribute (Arn, StreamArn)."""
    ids = set()
    for logical_id, attr in re.findall(r"<([A-Za-z0-9]+)(?:\.([A-Za-z0-9]+))?>", resource):
        if attribute is None or attr == attribute:
            ids.add(logical_id)
    return ids


def targets(pairs: set[tuple[str, str]], actions: set[str], attribute: str | None = None) -> set[str]:
    """Logical ids the given actions are allowed on."""
    return {i for action, resource in pairs if action in actions for i in referenced_ids(resource, attribute)}


def method_paths(template: Template) -> dict[tuple[str, str], dict[str, Any]]:
    """(HTTP method, full resource path) -> the AWS::ApiGateway::Method's properties."""
    resources = template["Resources"]

    def path_of(resource_ref: Any) -> str:
        if "Ref" not in resource_ref:  # the API's root resource (Fn::GetAtt RootResourceId)
            return ""
        props = resources[resource_ref["Ref"]]["Properties"]
        return f"{path_of(props['ParentId'])}/{props['PathPart']}"

    return {
        (r["Properties"]["HttpMethod"], path_of(r["Properties"]["ResourceId"]) or "/"): r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGateway::Method"
    }
