"""The REST API: every topology route as a Lambda proxy method, with validation, logs and throttling.

API Gateway's own rejections (bad body, throttling, unknown route, ...) answer as infra/topology/gateway.py
declares them, in the API's error shape {"success": false, "error": ..., "code": ...}, like the functions
do (bookinghub.web.resolver) and like the local gateway, so a client handles one shape whoever rejected it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import topology
from infra.cdk.functions import RenderedFunction

# Stage-wide limits (every method): steady requests per second and burst bucket size. Above them
# API Gateway answers 429 RATE_LIMITED before any Lambda runs.
THROTTLING_RATE_LIMIT = 50
THROTTLING_BURST_LIMIT = 100
ACCESS_LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

# One JSON line per request; no headers, bodies or keys. Every value is a plain token, so the line
# stays valid JSON whatever the request was.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTimeEpoch",
    "ip": "$context.identity.sourceIp",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "errorType": "$context.error.responseType",
    "xrayTraceId": "$context.xrayTraceId",
}


@dataclass(frozen=True)
class RenderedApi:
    api: apigateway.RestApi
    access_logs: logs.LogGroup
    logging_role: iam.Role
    methods: dict[tuple[str, str], apigateway.Method]  # (method, path) -> method


def build_api(
    scope: Construct,
    functions: dict[str, RenderedFunction],
    *,
    stage: str,
    authorizer: apigateway.IAuthorizer | None = None,
) -> RenderedApi:
    access_logs = logs.LogGroup(scope, "ApiAccessLogs", retention=ACCESS_LOG_RETENTION)
    api = apigateway.RestApi(
        scope,
        "Api",
        rest_api_name=f"bookinghub-{stage}",
        description="bookinghub HTTP API (routes from infra/topology/)",
        endpoint_types=[apigateway.EndpointType.REGIONAL],
        cloud_watch_role=False,  # see build_logging_role: an explicit, narrower role instead
        deploy_options=apigateway.StageOptions(
            stage_name=stage,
            tracing_enabled=True,
            throttling_rate_limit=THROTTLING_RATE_LIMIT,
            throttling_burst_limit=THROTTLING_BURST_LIMIT,
            # Execution logs for errors only; request/response bodies are never logged (data trace off).
            logging_level=apigateway.MethodLoggingLevel.ERROR,
            data_trace_enabled=False,
            metrics_enabled=True,
            access_log_destination=apigateway.LogGroupLogDestination(access_logs),
            access_log_format=apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))),
        ),
    )
    logging_role = build_logging_role(scope)
    account = apigateway.CfnAccount(scope, "ApiGatewayAccount", cloud_watch_role_arn=logging_role.role_arn)
    # The stage enables logging, which API Gateway refuses until the account has a logging role.
    api.deployment_stage.node.add_dependency(account)

    # The gateway's own rejections, as infra/topology/gateway.py declares them (the local gateway answers
    # the same). No resource gets a method the topology does not declare (no ANY, no OPTIONS), so a wrong
    # method is API Gateway's MISSING_AUTHENTICATION_TOKEN: the declared 404 NOT_FOUND.
    for error in topology.gateway.GATEWAY_ERRORS:
        api.add_gateway_response(
            f"{error.response_type}Response",
            type=apigateway.ResponseType.of(error.response_type),
            status_code=str(error.status) if error.status else None,
            templates={"application/json": error.template()},
            response_headers={"Content-Type": "'application/json'", "Cache-Control": "'no-store'"},
        )

    return RenderedApi(api, access_logs, logging_role, add_routes(api, functions, authorizer))


def add_routes(
    api: apigateway.RestApi,
    functions: dict[str, RenderedFunction],
    authorizer: apigateway.IAuthorizer | None = None,
) -> dict[tuple[str, str], apigateway.Method]:
    # Validates the body of json_body routes: API Gateway rejects a non-object body with 400
    # INVALID_PAYLOAD (gateway response above) before the function runs. The function checks the same
    # itself, so behaviour matches locally where there is no gateway.
    # Parameters too: no route declares required parameters yet, so it costs nothing, and one declared
    # later is enforced without touching the validator.
    body_validator = api.add_request_validator(
        "JsonBodyValidator", validate_request_body=True, validate_request_parameters=True
    )
    json_object = api.add_model(
        "JsonObject",
        content_type="application/json",
        description="Any JSON object; the function validates the fields",
        schema=apigateway.JsonSchema(schema=apigateway.JsonSchemaVersion.DRAFT4, type=apigateway.JsonSchemaType.OBJECT),
    )
    methods: dict[tuple[str, str], apigateway.Method] = {}
    for route, spec in topology.all_routes():
        integration = apigateway.LambdaIntegration(functions[spec.name].function, proxy=True, allow_test_invoke=False)
        cognito = route.auth == "cognito"
        if cognito and authorizer is None:
            raise ValueError(f"{route.method} {route.path} needs the Cognito authorizer (infra/cdk/auth.py)")
        methods[(route.method, route.path)] = api.root.resource_for_path(route.path).add_method(
            route.method,
            integration,
            # API Gateway verifies the ID token (signature, issuer, expiry) before the function runs and
            # hands it the claims; the other kinds authenticate inside the function (infra/cdk/nag.py)
            authorization_type=apigateway.AuthorizationType.COGNITO if cognito else apigateway.AuthorizationType.NONE,
            authorizer=authorizer if cognito else None,
            request_validator=body_validator if route.json_body else None,
            # $default: validate whatever Content-Type the client claims, not only application/json.
            request_models={"$default": json_object} if route.json_body else None,
        )
    return methods


def build_logging_role(scope: Construct) -> iam.Role:
    """API Gateway's account-wide CloudWatch Logs role (execution and access logs of every REST API).

    Instead of the AWS managed AmazonAPIGatewayPushToCloudWatchLogs (all log groups, read actions
    included), it may only create and write log groups in this account and region. It is an account
    setting shared by every REST API of the region, so it is retained when this stack goes: deleting it
    would silently stop other APIs' logs.
    """
    stack = Stack.of(scope)
    log_groups = stack.format_arn(
        service="logs", resource="log-group", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
    )
    role = iam.Role(
        scope,
        "ApiGatewayLoggingRole",
        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        description="API Gateway account logging role (execution and access logs to CloudWatch Logs)",
        inline_policies={
            "WriteApiGatewayLogs": iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        actions=[
                            "logs:CreateLogGroup",
                            "logs:CreateLogStream",
                            "logs:DescribeLogGroups",
                            "logs:DescribeLogStreams",
                            "logs:PutLogEvents",
                        ],
                        resources=[log_groups],
                    )
                ]
            )
        },
    )
    role.apply_removal_policy(RemovalPolicy.RETAIN)
    return role
