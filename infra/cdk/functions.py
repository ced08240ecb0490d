"""The topology's functions: one role, log group and Lambda each, their grants and their triggers.

Every function gets its own role with exactly the topology's Access (no AWS managed policies): log
writes to its own log group, the tables/queues/key/secrets it declares, and what its trigger needs to
poll. It gets the env var of each resource it is granted (a secret's ARN, not its value), and nothing
else, so a missing grant shows up as a missing setting in tests rather than as AccessDenied in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import build_layer, topology
from infra.cdk.data import DataResources, encrypted_queue
from infra.cdk.naming import camel, function_id, pin_logical_id, role_id, stream_failures_id

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
HANDLER = "handler.lambda_handler"
SERVICE_NAME = "bookinghub"
METRICS_NAMESPACE = "BookingHub"
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
STREAM_FAILURES_RETENTION = Duration.days(14)

if RUNTIME.name != f"python{build_layer.PYTHON_VERSION}" or ARCHITECTURE.name != build_layer.ARCHITECTURE:
    raise RuntimeError("the functions' runtime must match the one infra/build_layer.py builds the layer for")


@dataclass(frozen=True)
class FunctionSettings:
    stage: str
    log_level: str  # one of LOG_LEVELS; Powertools and Lambda's log filter use the same level
    code_root: Path  # the directory holding functions/<name>/
    layer_asset_dir: Path  # a directory with python/ inside (build/layer from `make layer`)
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH


@dataclass(frozen=True)
class RenderedFunction:
    spec: topology.Function
    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup
    stream_failures: sqs.Queue | None  # on-failure destination of the stream trigger


def build_layer_version(scope: Construct, layer_asset_dir: Path) -> lambda_.LayerVersion:
    if not (layer_asset_dir / "python").is_dir():
        raise FileNotFoundError(f"{layer_asset_dir} has no python/ directory: run `make layer` first")
    return lambda_.LayerVersion(
        scope,
        "CommonLayer",
        code=lambda_.Code.from_asset(str(layer_asset_dir)),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="bookinghub package and its runtime dependencies (layers/common)",
    )


def build_functions(scope: Construct, data: DataResources, settings: FunctionSettings) -> dict[str, RenderedFunction]:
    if settings.log_level not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {LOG_LEVELS}, not {settings.log_level!r}")
    layer = build_layer_version(scope, settings.layer_asset_dir)
    return {spec.name: build_function(scope, spec, data, layer, settings) for spec in topology.FUNCTIONS}


def build_function(
    scope: Construct,
    spec: topology.Function,
    data: DataResources,
    layer: lambda_.ILayerVersion,
    settings: FunctionSettings,
) -> RenderedFunction:
    stem = camel(spec.name)
    log_group = logs.LogGroup(scope, f"{stem}Logs", retention=settings.log_retention)
    role = iam.Role(
        scope,
        role_id(spec.name),
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"bookinghub {spec.name}: only what infra/topology/ grants it",
    )
    pin_logical_id(role, role_id(spec.name))
    # What AWSLambdaBasicExecutionRole would give, narrowed to this function's own log group.
    role.add_to_policy(
        iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn])
    )

    function = lambda_.Function(
        scope,
        function_id(spec.name),
        description=spec.description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=HANDLER,
        code=lambda_.Code.from_asset(
            str(settings.code_root / "functions" / spec.name), exclude=["__pycache__", "*.pyc"]
        ),
        layers=[layer],
        role=role,
        timeout=Duration.seconds(spec.timeout_seconds),
        memory_size=spec.memory_mb,
        tracing=lambda_.Tracing.ACTIVE,
        logging_format=lambda_.LoggingFormat.JSON,
        # Lambda drops application logs below this level; kept equal to POWERTOOLS_LOG_LEVEL as
        # Powertools recommends, so neither filter silently hides what the other lets through.
        application_log_level_v2=lambda_.ApplicationLogLevel[settings.log_level],
        system_log_level_v2=lambda_.SystemLogLevel.INFO,
        log_group=log_group,
        environment=environment(spec, data, settings),
    )
    pin_logical_id(function, function_id(spec.name))
    grant_access(spec, function, data)

    stream_failures = add_stream_trigger(scope, spec, function, data) if spec.stream else None
    if spec.queue:
        add_queue_trigger(spec, function, data)
    add_schedules(scope, spec, function)
    return RenderedFunction(spec, function, role, log_group, stream_failures)


def environment(spec: topology.Function, data: DataResources, settings: FunctionSettings) -> dict[str, str]:
    env = {
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        # Powertools (Python logging) spells it WARNING; Lambda's log filter spells it WARN.
        "POWERTOOLS_LOG_LEVEL": "WARNING" if settings.log_level == "WARN" else settings.log_level,
        "HUB_STAGE": settings.stage,
        **dict(topology.RUNTIME_ENVIRONMENT),
    }
    for name in dict.fromkeys(spec.access.read_tables + spec.access.write_tables):
        env[topology.table(name).env_var] = data.tables[name].table_name
    for name in spec.access.send_queues:
        env[topology.queue(name).env_var] = data.queues[name].queue.queue_url
    if spec.access.kms_encrypt or spec.access.kms_decrypt or spec.access.kms_data_keys:
        env[topology.SECRETS_KEY.env_var] = data.secrets_key.key_id
    for name in spec.access.read_secrets:
        # The ARN, never the value: the function fetches the value at runtime (bookinghub.aws.secrets).
        env[topology.secret(name).env_var] = data.secrets[name].secret_arn
    # The function's own settings last, as declared (e.g. passes: POWERTOOLS_TRACER_CAPTURE_RESPONSE=false)
    env.update(dict(spec.environment))
    return env


def grant_access(spec: topology.Function, function: lambda_.Function, data: DataResources) -> None:
    access = spec.access
    for name in access.read_tables:
        data.tables[name].grant_read_data(function)  # the table and its indexes
    for name in access.write_tables:
        data.tables[name].grant_write_data(function)
    for name in access.send_queues:
        data.queues[name].queue.grant_send_messages(function)
    # Exactly the KMS actions bookinghub.aws.kms calls, rather than grant_encrypt's
    # GenerateDataKey*/ReEncrypt* wildcards.
    if access.kms_encrypt:
        data.secrets_key.grant(function, "kms:Encrypt")
    if access.kms_decrypt:
        data.secrets_key.grant(function, "kms:Decrypt")
    if access.kms_data_keys:
        data.secrets_key.grant(function, "kms:GenerateDataKey")
    for name in access.read_secrets:
        data.secrets[name].grant_read(function)  # GetSecretValue/DescribeSecret on this secret only


def add_queue_trigger(spec: topology.Function, function: lambda_.Function, data: DataResources) -> None:
    assert spec.queue is not None
    window = spec.queue.max_batching_window_seconds
    function.add_event_source(
        sources.SqsEventSource(
            data.queues[spec.queue.queue].queue,
            batch_size=spec.queue.batch_size,
            max_batching_window=Duration.seconds(window) if window else None,
            # Only the failed messages of a batch are retried (the handler returns batchItemFailures).
            report_batch_item_failures=True,
        )
    )


def add_stream_trigger(
    scope: Construct, spec: topology.Function, function: lambda_.Function, data: DataResources
) -> sqs.Queue:
    assert spec.stream is not None
    # Lambda sends a record of each batch it gives up on here: shard id and sequence-number range, not
    # the records themselves. Those stay readable from the stream for 24 h; they cannot be moved back
    # with StartMessageMoveTask like a queue's DLQ.
    failures = encrypted_queue(scope, stream_failures_id(spec.name), retention_period=STREAM_FAILURES_RETENTION)
    function.add_event_source(
        sources.DynamoEventSource(
            data.tables[spec.stream.table],
            # From the oldest record the stream still holds: an outbox must not skip events written
            # before the mapping existed or while it was disabled.
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=spec.stream.batch_size,
            bisect_batch_on_error=True,
            retry_attempts=spec.stream.max_retry_attempts,
            report_batch_item_failures=True,
            on_failure=sources.SqsDlq(failures),
            filters=[lambda_.FilterCriteria.filter(pattern) for pattern in topology.stream_filters(spec.stream)],
        )
    )
    return failures


def add_schedules(scope: Construct, spec: topology.Function, function: lambda_.IFunction) -> list[events.Rule]:
    rules = []
    for schedule in spec.schedules:
        rule = events.Rule(
            scope,
            f"{camel(spec.name)}{re.sub(r'[^0-9A-Za-z]', '', camel(schedule.name))}Schedule",
            description=f"{schedule.name}: {schedule.expression} -> {spec.name}",
            schedule=events.Schedule.expression(schedule.expression),
        )
        rule.add_target(
            # The whole scheduled event, as EventBridge sends it with no input set, but with the schedule's
            # payload as `detail`: the local scheduler sends exactly this shape.
            targets.LambdaFunction(function, event=events.RuleTargetInput.from_object(scheduled_event_input(schedule)))
        )
        rules.append(rule)
    return rules


def scheduled_event_input(schedule: topology.Schedule) -> dict[str, object]:
    return {
        "version": events.EventField.from_path("$.version"),
        "id": events.EventField.event_id,
        "detail-type": events.EventField.detail_type,
        "source": events.EventField.source,
        "account": events.EventField.account,
        "time": events.EventField.time,
        "region": events.EventField.region,
        "resources": events.EventField.from_path("$.resources"),
        "detail": topology.schedule_detail(schedule),
    }
