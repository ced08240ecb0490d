"""CloudWatch for operators: one dashboard per stage and the alarms that page, all derived from the topology.

Nothing here lists a function, queue or table by hand: a new topology entry gets its graphs and alarms
without an edit here, and tests/infra fails if one does not. Every alarm notifies one SNS topic (email
subscription from the `alarmEmail` context value) and has a runbook entry in docs/operations.md, under
the heading of its `runbook` anchor (the alarm description carries the link).

Plain `aws_cloudwatch` rather than a construct library: the stack needs a few dozen metrics, which this
renders in one readable module, without another jsii package to pin against aws-cdk-lib.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import topology
from infra.cdk.api import RenderedApi
from infra.cdk.data import DataResources
from infra.cdk.functions import METRICS_NAMESPACE, SERVICE_NAME, RenderedFunction
from infra.cdk.naming import camel

RUNBOOK = "docs/operations.md"
PERIOD = Duration.minutes(5)
FUNCTION_ERROR_RATE_PERCENT = 5  # of invocations, over 5 minutes, twice in a row
API_5XX_RATE = 0.01  # 5XXError's average is the share of requests that answered 5xx
DELIVERY_SUCCESS_RATE_PERCENT = 95  # seed 003's success metric
# A property's incremental pull runs every 5 minutes: three missed runs is a stuck sync, not a slow one.
BEDS24_STALE_MINUTES = 20

# The hub's own metrics (Powertools, namespace BookingHub, dimension service=bookinghub), by dashboard row.
HUB_METRICS: dict[str, tuple[str, ...]] = {
    "Bookings synced from websites": (
        "BookingSyncCreated",
        "BookingSyncUpdated",
        "BookingSyncUnchanged",
        "BookingSyncIgnoredStale",
    ),
    "Pincodes (Stripe -> Rooms Event Hub)": ("RoomsCallSuccess", "RoomsCallError", "RoomsCallTimeout", "PincodeFailed"),
    "Beds24 runs and credit waits": (
        "Beds24SyncSucceeded",
        "Beds24SyncFailed",
        "Beds24SyncPostponed",
        "Beds24WebhookQueued",
    ),
    "Deliveries (sync back and subscriptions)": (
        "DeliveryAttempt",
        "DeliverySucceeded",
        "DeliveryRetryScheduled",
        "DeliveryFailed",
    ),
    "PMS syncs": ("PMSSyncItems", "PMSSyncFailures", "PMSRateLimitHits", "PMSMappingErrors"),
}


# The dimension set of bookinghub.core.observability.emit_metric's breakdown (beside the [service] rollup
# that HUB_METRICS and the alarms read). Its values are bounded by allow-lists, so a SEARCH over them
# draws one line per function, provider and integration type in use, and never more than a few dozen.
BREAKDOWN_DIMENSIONS = ("service", "function", "provider", "integration_type")
# Breakdown graphs: the metrics whose totals need a split by provider / integration type / function
HUB_BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "Deliveries by integration type and provider": ("DeliveryAttempt", "DeliveryFailed"),
    "Delivery response time p95 (ms) by integration type": ("DeliveryResponseTime",),
    "PMS syncs by provider": ("PMSSyncItems", "PMSSyncFailures", "PMSRateLimitHits"),
    "Integration failures by provider": (
        "RoomsCallError",
        "RoomsCallTimeout",
        "PincodeFailed",
        "Beds24SyncFailed",
        "Beds24AuthFailed",
    ),
    "Bookings synced by function": ("BookingSyncCreated", "BookingSyncUpdated"),
}
_PERCENTILE_BREAKDOWNS = {"DeliveryResponseTime"}


@dataclass(frozen=True)
class RenderedMonitoring:
    topic: sns.Topic
    dashboard: cw.Dashboard
    alarms: dict[str, cw.Alarm]  # alarm construct id -> alarm


def hub_metric(name: str, statistic: str = "Sum") -> cw.Metric:
    return cw.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE_NAME},
        statistic=statistic,
        period=PERIOD,
    )


def hub_breakdown(name: str, statistic: str = "Sum") -> cw.MathExpression:
    """Every series of one hub metric under the breakdown dimensions (one line per combination in use)."""
    schema = ",".join((METRICS_NAMESPACE, *sorted(BREAKDOWN_DIMENSIONS)))
    search = f"SEARCH('{{{schema}}} MetricName=\"{name}\"', '{statistic}', {PERIOD.to_seconds()})"
    # Dynamic labels: each line names its own provider, integration type and function
    label = f"{name} ${{PROP('Dim.provider')}} ${{PROP('Dim.integration_type')}} ${{PROP('Dim.function')}}"
    return cw.MathExpression(expression=search, label=label, period=PERIOD)


class _Alarms:
    """Alarms with the same topic action and a runbook link in their description."""

    def __init__(self, scope: Construct, topic: sns.Topic, stage: str) -> None:
        self.scope, self.stage = scope, stage
        self.action = cw_actions.SnsAction(topic)
        self.made: dict[str, cw.Alarm] = {}

    def add(
        self,
        construct_id: str,
        metric: cw.IMetric,
        *,
        threshold: float,
        what: str,
        runbook: str,
        evaluation_periods: int = 1,
        comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING,
    ) -> cw.Alarm:
        alarm = cw.Alarm(
            self.scope,
            f"{construct_id}Alarm",
            alarm_name=f"bookinghub-{self.stage}-{construct_id}",
            alarm_description=f"{what} Runbook: {RUNBOOK}#{runbook}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=comparison,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(self.action)
        alarm.add_ok_action(self.action)
        self.made[construct_id] = alarm
        return alarm


def build_topic(scope: Construct, stage: str, alarm_email: str | None) -> sns.Topic:
    # CloudWatch must be able to use the key to publish: an AWS-managed SNS key does not allow that.
    key = kms.Key(scope, "AlarmTopicKey", description=f"bookinghub alarm topic ({stage})", enable_key_rotation=True)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            resources=["*"],  # a key policy's resource is the key itself
        )
    )
    topic = sns.Topic(scope, "AlarmTopic", topic_name=f"bookinghub-{stage}-alarms", master_key=key, enforce_ssl=True)
    if alarm_email:
        topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
    return topic


def _function_metrics(rendered: RenderedFunction) -> dict[str, cw.IMetric]:
    fn = rendered.function
    return {
        "errors": fn.metric_errors(period=PERIOD, statistic="Sum"),
        "invocations": fn.metric_invocations(period=PERIOD, statistic="Sum"),
        "throttles": fn.metric_throttles(period=PERIOD, statistic="Sum"),
        "p50": fn.metric_duration(period=PERIOD, statistic="p50"),
        "p95": fn.metric_duration(period=PERIOD, statistic="p95"),
        "p99": fn.metric_duration(period=PERIOD, statistic="p99"),
        "concurrency": fn.metric("ConcurrentExecutions", period=PERIOD, statistic="Maximum"),
    }


def _error_rate(rendered: RenderedFunction) -> cw.MathExpression:
    metrics = _function_metrics(rendered)
    return cw.MathExpression(
        expression="IF(invocations > 0, 100 * errors / invocations, 0)",
        using_metrics={"errors": metrics["errors"], "invocations": metrics["invocations"]},
        label=f"{rendered.spec.name} error rate %",
        period=PERIOD,
    )


def _queue_metrics(queue: sqs.IQueue) -> tuple[cw.Metric, cw.Metric]:
    depth = queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
    age = queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum")
    return depth, age


def route_groups(functions: Iterable[RenderedFunction]) -> list[tuple[str, RenderedFunction]]:
    """One group per function that serves routes, labelled by the paths it serves."""
    groups = []
    for rendered in functions:
        paths = sorted({route.path for route in rendered.spec.routes})
        if paths:
            shown = ", ".join(paths[:3]) + (f" (+{len(paths) - 3})" if len(paths) > 3 else "")
            groups.append((f"{rendered.spec.name}: {shown}", rendered))
    return groups


def _api_group_metric(api: RenderedApi, rendered: RenderedFunction, metric: str, statistic: str) -> cw.MathExpression:
    """The stage's per-method metric (detailed metrics are on) summed over one function's routes."""
    resources = " OR ".join(f'Resource="{path}"' for path in sorted({r.path for r in rendered.spec.routes}))
    stage = api.api.deployment_stage.stage_name
    search = (
        f'SEARCH(\'{{AWS/ApiGateway,ApiName,Method,Resource,Stage}} MetricName="{metric}" '
        f'ApiName="{api.api.rest_api_name}" Stage="{stage}" ({resources})\', \'{statistic}\', {PERIOD.to_seconds()})'
    )
    aggregate = "SUM" if statistic == "Sum" else "MAX"
    return cw.MathExpression(expression=f"{aggregate}({search})", label=f"{metric} {statistic}", period=PERIOD)


def _graph(
    title: str, metrics: Sequence[cw.IMetric], *, width: int = 8, right: Sequence[cw.IMetric] = ()
) -> cw.GraphWidget:
    return cw.GraphWidget(title=title, left=list(metrics), right=list(right), width=width, height=6)


def build_monitoring(
    scope: Construct,
    *,
    stage: str,
    data: DataResources,
    functions: dict[str, RenderedFunction],
    api: RenderedApi,
    alarm_email: str | None,
) -> RenderedMonitoring:
    topic = build_topic(scope, stage, alarm_email)
    alarms = _Alarms(scope, topic, stage)
    dashboard = cw.Dashboard(scope, "Dashboard", dashboard_name=f"bookinghub-{stage}")

    # --- API ----------------------------------------------------------------------------------------
    rest = api.api
    dashboard.add_widgets(
        cw.TextWidget(markdown=f"# bookinghub {stage}\nAlarms and what to do: `{RUNBOOK}`.", width=24, height=2)
    )
    dashboard.add_widgets(
        _graph(
            "API requests, 4xx, 5xx",
            [rest.metric_count(period=PERIOD)],
            right=[rest.metric_client_error(period=PERIOD), rest.metric_server_error(period=PERIOD)],
        ),
        _graph(
            "API latency p50/p95/p99 (ms)",
            [rest.metric_latency(period=PERIOD, statistic=s) for s in ("p50", "p95", "p99")],
        ),
        _graph("API integration latency p95 (ms)", [rest.metric_integration_latency(period=PERIOD, statistic="p95")]),
    )
    alarms.add(
        "Api5xxRate",
        rest.metric_server_error(period=PERIOD, statistic="Average"),
        threshold=API_5XX_RATE,
        evaluation_periods=2,
        what=f"More than {API_5XX_RATE:.0%} of API requests answered 5xx for 10 minutes.",
        runbook="api-5xx-rate",
    )
    groups = route_groups(functions.values())
    dashboard.add_widgets(
        *[
            _graph(
                f"Routes of {label}",
                [_api_group_metric(api, rendered, "Count", "Sum")],
                right=[
                    _api_group_metric(api, rendered, "4XXError", "Sum"),
                    _api_group_metric(api, rendered, "5XXError", "Sum"),
                ],
            )
            for label, rendered in groups
        ]
    )
    dashboard.add_widgets(
        *[
            _graph(f"Latency p95 (ms) of {label}", [_api_group_metric(api, rendered, "Latency", "p95")])
            for label, rendered in groups
        ]
    )

    # --- Functions ----------------------------------------------------------------------------------
    for rendered in functions.values():
        name = rendered.spec.name
        metrics = _function_metrics(rendered)
        dashboard.add_widgets(
            _graph(
                f"{name}: invocations, errors, throttles",
                [metrics["invocations"]],
                width=6,
                right=[metrics["errors"], metrics["throttles"]],
            ),
            _graph(f"{name}: duration p50/p95/p99 (ms)", [metrics["p50"], metrics["p95"], metrics["p99"]], width=6),
            _graph(f"{name}: concurrency", [metrics["concurrency"]], width=6),
            _graph(f"{name}: error rate %", [_error_rate(rendered)], width=6),
        )
        alarms.add(
            f"{camel(name)}ErrorRate",
            _error_rate(rendered),
            threshold=FUNCTION_ERROR_RATE_PERCENT,
            evaluation_periods=2,
            what=f"{name}: more than {FUNCTION_ERROR_RATE_PERCENT}% of invocations failed for 10 minutes.",
            runbook="function-error-rate",
        )
        if rendered.stream_failures is not None:
            depth, _ = _queue_metrics(rendered.stream_failures)
            alarms.add(
                f"{camel(name)}StreamFailures",
                depth,
                threshold=1,
                what=f"{name} gave up on a batch of stream records (their positions are in this queue).",
                runbook="stream-failures",
            )

    # --- Queues and their DLQs ------------------------------------------------------------------------
    for spec in topology.QUEUES:
        pair = data.queues[spec.name]
        depth, age = _queue_metrics(pair.queue)
        dlq_depth, _ = _queue_metrics(pair.dlq)
        dashboard.add_widgets(
            _graph(f"{spec.name}: depth", [depth], right=[age]),
            _graph(f"{spec.name} DLQ: depth", [dlq_depth]),
        )
        alarms.add(
            f"{spec.name}DlqNotEmpty",
            dlq_depth,
            threshold=1,
            what=f"Messages reached the {spec.name} dead-letter queue: they were not processed.",
            runbook="dlq-not-empty",
        )
        budget = topology.age_budget_seconds(spec)
        alarms.add(
            f"{spec.name}OldestMessageAge",
            age,
            threshold=budget,
            evaluation_periods=2,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            what=f"The oldest {spec.name} message is older than {budget // 60} minutes: its consumer is stuck.",
            runbook="queue-oldest-message-age",
        )

    # --- Tables -------------------------------------------------------------------------------------
    dashboard.add_widgets(
        *[
            _graph(
                f"{name} table: throttled requests",
                [
                    cw.Metric(
                        namespace="AWS/DynamoDB",
                        metric_name=metric,
                        dimensions_map={"TableName": table.table_name},
                        statistic="Sum",
                        period=PERIOD,
                    )
                    for metric in ("ReadThrottleEvents", "WriteThrottleEvents")
                ],
            )
            for name, table in data.tables.items()
        ]
    )

    # --- The hub's own metrics ----------------------------------------------------------------------
    dashboard.add_widgets(
        *[_graph(title, [hub_metric(name) for name in names], width=6) for title, names in HUB_METRICS.items()]
    )
    dashboard.add_widgets(
        *[
            _graph(title, [hub_breakdown(name, "p95" if name in _PERCENTILE_BREAKDOWNS else "Sum") for name in names])
            for title, names in HUB_BREAKDOWNS.items()
        ]
    )
    alarms.add(
        "PincodeFailures",
        hub_metric("PincodeFailed"),
        threshold=1,
        what="A pass's door pincode could not be obtained from the Rooms Event Hub after its retries.",
        runbook="pincode-failures",
    )
    alarms.add(
        "Beds24SyncStale",
        hub_metric("Beds24SyncStalenessMinutes", statistic="Maximum"),
        threshold=BEDS24_STALE_MINUTES,
        evaluation_periods=2,
        comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        what=f"A Beds24 property's last successful pull is more than {BEDS24_STALE_MINUTES} minutes old.",
        runbook="beds24-sync-stale",
    )
    # Per attempt (seed 003's success rate): a retried delivery counts each of its attempts
    attempts, succeeded = hub_metric("DeliveryAttempt"), hub_metric("DeliverySucceeded")
    success_rate = cw.MathExpression(
        expression="IF(attempts > 0, 100 * succeeded / attempts, 100)",
        using_metrics={"attempts": attempts, "succeeded": succeeded},
        label="delivery success rate %",
        period=PERIOD,
    )
    dashboard.add_widgets(_graph("Delivery success rate %", [success_rate], width=6))
    alarms.add(
        "DeliverySuccessRate",
        success_rate,
        threshold=DELIVERY_SUCCESS_RATE_PERCENT,
        evaluation_periods=3,
        comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
        what=f"Fewer than {DELIVERY_SUCCESS_RATE_PERCENT}% of webhook attempts succeeded for 15 minutes.",
        runbook="delivery-success-rate",
    )
    return RenderedMonitoring(topic=topic, dashboard=dashboard, alarms=alarms.made)
