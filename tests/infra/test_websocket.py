"""The real-time WebSocket API: routes, $connect's authorizer, the management grant, tables with TTL."""

from __future__ import annotations

import json

from infra.topology import realtime as topology_realtime
from tests.infra.conftest import Assembly


def test_the_websocket_api_routes_on_the_message_action(assembly: Assembly) -> None:
    (api,) = assembly.resources("AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    assert api["Properties"]["RouteSelectionExpression"] == "$request.body.action"
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"] for r in assembly.resources("AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {route.key for route in topology_realtime.WEBSOCKET_ROUTES}
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    assert all(props.get("AuthorizationType", "NONE") == "NONE" for key, props in routes.items() if key != "$connect")
    # Two-way routes answer the client (pong, errors) through a route response
    responses = assembly.resources("AWS::ApiGatewayV2::RouteResponse")
    expected = [r for r in topology_realtime.WEBSOCKET_ROUTES if r.returns_response]
    assert len(responses) == len(expected)


def test_connect_authorizer_checks_the_user_pool_and_lets_api_key_connections_through(assembly: Assembly) -> None:
    (authorizer,) = assembly.resources("AWS::ApiGatewayV2::Authorizer").values()
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "REQUEST"
    assert not props.get("IdentitySource")  # no token: the authorizer still runs, $connect checks the key
    functions = assembly.resources("AWS::Lambda::Function")
    envs = [f["Properties"].get("Environment", {}).get("Variables", {}) for f in functions.values()]
    (authorizer_env,) = [e for e in envs if "REALTIME_TOKEN_ISSUER" in e]
    assert "REALTIME_TOKEN_AUDIENCE" in authorizer_env


def test_posting_functions_get_the_callback_url_and_manage_connections_only(assembly: Assembly) -> None:
    functions = assembly.resources("AWS::Lambda::Function")
    with_url = [
        f for f in functions.values() if "REALTIME_MANAGEMENT_URL" in f["Properties"]["Environment"]["Variables"]
    ]
    assert len(with_url) == len(topology_realtime.POSTING_FUNCTIONS)
    policies = assembly.resources("AWS::IAM::Policy").values()
    manage = [
        statement
        for policy in policies
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "execute-api:ManageConnections" in json.dumps(statement["Action"])
    ]
    assert len(manage) == len(topology_realtime.POSTING_FUNCTIONS)
    for statement in manage:
        assert statement["Resource"] != "*"  # this API's connections, not every API's


def test_stage_is_throttled_and_access_logged(assembly: Assembly) -> None:
    stages = [s for s in assembly.resources("AWS::ApiGatewayV2::Stage").values()]
    (stage,) = stages
    props = stage["Properties"]
    assert props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert "connectionId" in props["AccessLogSettings"]["Format"]


def test_realtime_tables_expire_items(assembly: Assembly) -> None:
    tables = [t["Properties"] for t in assembly.resources("AWS::DynamoDB::Table").values()]
    realtime = [
        t for t in tables if "TimeToLiveSpecification" in t and "Realtime" in json.dumps(t.get("TableName", ""))
    ]
    ttl = {t["TimeToLiveSpecification"]["AttributeName"] for t in tables if "TimeToLiveSpecification" in t}
    assert "expires_at" in ttl
    assert len([t for t in tables if t.get("TimeToLiveSpecification")]) >= 4 or realtime
