"""The dashboard and alarms cover the whole topology: a new function or queue without monitoring fails here."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from bookinghub.core.observability import DIMENSIONS, INTEGRATION_TYPES, PROVIDERS
from infra import topology
from infra.cdk.monitoring import RUNBOOK
from infra.cdk.naming import dlq_id, function_id, queue_id, stream_failures_id, table_id
from tests.infra.conftest import Assembly
from tests.infra.helpers import render

ROOT = Path(__file__).resolve().parents[2]


def dashboard_body(assembly: Assembly) -> str:
    """The dashboard's body with every reference written as <LogicalId>, so tests can look for resources."""
    (dashboard,) = assembly.resources("AWS::CloudWatch::Dashboard").values()
    return render(dashboard["Properties"]["DashboardBody"])


def alarms(assembly: Assembly) -> list[dict[str, Any]]:
    return [r["Properties"] for r in assembly.resources("AWS::CloudWatch::Alarm").values()]


def alarm_on(assembly: Assembly, logical_id: str, metric_name: str) -> list[dict[str, Any]]:
    """Alarms whose metric (direct or inside a math expression) is `metric_name` of resource `logical_id`."""
    found = []
    for props in alarms(assembly):
        metrics = (
            [props]
            if "MetricName" in props
            else [m.get("MetricStat", {}).get("Metric", {}) for m in props.get("Metrics", [])]
        )
        for metric in metrics:
            dims = json.dumps(metric.get("Dimensions", []))
            if metric.get("MetricName") == metric_name and logical_id in dims:
                found.append(props)
    return found


def test_dashboard_exists_per_stage(assembly: Assembly) -> None:
    (dashboard,) = assembly.resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "bookinghub-test"


@pytest.mark.parametrize("spec", topology.FUNCTIONS, ids=lambda f: f.name)
def test_dashboard_covers_every_function(assembly: Assembly, spec: topology.Function) -> None:
    body = dashboard_body(assembly)
    for metric in ("Errors", "Throttles", "Duration", "ConcurrentExecutions", "Invocations"):
        assert re.search(rf'"{metric}","FunctionName","<{function_id(spec.name)}>"', body), (spec.name, metric)
    for statistic in ("p50", "p95", "p99"):
        assert re.search(rf'"Duration","FunctionName","<{function_id(spec.name)}>",\{{[^}}]*"stat":"{statistic}"', body)


@pytest.mark.parametrize("spec", topology.QUEUES, ids=lambda q: q.name)
def test_dashboard_covers_every_queue_and_dlq(assembly: Assembly, spec: topology.Queue) -> None:
    body = dashboard_body(assembly)
    for logical_id in (queue_id(spec.name), dlq_id(spec.name)):
        assert f'"ApproximateNumberOfMessagesVisible","QueueName","<{logical_id}.QueueName>"' in body
    assert f'"ApproximateAgeOfOldestMessage","QueueName","<{queue_id(spec.name)}.QueueName>"' in body


@pytest.mark.parametrize("spec", topology.TABLES, ids=lambda t: t.name)
def test_dashboard_covers_every_table_throttle(assembly: Assembly, spec: topology.Table) -> None:
    body = dashboard_body(assembly)
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
        assert f'"{metric}","TableName","<{table_id(spec.name)}>"' in body


@pytest.mark.parametrize("spec", topology.QUEUES, ids=lambda q: q.name)
def test_every_dlq_alarms_on_its_first_message(assembly: Assembly, spec: topology.Queue) -> None:
    (alarm,) = alarm_on(assembly, dlq_id(spec.name), "ApproximateNumberOfMessagesVisible")
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("spec", topology.QUEUES, ids=lambda q: q.name)
def test_every_queue_alarms_on_the_age_of_its_oldest_message(assembly: Assembly, spec: topology.Queue) -> None:
    (alarm,) = alarm_on(assembly, queue_id(spec.name), "ApproximateAgeOfOldestMessage")
    assert alarm["Threshold"] == topology.age_budget_seconds(spec)
    # A message that failed once waits a whole visibility timeout before its retry: that is not stuck.
    assert alarm["Threshold"] >= 2 * topology.visibility_timeout_seconds(spec)


@pytest.mark.parametrize("spec", [f for f in topology.FUNCTIONS if f.stream], ids=lambda f: f.name)
def test_stream_failure_queues_alarm(assembly: Assembly, spec: topology.Function) -> None:
    assert alarm_on(assembly, stream_failures_id(spec.name), "ApproximateNumberOfMessagesVisible")


@pytest.mark.parametrize("spec", topology.FUNCTIONS, ids=lambda f: f.name)
def test_every_function_has_an_error_rate_alarm(assembly: Assembly, spec: topology.Function) -> None:
    matching = alarm_on(assembly, function_id(spec.name), "Errors")
    assert len(matching) == 1
    (expression,) = [m for m in matching[0]["Metrics"] if "Expression" in m]
    assert "errors / invocations" in expression["Expression"]


def test_hub_alarms_exist(assembly: Assembly) -> None:
    names = {props["AlarmName"] for props in alarms(assembly)}
    for suffix in ("Api5xxRate", "PincodeFailures", "Beds24SyncStale", "DeliverySuccessRate"):
        assert f"bookinghub-test-{suffix}" in names


def test_every_alarm_notifies_the_topic_and_links_its_runbook_entry(assembly: Assembly) -> None:
    (topic_id,) = assembly.resources("AWS::SNS::Topic")
    runbook = (ROOT / RUNBOOK).read_text()
    anchors = {_anchor(line) for line in runbook.splitlines() if line.startswith("### ")}
    for props in alarms(assembly):
        assert props["AlarmActions"] == [{"Ref": topic_id}], props["AlarmName"]
        assert props["OKActions"] == [{"Ref": topic_id}]
        link = re.search(rf"Runbook: {re.escape(RUNBOOK)}#([a-z0-9-]+)", props["AlarmDescription"])
        assert link, props["AlarmName"]
        assert link.group(1) in anchors, f"{props['AlarmName']}: no '### ' heading for #{link.group(1)} in {RUNBOOK}"


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = heading.lstrip("#").strip().lower()
    return re.sub(r"[^a-z0-9 -]", "", text).replace(" ", "-")


def test_alarm_topic_is_encrypted_and_tls_only(assembly: Assembly) -> None:
    (topic,) = assembly.resources("AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    (policy,) = assembly.resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in statements
    )
    # CloudWatch alarms can publish only if the key lets CloudWatch use it.
    keys = [k for k in assembly.resources("AWS::KMS::Key").values() if "alarm" in k["Properties"]["Description"]]
    (key,) = keys
    principals = [s.get("Principal", {}).get("Service") for s in key["Properties"]["KeyPolicy"]["Statement"]]
    assert "cloudwatch.amazonaws.com" in principals


def test_no_email_subscription_without_the_context_value(assembly: Assembly) -> None:
    # The test synth passes no alarmEmail: the topic exists, nobody is subscribed by the template.
    assert not assembly.resources("AWS::SNS::Subscription")


ROLLUP = ("service",)  # what every hub metric is published under (the alarms read it)
BREAKDOWN = tuple(sorted(DIMENSIONS))  # emit_metric's second dimension set (the breakdown graphs)


def _emitted_metrics() -> tuple[dict[str, set[tuple[str, ...]]], dict[str, set[tuple[str, ...]]]]:
    """Metric names the code emits, each with the dimension sets it is published under: literal names, and
    the prefixes of f-string ones (BookingSync{...}). `metrics.add_metric` publishes under [service] only;
    `emit_metric` under [service] and [service, function, provider, integration_type]."""
    literal: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    prefixes: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    sources = [
        *(ROOT / "layers" / "common" / "python" / "bookinghub").rglob("*.py"),
        *(ROOT / "functions").rglob("*.py"),
    ]
    for path in sources:
        text = path.read_text()
        for name in re.findall(r'add_metric\(name="(\w+)"', text):
            literal[name].add(ROLLUP)
        for name in re.findall(r'add_metric\(name=f"(\w+)\{', text):
            prefixes[name].add(ROLLUP)
        for name in re.findall(r'emit_metric\(\s*"(\w+)"', text):
            literal[name] |= {ROLLUP, BREAKDOWN}
        for name in re.findall(r'emit_metric\(\s*f"(\w+)\{', text):
            prefixes[name] |= {ROLLUP, BREAKDOWN}
    return literal, prefixes


def _emitted_with(name: str) -> set[tuple[str, ...]]:
    literal, prefixes = _emitted_metrics()
    found = set(literal.get(name, set()))
    for prefix, sets in prefixes.items():
        if name.startswith(prefix):
            found |= sets
    return found


Graphed = list[tuple[str, tuple[str, ...], dict[str, str]]]


def _graphed_hub_metrics(assembly: Assembly) -> Graphed:
    """(metric name, its dimension names, their values) of every hub metric a graph or an alarm reads;
    a SEARCH names its dimensions in its schema and takes whatever values exist."""
    return _dashboard_hub_metrics(assembly) + _alarm_hub_metrics(assembly)


def _dashboard_hub_metrics(assembly: Assembly) -> Graphed:
    found: Graphed = []
    body = json.loads(dashboard_body(assembly))
    for widget in body["widgets"]:
        for metric in widget.get("properties", {}).get("metrics", []):
            parts = [p for p in metric if isinstance(p, str)]
            if parts and parts[0] == "BookingHub":
                values = dict(zip(parts[2::2], parts[3::2], strict=True))
                found.append((parts[1], tuple(sorted(values)), values))
            for options in (p for p in metric if isinstance(p, dict)):
                found += _searched(options.get("expression", ""))
    return found


def _alarm_hub_metrics(assembly: Assembly) -> Graphed:
    found: Graphed = []
    for props in alarms(assembly):
        stats = [m.get("MetricStat", {}).get("Metric", {}) for m in props.get("Metrics", [])] + [props]
        for stat in stats:
            if stat.get("Namespace") == "BookingHub":
                values = {d["Name"]: d["Value"] for d in stat.get("Dimensions", [])}
                found.append((stat["MetricName"], tuple(sorted(values)), values))
        for m in props.get("Metrics", []):
            found += _searched(m.get("Expression", ""))
    return found


def _searched(expression: str) -> Graphed:
    match = re.search(r"SEARCH\('\{BookingHub,([\w,]+)\} MetricName=\"(\w+)\"", expression)
    return [(match.group(2), tuple(sorted(match.group(1).split(","))), {})] if match else []


def test_the_dashboard_and_alarms_name_only_metrics_the_hub_emits(assembly: Assembly) -> None:
    """A renamed metric must not leave a graph or an alarm silently flat."""
    named = {name for name, _, _ in _graphed_hub_metrics(assembly)}
    assert named, "the dashboard shows none of the hub's own metrics"
    assert sorted(n for n in named if not _emitted_with(n)) == []


def test_graphs_and_alarms_read_the_dimensions_the_code_emits(assembly: Assembly) -> None:
    """CloudWatch matches a metric by its exact dimension set: a graph over dimensions the code does not
    publish (or with a value the allow-lists never give) stays flat without an error."""
    graphed = _graphed_hub_metrics(assembly)
    breakdowns = [name for name, dims, _ in graphed if dims == BREAKDOWN]
    assert breakdowns, "no graph breaks a hub metric down by function, provider and integration type"
    for name, dims, values in graphed:
        assert dims in _emitted_with(name), (name, dims, _emitted_with(name))
        assert values.get("service", "bookinghub") == "bookinghub"
        assert values.get("provider", "none") in PROVIDERS
        assert values.get("integration_type", "none") in INTEGRATION_TYPES


def test_hub_alarms_read_the_rollup_so_no_function_or_provider_escapes_them(assembly: Assembly) -> None:
    """An alarm on one function's or provider's series would miss the others: hub alarms read [service]."""
    alarmed = _alarm_hub_metrics(assembly)
    assert {name for name, _, _ in alarmed} >= {"PincodeFailed", "DeliveryAttempt", "DeliverySucceeded"}
    assert [(name, dims) for name, dims, _ in alarmed if dims != ROLLUP] == []
