"""Functions: runtime, tracing, logging, environment, least-privilege grants and triggers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import build_layer, topology
from infra.cdk.naming import function_id, queue_id, secret_id, stream_failures_id, table_id
from tests.infra.conftest import STACK_NAME, Assembly
from tests.infra.helpers import grants, role_of, role_statements, targets

FUNCTIONS = pytest.mark.parametrize("spec", topology.FUNCTIONS, ids=lambda f: f.name)
KEY_ID = f"{topology.SECRETS_KEY.name}Key"
READ = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:ConditionCheckItem"}
WRITE = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
STREAM_READ = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
SEND = {"sqs:SendMessage"}
CONSUME = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"}
SECRET_READ = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
# Actions AWS only grants on Resource "*" (scheduler:ListSchedules: the PMS reconcile pass, infra/cdk/pms.py)
STAR_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams", "scheduler:ListSchedules"}


def test_every_function_is_rendered(assembly: Assembly) -> None:
    assert set(assembly.resources("AWS::Lambda::Function")) == {function_id(f.name) for f in topology.FUNCTIONS}


@FUNCTIONS
def test_runtime_architecture_tracing_and_logging(assembly: Assembly, spec: topology.Function) -> None:
    props = assembly.props(function_id(spec.name))
    assert props["Runtime"] == f"python{build_layer.PYTHON_VERSION}" == "python3.13"
    assert props["Architectures"] == [build_layer.ARCHITECTURE] == ["arm64"]
    assert props["Handler"] == "handler.lambda_handler"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert props["LoggingConfig"]["ApplicationLogLevel"] == "INFO"
    assert props["Timeout"] == spec.timeout_seconds
    assert props["MemorySize"] == spec.memory_mb
    assert props["Layers"] == [{"Ref": next(iter(assembly.resources("AWS::Lambda::LayerVersion")))}]


def test_layer_matches_the_runtime(assembly: Assembly) -> None:
    (layer,) = assembly.resources("AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def expected_resource_env(spec: topology.Function) -> dict[str, Any]:
    env: dict[str, Any] = {}
    for name in spec.access.read_tables + spec.access.write_tables:
        env[topology.table(name).env_var] = {"Ref": table_id(name)}
    for name in spec.access.send_queues:
        env[topology.queue(name).env_var] = {"Ref": queue_id(name)}
    if spec.access.kms_encrypt or spec.access.kms_decrypt or spec.access.kms_data_keys:
        env[topology.SECRETS_KEY.env_var] = {"Ref": KEY_ID}
    for name in spec.access.read_secrets:
        env[topology.secret(name).env_var] = {"Ref": secret_id(name)}  # a secret's Ref is its ARN
    return env


@FUNCTIONS
def test_environment_names_exactly_the_granted_resources(assembly: Assembly, spec: topology.Function) -> None:
    env = assembly.props(function_id(spec.name))["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "bookinghub"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "BookingHub"
    assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert env["HUB_STAGE"] == STACK_NAME.removeprefix("BookingHub-")
    assert env["PYDANTIC_DISABLE_PLUGINS"] == "__all__"  # topology.RUNTIME_ENVIRONMENT
    resource_vars = {t.env_var for t in topology.TABLES} | {q.env_var for q in topology.QUEUES}
    resource_vars |= {topology.SECRETS_KEY.env_var} | {s.env_var for s in topology.SECRETS}
    assert {k: v for k, v in env.items() if k in resource_vars} == expected_resource_env(spec)
    # What the handler refuses to start without (REQUIRED_SETTINGS) is all set, never to ""
    assert all(env.get(name) for name in topology.resource_env_vars(spec)), spec.name


@FUNCTIONS
def test_environment_includes_the_functions_own_settings(assembly: Assembly, spec: topology.Function) -> None:
    env = assembly.props(function_id(spec.name))["Environment"]["Variables"]
    assert {k: env.get(k) for k, _ in spec.environment} == dict(spec.environment)


def test_passes_never_captures_responses_in_traces(assembly: Assembly) -> None:
    # Its answers carry pincodes; the topology says so and the template must carry it.
    env = assembly.props(function_id("passes"))["Environment"]["Variables"]
    assert env["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"


def test_no_secret_value_reaches_a_function_environment(assembly: Assembly) -> None:
    for spec in topology.FUNCTIONS:
        env = assembly.props(function_id(spec.name))["Environment"]["Variables"]
        assert not {s.local_env_var for s in topology.SECRETS} & set(env), spec.name
        assert "whsec_" not in json.dumps(env)


@FUNCTIONS
def test_role_has_no_managed_policies_and_no_action_wildcards(assembly: Assembly, spec: topology.Function) -> None:
    role = assembly.props(role_of(assembly.template, spec.name))
    assert "ManagedPolicyArns" not in role
    pairs = grants(assembly.template, spec.name)
    assert not [action for action, _ in pairs if "*" in action]
    assert {action for action, resource in pairs if resource == "*"} <= STAR_ACTIONS


@FUNCTIONS
def test_tables_are_exactly_the_declared_ones(assembly: Assembly, spec: topology.Function) -> None:
    pairs = grants(assembly.template, spec.name)
    readable = {table_id(n) for n in spec.access.read_tables}
    writable = {table_id(n) for n in spec.access.write_tables}
    assert targets(pairs, READ, "Arn") <= readable | writable
    assert targets(pairs, {"dynamodb:Query", "dynamodb:GetItem"}, "Arn") >= readable
    assert targets(pairs, WRITE, "Arn") == writable


@FUNCTIONS
def test_reads_include_the_table_indexes(assembly: Assembly, spec: topology.Function) -> None:
    pairs = grants(assembly.template, spec.name)
    for name in spec.access.read_tables:
        if topology.table(name).indexes:
            assert ("dynamodb:Query", f"<{table_id(name)}.Arn>/index/*") in pairs


@FUNCTIONS
def test_queues_and_key_are_exactly_the_declared_ones(assembly: Assembly, spec: topology.Function) -> None:
    pairs = grants(assembly.template, spec.name)
    own_failures = {stream_failures_id(spec.name)} if spec.stream else set()
    assert targets(pairs, SEND) == {queue_id(n) for n in spec.access.send_queues} | own_failures
    assert targets(pairs, CONSUME) == ({queue_id(spec.queue.queue)} if spec.queue else set())
    kms_actions = {action for action, _ in pairs if action.startswith("kms:")}
    expected_kms = {
        a
        for a, on in (
            ("kms:Encrypt", spec.access.kms_encrypt),
            ("kms:Decrypt", spec.access.kms_decrypt),
            ("kms:GenerateDataKey", spec.access.kms_data_keys),
        )
        if on
    }
    assert kms_actions == expected_kms
    assert targets(pairs, kms_actions) == ({KEY_ID} if kms_actions else set())


@FUNCTIONS
def test_secrets_readable_are_exactly_the_declared_ones(assembly: Assembly, spec: topology.Function) -> None:
    pairs = grants(assembly.template, spec.name)
    secret_actions = {action for action, _ in pairs if action.startswith("secretsmanager:")}
    assert secret_actions == (SECRET_READ if spec.access.read_secrets else set())
    assert targets(pairs, {"secretsmanager:GetSecretValue"}) == {secret_id(n) for n in spec.access.read_secrets}


def test_only_stripe_webhook_can_read_the_stripe_signing_secret(assembly: Assembly) -> None:
    readers = {
        spec.name
        for spec in topology.FUNCTIONS
        if secret_id("StripeWebhookSecret") in targets(grants(assembly.template, spec.name), SECRET_READ)
    }
    assert readers == {"stripe_webhook"}


@FUNCTIONS
def test_stream_read_only_on_the_trigger_stream(assembly: Assembly, spec: topology.Function) -> None:
    pairs = grants(assembly.template, spec.name)
    assert targets(pairs, STREAM_READ, "StreamArn") == ({table_id(spec.stream.table)} if spec.stream else set())
    assert (("dynamodb:ListStreams", "*") in pairs) == bool(spec.stream)


@FUNCTIONS
def test_logs_only_to_its_own_log_group(assembly: Assembly, spec: topology.Function) -> None:
    pairs = grants(assembly.template, spec.name)
    log_group = assembly.props(function_id(spec.name))["LoggingConfig"]["LogGroup"]["Ref"]
    assert targets(pairs, {"logs:CreateLogStream", "logs:PutLogEvents"}) == {log_group}
    assert {a for a, _ in pairs if a.startswith("logs:")} == {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_sync_bookings_cannot_send_to_any_queue_or_use_the_key(assembly: Assembly) -> None:
    pairs = grants(assembly.template, "sync_bookings")
    assert not [a for a, _ in pairs if a.startswith(("sqs:", "kms:"))]


def test_outbox_relay_reads_the_stream_and_writes_only_the_bookings_table(assembly: Assembly) -> None:
    """It writes each booking change's timeline item and reads the organisation's subscriptions (to tell
    an echo nothing wants): the Bookings table and its stream; and it reads the real-time watches
    (RealtimeConnections), never writing there."""
    pairs = grants(assembly.template, "outbox_relay")
    tables = {r for a, r in pairs if a.startswith("dynamodb:") and r != "*"}
    assert {a for a, r in pairs if a.startswith("dynamodb:") and r == "*"} == {"dynamodb:ListStreams"}
    assert {a for a, r in pairs if r == "<BookingsTable.StreamArn>"} >= set(STREAM_READ)
    realtime = {r for r in tables if not r.startswith("<BookingsTable")}
    assert realtime == {"<RealtimeConnectionsTable.Arn>"}, tables
    on_watches = {a for a, r in pairs if r == "<RealtimeConnectionsTable.Arn>"}
    assert "dynamodb:BatchGetItem" in on_watches
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    assert not on_watches & writes
    assert ("dynamodb:PutItem", "<BookingsTable.Arn>") in pairs
    assert ("dynamodb:UpdateItem", "<BookingsTable.Arn>") in pairs  # the mark for the broadcaster


def test_health_may_only_log_and_trace(assembly: Assembly) -> None:
    pairs = grants(assembly.template, "health")
    assert {a.split(":")[0] for a, _ in pairs} == {"logs", "xray"}


def _mappings(assembly: Assembly, function: str) -> list[dict[str, Any]]:
    return [
        m["Properties"]
        for m in assembly.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function_id(function)}
    ]


def test_every_event_source_mapping_reports_batch_item_failures(assembly: Assembly) -> None:
    mappings = assembly.resources("AWS::Lambda::EventSourceMapping").values()
    assert len(mappings) == sum(bool(f.queue) + bool(f.stream) for f in topology.FUNCTIONS)
    for mapping in mappings:
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


@pytest.mark.parametrize("spec", [f for f in topology.FUNCTIONS if f.queue], ids=lambda f: f.name)
def test_queue_trigger(assembly: Assembly, spec: topology.Function) -> None:
    assert spec.queue is not None
    (mapping,) = _mappings(assembly, spec.name)
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id(spec.queue.queue), "Arn"]}
    assert mapping["BatchSize"] == spec.queue.batch_size


@pytest.mark.parametrize("spec", [f for f in topology.FUNCTIONS if f.stream], ids=lambda f: f.name)
def test_stream_trigger(assembly: Assembly, spec: topology.Function) -> None:
    assert spec.stream is not None
    (mapping,) = _mappings(assembly, spec.name)
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id(spec.stream.table), "StreamArn"]}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == spec.stream.batch_size
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == spec.stream.max_retry_attempts
    assert mapping["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [stream_failures_id(spec.name), "Arn"]}}
    }
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert patterns == topology.stream_filters(spec.stream)
    names_of = [m.event_names for m in spec.stream.matches] or [spec.stream.event_names]
    for pattern, names in zip(patterns, names_of, strict=True):
        assert pattern["eventName"] == list(names)
        assert pattern["dynamodb"]["NewImage"]["SK"]["S"] == [{"prefix": p} for p in spec.stream.sk_prefixes]


def test_the_broadcaster_takes_items_to_number_and_the_relays_first_marking_only() -> None:
    """A change nobody watches never invokes it: its stream filter takes an event item written on its
    own (no `relayed`) and the relay's marking of a watched one, not a relayed item's insert nor a later
    update of a marked item."""
    from infra.local.streams import matches_any

    trigger = topology.function("realtime_broadcaster").stream
    assert trigger is not None
    patterns = topology.stream_filters(trigger)
    sk, relayed = {"S": "EVENT#2026-02-21T10:00:00Z#e1"}, {"BOOL": True}

    def record(name: str, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
        images = {"NewImage": {"SK": sk, **new}, **({"OldImage": {"SK": sk, **old}} if old is not None else {})}
        return {"eventName": name, "dynamodb": images}

    assert matches_any(record("INSERT", {}), patterns)  # the PMS outbox, a conflict event: to number
    assert not matches_any(record("INSERT", {"relayed": relayed}), patterns)  # the relay's: not watched yet
    marked = {"relayed": relayed, "rtw": {"S": "w"}}
    assert matches_any(record("MODIFY", marked, {"relayed": relayed}), patterns)  # the relay marked it
    assert not matches_any(record("MODIFY", marked, marked), patterns)  # a later update: no new event
    numbered = {"seq": {"N": "1"}}
    assert not matches_any(record("MODIFY", numbered, {}), patterns)  # numbered by the broadcaster itself
    assert not matches_any(record("REMOVE", marked, marked), patterns)


def test_stream_filter_matches_only_the_declared_prefixes() -> None:
    stream_filter = topology.stream_filter

    trigger = topology.StreamTrigger(table="Bookings", sk_prefixes=("EVENT#", "AUDIT#"))
    assert stream_filter(trigger) == {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {"SK": {"S": [{"prefix": "EVENT#"}, {"prefix": "AUDIT#"}]}}},
    }
    assert stream_filter(topology.StreamTrigger(table="Bookings")) == {"eventName": ["INSERT"]}
    changes = topology.StreamTrigger(table="Bookings", sk_prefixes=("BOOKING",), event_names=("INSERT", "MODIFY"))
    assert stream_filter(changes)["eventName"] == ["INSERT", "MODIFY"]


def test_role_statements_cover_the_inline_and_default_policies(assembly: Assembly) -> None:
    # Guards the helper the grant tests rely on: it must see the statements that exist.
    statements = role_statements(assembly.template, role_of(assembly.template, "deliver_webhooks"))
    assert any("kms:Decrypt" in json.dumps(s["Action"]) for s in statements)
