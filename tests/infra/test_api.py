"""The REST API: routes, validation, stage settings and API Gateway's own error answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import topology
from infra.cdk import api as api_module
from infra.cdk.naming import function_id
from tests.infra.conftest import STACK_NAME, Assembly
from tests.infra.helpers import method_paths, referenced_ids, render

ROUTES = pytest.mark.parametrize(
    ("route", "spec"), topology.all_routes(), ids=[f"{r.method} {r.path}" for r, _ in topology.all_routes()]
)


def _stage(assembly: Assembly) -> dict[str, Any]:
    (stage,) = assembly.resources("AWS::ApiGateway::Stage").values()
    return stage


def test_methods_are_exactly_the_topology_routes(assembly: Assembly) -> None:
    assert set(method_paths(assembly.template)) == {(r.method, r.path) for r, _ in topology.all_routes()}


@ROUTES
def test_route_proxies_to_its_function(assembly: Assembly, route: topology.Route, spec: topology.Function) -> None:
    method = method_paths(assembly.template)[(route.method, route.path)]
    integration = method["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    assert integration["IntegrationHttpMethod"] == "POST"
    assert {"Fn::GetAtt": [function_id(spec.name), "Arn"]} in integration["Uri"]["Fn::Join"][1]


@ROUTES
def test_json_body_routes_are_validated_at_the_gateway(
    assembly: Assembly, route: topology.Route, spec: topology.Function
) -> None:
    method = method_paths(assembly.template)[(route.method, route.path)]
    if not route.json_body:
        assert "RequestValidatorId" not in method
        assert "RequestModels" not in method
        return
    validator = assembly.props(method["RequestValidatorId"]["Ref"])
    assert validator["ValidateRequestBody"] is True
    # $default: a body sent with another Content-Type is validated too, not waved through.
    assert set(method["RequestModels"]) == {"$default"}
    model = assembly.props(method["RequestModels"]["$default"]["Ref"])
    assert model["Schema"]["type"] == "object"


def test_stage_tracing_throttling_and_logging(assembly: Assembly) -> None:
    props = _stage(assembly)["Properties"]
    assert props["StageName"] == STACK_NAME.removeprefix("BookingHub-")
    assert props["TracingEnabled"] is True
    (settings,) = props["MethodSettings"]
    assert settings["HttpMethod"] == "*"
    assert settings["ResourcePath"] == "/*"
    assert settings["ThrottlingRateLimit"] == api_module.THROTTLING_RATE_LIMIT > 0
    assert settings["ThrottlingBurstLimit"] == api_module.THROTTLING_BURST_LIMIT > 0
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False


def test_access_log_goes_to_its_log_group_as_json(assembly: Assembly) -> None:
    setting = _stage(assembly)["Properties"]["AccessLogSetting"]
    (log_group,) = referenced_ids(render(setting["DestinationArn"]))
    assert assembly.template["Resources"][log_group]["Type"] == "AWS::Logs::LogGroup"
    assert assembly.props(log_group)["RetentionInDays"] > 0
    fields = json.loads(setting["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert {"status", "ip", "httpMethod", "resourcePath", "xrayTraceId"} <= set(fields)


def test_account_logging_role_is_set_before_the_stage(assembly: Assembly) -> None:
    ((account_id, account),) = assembly.resources("AWS::ApiGateway::Account").items()
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = assembly.template["Resources"][role_id]
    assert role["DeletionPolicy"] == "Retain"  # shared by every REST API of the account and region
    assert "ManagedPolicyArns" not in role["Properties"]
    assert account_id in _stage(assembly).get("DependsOn", [])


def test_api_is_regional(assembly: Assembly) -> None:
    (api,) = assembly.resources("AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def _gateway_responses(assembly: Assembly) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in assembly.resources("AWS::ApiGateway::GatewayResponse").values()
    }


def _render(template: str) -> dict[str, Any]:
    """The body API Gateway would send, with its message variable filled in as it does (a JSON string)."""
    return dict(json.loads(template.replace("$context.error.messageString", '"Some gateway message"')))


@pytest.mark.parametrize(
    ("response_type", "status", "code"),
    [
        ("BAD_REQUEST_BODY", "400", "INVALID_PAYLOAD"),
        ("THROTTLED", "429", "RATE_LIMITED"),
        ("MISSING_AUTHENTICATION_TOKEN", "404", "NOT_FOUND"),
        ("DEFAULT_4XX", None, "BAD_REQUEST"),
        ("DEFAULT_5XX", None, "SERVER_ERROR"),
    ],
)
def test_gateway_errors_use_the_api_error_shape(
    assembly: Assembly, response_type: str, status: str | None, code: str
) -> None:
    response = _gateway_responses(assembly)[response_type]
    assert response.get("StatusCode") == status
    body = _render(response["ResponseTemplates"]["application/json"])
    assert body["success"] is False
    assert body["code"] == code
    assert isinstance(body["error"], str)
    assert body["error"]
    assert response["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/json'"


def test_every_gateway_response_renders_valid_json(assembly: Assembly) -> None:
    responses = _gateway_responses(assembly)
    assert set(responses) == {e.response_type for e in topology.GATEWAY_ERRORS}
    for response in responses.values():
        body = _render(response["ResponseTemplates"]["application/json"])
        assert set(body) == {"success", "error", "code"}


def test_server_errors_never_echo_the_gateway_detail() -> None:
    (error,) = [e for e in topology.GATEWAY_ERRORS if e.response_type == "DEFAULT_5XX"]
    assert "$context" not in error.template()


def test_a_wrong_method_gets_the_same_answer_on_aws_and_locally(assembly: Assembly) -> None:
    """No resource has a method beyond the topology's (no ANY, OPTIONS or {proxy+}), so API Gateway answers
    a wrong method with MISSING_AUTHENTICATION_TOKEN: rendered as the local gateway answers it."""
    from werkzeug.test import Client

    from infra.local.gateway import Gateway

    methods = method_paths(assembly.template)
    assert {method for method, _ in methods} <= {"GET", "POST", "PUT", "PATCH", "DELETE"}
    assert not [path for _, path in methods if "+}" in path]
    response = _gateway_responses(assembly)["MISSING_AUTHENTICATION_TOKEN"]
    assert response["StatusCode"] == "404"
    on_aws = json.loads(response["ResponseTemplates"]["application/json"])  # no gateway variable in it

    local = Client(Gateway(invoke=lambda name, event: pytest.fail(f"{name} must not run")))
    for route, _ in topology.all_routes():
        wrong = next(m for m in ("DELETE", "PATCH", "PUT", "POST", "GET") if (m, route.path) not in methods)
        answer = local.open(route.path.replace("{", "").replace("}", ""), method=wrong)
        assert (answer.status_code, answer.get_json()) == (404, on_aws), f"{wrong} {route.path}"
