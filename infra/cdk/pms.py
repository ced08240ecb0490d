"""The PMS module's EventBridge parts (infra/topology/pms.py), rendered after the functions:

- the bus (PMS_EVENT_BUS): an archive of every event, one rule per BusRule delivering to its queue,
  PutEvents for the publishers;
- the hotels' sync schedules (HOTEL_SCHEDULES): the schedule group the admin API makes one schedule per
  hotel in, the role those schedules run as (sqs:SendMessage on the PMSSync queue, nothing else), and
  for the managers exactly the scheduler actions they call on that group's schedules, and iam:PassRole
  of that one role to Scheduler only.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.cdk.data import DataResources
from infra.cdk.functions import RenderedFunction
from infra.topology.pms import HOTEL_SCHEDULES, PMS_EVENT_BUS

SCHEDULER = "scheduler.amazonaws.com"
# What pms/dal/schedules.py calls on one schedule; ListSchedules (the reconcile) has no resource type
SCHEDULE_ACTIONS = [
    "scheduler:CreateSchedule",
    "scheduler:UpdateSchedule",
    "scheduler:DeleteSchedule",
    "scheduler:GetSchedule",
]


@dataclass(frozen=True)
class RenderedPms:
    bus: events.EventBus
    rules: dict[str, events.Rule]
    schedule_group: scheduler.CfnScheduleGroup
    schedule_role: iam.Role


def build_pms(
    scope: Construct, functions: dict[str, RenderedFunction], data: DataResources, *, stage: str
) -> RenderedPms:
    bus, rules = build_pms_bus(scope, functions, data, stage=stage)
    group, role = build_hotel_schedules(scope, functions, data, stage=stage)
    return RenderedPms(bus=bus, rules=rules, schedule_group=group, schedule_role=role)


def build_pms_bus(
    scope: Construct, functions: dict[str, RenderedFunction], data: DataResources, *, stage: str
) -> tuple[events.EventBus, dict[str, events.Rule]]:
    spec = PMS_EVENT_BUS
    bus = events.EventBus(scope, f"{spec.name}Bus", event_bus_name=f"bookinghub-{stage}-pms-events")
    # Every PMS event kept 90 days (EventBridge archive: replayable to a consumer added later). An archive
    # rather than a log-group target, which would need a custom-resource Lambda with wildcard permissions.
    bus.archive(
        f"{spec.name}Archive",
        description="pms.sync.completed and pms.booking.synced, replayable",
        event_pattern=events.EventPattern(source=[spec.source]),
        retention=Duration.days(90),
    )
    rules = {}
    for rule_spec in spec.rules:
        pattern = spec.pattern(rule_spec)
        rule = events.Rule(
            scope,
            f"{rule_spec.name}Rule",
            event_bus=bus,
            description=f"{', '.join(rule_spec.detail_types)} -> {rule_spec.queue}",
            event_pattern=events.EventPattern(source=pattern["source"], detail_type=pattern["detail-type"]),
        )
        # The queue's policy lets this rule (aws:SourceArn) send to it; the queue is SSE-SQS, no key grant
        rule.add_target(targets.SqsQueue(data.queues[rule_spec.queue].queue))
        rules[rule_spec.name] = rule
    for name in spec.publishers:
        function = functions[name].function
        bus.grant_put_events_to(function)
        function.add_environment(spec.env_var, bus.event_bus_name)
    return bus, rules


def build_hotel_schedules(
    scope: Construct, functions: dict[str, RenderedFunction], data: DataResources, *, stage: str
) -> tuple[scheduler.CfnScheduleGroup, iam.Role]:
    spec = HOTEL_SCHEDULES
    stack = Stack.of(scope)
    group_name = f"bookinghub-{stage}-pms-hotels"
    group = scheduler.CfnScheduleGroup(scope, f"{spec.name}ScheduleGroup", name=group_name)
    schedules_arn = stack.format_arn(service="scheduler", resource="schedule", resource_name=f"{group_name}/*")
    target = data.queues[spec.target_queue].queue
    dead_letters = data.queues[spec.target_queue].dlq
    role = iam.Role(
        scope,
        f"{spec.name}SchedulerRole",
        description="EventBridge Scheduler: hotels' sync schedules send their fire to the PMSSync queue",
        # Only schedules of this account's group may assume it (the confused-deputy guard AWS documents)
        assumed_by=iam.ServicePrincipal(SCHEDULER).with_conditions(
            {"StringEquals": {"aws:SourceAccount": stack.account}, "ArnLike": {"aws:SourceArn": schedules_arn}}
        ),
    )
    role.add_to_policy(
        iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[target.queue_arn, dead_letters.queue_arn])
    )
    for name in spec.managers:
        rendered = functions[name]
        rendered.function.add_to_role_policy(iam.PolicyStatement(actions=SCHEDULE_ACTIONS, resources=[schedules_arn]))
        rendered.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": SCHEDULER}},
            )
        )
        rendered.function.add_environment(spec.group_env_var, group_name)
        rendered.function.add_environment(spec.role_env_var, role.role_arn)
        rendered.function.add_environment(spec.target_env_var, target.queue_arn)
        rendered.function.add_environment(spec.dead_letter_env_var, dead_letters.queue_arn)
        _suppress_schedule_wildcard(rendered, group_name)
    # Only the reconcile pass lists the group (ListSchedules supports no resource-level permission)
    reconciler = functions["pms_scheduler"]
    reconciler.function.add_to_role_policy(iam.PolicyStatement(actions=["scheduler:ListSchedules"], resources=["*"]))
    NagSuppressions.add_resource_suppressions(
        reconciler.role,
        [
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason=(
                    "scheduler:ListSchedules has no resource type in IAM (it cannot be scoped to a group): the "
                    "reconcile pass lists the PMS hotels' group by name and only reads the schedule summaries."
                ),
                applies_to=["Resource::*"],
            )
        ],
        apply_to_children=True,
    )
    return group, role


def _suppress_schedule_wildcard(rendered: RenderedFunction, group_name: str) -> None:
    # cdk-nag names the finding by the ARN as synthesised (partition, region and account as tokens)
    resource = f"Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/{group_name}/*"
    NagSuppressions.add_resource_suppressions(
        rendered.role,
        [
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason=(
                    "Hotels' sync schedules are created at run time, one per hotel (named by its slug), so "
                    "their ARNs are not known at deploy time: the grant is scoped to the PMS hotels' schedule "
                    "group (schedule/<group>/*) and to the four actions pms/dal/schedules.py calls."
                ),
                applies_to=[resource],
            )
        ],
        apply_to_children=True,
    )
