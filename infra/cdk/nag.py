"""cdk-nag (AwsSolutions) suppressions: each one scoped to the resource and finding it excuses, with why.

A rule is satisfied where the stack can satisfy it; what is left here is a deliberate design decision
or something AWS itself requires. tests/infra asserts that synth leaves no unsuppressed error and that
every suppression carries a reason.
"""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import IConstruct

from infra import topology
from infra.cdk.api import RenderedApi
from infra.cdk.functions import RUNTIME, RenderedFunction
from infra.cdk.naming import table_id

# Why a route without API Gateway's Cognito authorizer is still safe, by its topology `auth` kind. Every
# route must declare its kind: adding one makes synth fail until its authentication is decided and
# written down here.
ROUTE_AUTHENTICATION: dict[str, str] = {
    "public": (
        "{route} is deliberately public: it answers a constant (a liveness status, or the API's own OpenAPI "
        "description generated at build time), reads no stored data and calls no AWS service."
    ),
    "api_key": (
        "{route} is called by machine clients (source websites) that authenticate inside the function with their "
        "API key (X-API-Key header, looked up by its SHA-256 hash and compared in constant time; rejected with 401 "
        "AUTH_FAILED before any data is read or written). Cognito user pools authenticate people, not websites."
    ),
    "signature": (
        "{route} is a provider webhook: the provider cannot present a Cognito token, so the function verifies the "
        "provider's signature (HMAC over the raw body, timestamp tolerance) or secret token before reading or "
        "storing anything, and rejects everything else with a 4xx."
    ),
}

XRAY_AND_STREAM_REASON = (
    "Resource '*' is required by actions without resource-level permissions: xray:PutTraceSegments and "
    "xray:PutTelemetryRecords (active tracing){stream}."
)
STREAM_PART = ", and dynamodb:ListStreams, which the DynamoDB event source needs to find the table's stream"
INDEX_REASON = (
    "<{table}.Arn>/index/* names the indexes of the {table} table only (granted by the table's grant_read_data / "
    "grant_write_data for {function}, which topology.Access lets touch {table}): queries on its GSIs need them."
)
RUNTIME_REASON = (
    f"{RUNTIME.name} is the runtime the project targets: infra/build_layer.py builds the layer's binary wheels "
    f"(pydantic-core, ...) for cp{RUNTIME.name.removeprefix('python').replace('.', '')} arm64; moving to a newer "
    "Python is a deliberate upgrade of the layer build and the runtime together, not a config flip."
)


def _suppress(construct: IConstruct, rule: str, reason: str, applies_to: list[str] | None = None) -> None:
    NagSuppressions.add_resource_suppressions(
        construct,
        [NagPackSuppression(id=f"AwsSolutions-{rule}", reason=reason, applies_to=applies_to)],
        apply_to_children=True,
    )


def suppress_function_findings(rendered: RenderedFunction) -> None:
    spec = rendered.spec
    _suppress(rendered.function, "L1", RUNTIME_REASON)
    stream = STREAM_PART if spec.stream else ""
    _suppress(rendered.role, "IAM5", XRAY_AND_STREAM_REASON.format(stream=stream), ["Resource::*"])
    for name in dict.fromkeys(spec.access.read_tables + spec.access.write_tables):
        if topology.table(name).indexes:
            logical_id = table_id(name)
            _suppress(
                rendered.role,
                "IAM5",
                INDEX_REASON.format(table=logical_id, function=spec.name),
                [f"Resource::<{logical_id}.Arn>/index/*"],
            )
    if rendered.stream_failures is not None:
        _suppress(
            rendered.stream_failures,
            "SQS3",
            f"This queue is itself a dead-letter destination: the on-failure destination of {spec.name}'s DynamoDB "
            "stream event source mapping (cdk-nag only recognises queue redrive policies and function DLQs). It "
            "holds batch metadata, not messages to consume, so it has no consumer that could fail.",
        )


# Why the operator-set secrets have no Secrets Manager rotation, by topology secret name. A new secret
# must be listed: adding one makes synth fail until its rotation has been decided and written down here.
SECRET_ROTATION: dict[str, str] = {
    "StripeWebhookSecret": (
        "Stripe generates this webhook signing secret and rotates it in its dashboard (Developers > Webhooks > "
        "Roll secret, with an overlap period during which both secrets sign); a Secrets Manager rotation Lambda "
        "cannot mint a new one. The operator puts the new value with `aws secretsmanager put-secret-value`."
    ),
    "DeliveryProducerSecret": (
        "Shared with the one trusted producer of POST /api/webhooks/booking-events (seed 003), which must be given "
        "the new value at the same time; the operator rotates both with `aws secretsmanager put-secret-value`."
    ),
}


def suppress_secret_findings(secrets: dict[str, secretsmanager.Secret]) -> None:
    for name, secret in secrets.items():
        if name not in SECRET_ROTATION:
            raise ValueError(f"secret {name}: say in infra/cdk/nag.py SECRET_ROTATION how it is rotated")
        _suppress(secret, "SMG4", SECRET_ROTATION[name])


def suppress_route_findings(rendered_api: RenderedApi) -> None:
    for (method, path), construct in rendered_api.methods.items():
        owner = next(spec for route, spec in topology.all_routes() if (route.method, route.path) == (method, path))
        route = next(r for r in owner.routes if (r.method, r.path) == (method, path))
        if route.auth is None:
            raise ValueError(f"{method} {path} ({owner.name}) does not declare `auth` in infra/topology/")
        if route.auth == "cognito":
            continue  # enforced by API Gateway's Cognito authorizer: nothing to suppress
        reason = ROUTE_AUTHENTICATION[route.auth].format(route=f"{method} {path}")
        _suppress(construct, "APIG4", reason)
        _suppress(construct, "COG4", reason)


def suppress_api_findings(rendered_api: RenderedApi) -> None:
    _suppress(
        rendered_api.logging_role,
        "IAM5",
        "API Gateway's account logging role writes execution logs to log groups it names itself at runtime "
        "(API-Gateway-Execution-Logs_<api id>/<stage>) and access logs of every REST API in the account and region "
        "(the role is an account-wide setting): it is scoped to this account's and region's log groups and to write "
        "actions, narrower than the AWS managed AmazonAPIGatewayPushToCloudWatchLogs (Resource '*').",
        ["Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*"],
    )
