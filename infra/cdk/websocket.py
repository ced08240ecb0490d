"""The real-time WebSocket API (issue 14): infra/topology/realtime.py rendered through CDK.

API Gateway holds the connections and runs the routes' functions; $connect is guarded by a Lambda
REQUEST authorizer (an operator's Cognito ID token in `?token=`, checked like the REST API's Cognito
authorizer checks it; a website's `?api_key=` is checked by the $connect function itself). The functions
that post to connections get the stage's callback URL and execute-api:ManageConnections on this API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_logs as logs
from constructs import Construct

from bookinghub.realtime.logic.authorizer import AUDIENCE_ENV, ISSUER_ENV
from infra.cdk.auth import RenderedAuth
from infra.cdk.functions import RenderedFunction
from infra.cdk.naming import camel, pin_logical_id
from infra.topology import realtime as spec

API_LOGICAL_ID = "RealtimeWebSocketApi"  # pinned, so the nag suppression can name the grant exactly
# Per stage: a burst of reconnects (every client after a deploy) fits; sustained abuse is throttled
THROTTLING_RATE_LIMIT = 200
THROTTLING_BURST_LIMIT = 400
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "connectionId": "$context.connectionId",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "integrationLatency": "$context.integrationLatency",
    "authorizerError": "$context.authorizer.error",
}


@dataclass(frozen=True)
class RenderedWebSocket:
    api: apigwv2.WebSocketApi
    stage: apigwv2.WebSocketStage
    access_logs: logs.LogGroup


def build_websocket(
    scope: Construct, functions: dict[str, RenderedFunction], *, stage: str, auth: RenderedAuth
) -> RenderedWebSocket:
    def integration(name: str) -> integrations.WebSocketLambdaIntegration:
        return integrations.WebSocketLambdaIntegration(f"{camel(name)}Integration", functions[name].function)

    authorizer_fn = functions[spec.AUTHORIZER_FUNCTION].function
    authorizer_fn.add_environment(ISSUER_ENV, auth.user_pool.user_pool_provider_url)
    authorizer_fn.add_environment(AUDIENCE_ENV, auth.client.user_pool_client_id)
    # No identity source: a connection without a token (a website with its API key) still reaches
    # the authorizer, which lets it through with no claims for $connect to decide on
    authorizer = authorizers.WebSocketLambdaAuthorizer("RealtimeAuthorizer", authorizer_fn, identity_source=[])

    routes = {route.key: route for route in spec.WEBSOCKET_ROUTES}
    by_function = {name: integration(name) for name in dict.fromkeys(r.function for r in spec.WEBSOCKET_ROUTES)}

    def options(key: str, *, guarded: bool = False) -> apigwv2.WebSocketRouteOptions:
        route = routes[key]
        return apigwv2.WebSocketRouteOptions(
            integration=by_function[route.function],
            authorizer=authorizer if guarded else None,
            return_response=route.returns_response or None,
        )

    api = apigwv2.WebSocketApi(
        scope,
        "RealtimeWebSocketApi",
        api_name=f"bookinghub-{stage}-realtime",
        description="Real-time booking events (routes from infra/topology/realtime.py)",
        route_selection_expression=spec.ROUTE_SELECTION,
        connect_route_options=options("$connect", guarded=True),
        disconnect_route_options=options("$disconnect"),
        default_route_options=options("$default"),
    )
    pin_logical_id(api, API_LOGICAL_ID)
    for key, route in routes.items():
        if not key.startswith("$"):
            api.add_route(key, integration=by_function[route.function], return_response=route.returns_response)

    access_logs = logs.LogGroup(scope, "RealtimeAccessLogs", retention=logs.RetentionDays.THREE_MONTHS)
    ws_stage = apigwv2.WebSocketStage(
        scope,
        "RealtimeStage",
        web_socket_api=api,
        stage_name=stage,
        auto_deploy=True,
        throttle=apigwv2.ThrottleSettings(rate_limit=THROTTLING_RATE_LIMIT, burst_limit=THROTTLING_BURST_LIMIT),
    )
    cfn_stage = ws_stage.node.default_child
    assert isinstance(cfn_stage, apigwv2.CfnStage)
    cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
        destination_arn=access_logs.log_group_arn, format=json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))
    )
    account = Stack.of(scope).node.try_find_child("ApiGatewayAccount")
    if account is not None:  # access logging needs the account's CloudWatch role first (infra/cdk/api.py)
        ws_stage.node.add_dependency(account)

    for name in spec.POSTING_FUNCTIONS:
        function = functions[name].function
        function.add_environment(spec.MANAGEMENT_URL_ENV, ws_stage.callback_url)
        ws_stage.grant_management_api_access(function)

    CfnOutput(scope, "RealtimeWebSocketUrl", value=ws_stage.url, description="Real-time booking events (wss)")
    return RenderedWebSocket(api, ws_stage, access_logs)


def suppress_websocket_findings(rendered: RenderedWebSocket, functions: dict[str, RenderedFunction]) -> None:
    """cdk-nag: routes after $connect carry no authorizer by design (API Gateway runs an authorizer on
    $connect only; every later message arrives on the connection it authorised), and posting functions
    manage connections whose ids exist only at runtime."""
    from cdk_nag import NagPackSuppression, NagSuppressions

    for name in spec.POSTING_FUNCTIONS:
        NagSuppressions.add_resource_suppressions(
            functions[name].role,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    reason=(
                        f"{name} posts to WebSocket connections (execute-api:ManageConnections) whose ids API Gateway "
                        "assigns at runtime: the grant names this API and stage and only its @connections/* paths."
                    ),
                    # grant_management_api_access: any connection of this API's stage (ids exist at runtime)
                    applies_to=[
                        "Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
                        f"<{API_LOGICAL_ID}>/{rendered.stage.stage_name}/*/@connections/*"
                    ],
                )
            ],
            apply_to_children=True,
        )

    for route in rendered.api.node.find_all():
        if isinstance(route, apigwv2.WebSocketRoute) and route.route_key != "$connect":
            reason = (
                f"WebSocket route {route.route_key}: API Gateway authorises a WebSocket connection once, on $connect "
                "(the Lambda REQUEST authorizer and the $connect function); every later message arrives on that "
                "authorised connection, and the function reads the caller's scope stored with it."
            )
            NagSuppressions.add_resource_suppressions(
                route, [NagPackSuppression(id="AwsSolutions-APIG4", reason=reason)], apply_to_children=True
            )
