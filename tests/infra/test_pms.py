"""The PMS module's stack resources: its bus (archive, rules to their queues, publishers) and the hotels'
sync schedules' group, the role the schedules run as, and what their managers may do (least privilege)."""

from __future__ import annotations

from typing import Any

from infra.cdk.naming import dlq_id, function_id, queue_id
from infra.topology.pms import HOTEL_SCHEDULES, PMS_EVENT_BUS
from tests.infra.conftest import Assembly

GROUP = "bookinghub-test-pms-hotels"
SCHEDULES_ARN = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":scheduler:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            f":schedule/{GROUP}/*",
        ],
    ]
}


def statements_of_role(assembly: Assembly, role_id: str) -> list[dict[str, Any]]:
    found = []
    for logical_id in assembly.resources("AWS::IAM::Policy"):
        props = assembly.props(logical_id)
        if {"Ref": role_id} in props["Roles"]:
            found += props["PolicyDocument"]["Statement"]
    return found


def role_of(assembly: Assembly, function: str) -> str:
    return str(assembly.props(function_id(function))["Role"]["Fn::GetAtt"][0])


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement["Action"]
    return [value] if isinstance(value, str) else list(value)


def test_pms_bus_archive_and_publishers(assembly: Assembly) -> None:
    (bus_id,) = assembly.resources("AWS::Events::EventBus")
    (archive,) = (assembly.props(i) for i in assembly.resources("AWS::Events::Archive"))
    assert archive["EventPattern"] == {"source": [PMS_EVENT_BUS.source]}
    assert archive["RetentionDays"] == 90
    for name in PMS_EVENT_BUS.publishers:
        env = assembly.props(function_id(name))["Environment"]["Variables"]
        assert env[PMS_EVENT_BUS.env_var] == {"Ref": bus_id}
    policies = " ".join(str(assembly.props(i)) for i in assembly.resources("AWS::IAM::Policy"))
    assert "events:PutEvents" in policies
    # The webhook edge never publishes (it only stores and queues)
    webhook_env = assembly.props(function_id("pms_webhook"))["Environment"]["Variables"]
    assert PMS_EVENT_BUS.env_var not in webhook_env


def test_each_bus_rule_delivers_its_events_to_its_queue_and_only_it_may_send(assembly: Assembly) -> None:
    (bus_id,) = assembly.resources("AWS::Events::EventBus")
    rules = {
        k: assembly.props(k)
        for k, v in assembly.resources("AWS::Events::Rule").items()
        if "EventBusName" in v["Properties"]
    }
    assert len(rules) == len(PMS_EVENT_BUS.rules)
    for spec in PMS_EVENT_BUS.rules:
        rule_id, rule = next((k, r) for k, r in rules.items() if k.startswith(f"{spec.name}Rule"))
        assert rule["EventBusName"] == {"Ref": bus_id}
        assert rule["EventPattern"] == PMS_EVENT_BUS.pattern(spec)
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [queue_id(spec.queue), "Arn"]}
        policy = next(
            assembly.props(k)["PolicyDocument"]
            for k in assembly.resources("AWS::SQS::QueuePolicy")
            if assembly.props(k)["Queues"] == [{"Ref": queue_id(spec.queue)}]
        )
        (allow,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
        assert allow["Principal"] == {"Service": "events.amazonaws.com"}
        assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


def test_the_hotels_schedule_group_and_the_role_its_schedules_run_as(assembly: Assembly) -> None:
    (group,) = (assembly.props(i) for i in assembly.resources("AWS::Scheduler::ScheduleGroup"))
    assert group["Name"] == GROUP
    # No schedule in the template: hotels' schedules are made at run time, one per hotel
    assert assembly.resources("AWS::Scheduler::Schedule") == {}
    (role_id,) = [
        k for k in assembly.resources("AWS::IAM::Role") if k.startswith(f"{HOTEL_SCHEDULES.name}SchedulerRole")
    ]
    (trust,) = assembly.props(role_id)["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": SCHEDULES_ARN},
    }
    assert "ManagedPolicyArns" not in assembly.props(role_id)
    target = {"Fn::GetAtt": [queue_id(HOTEL_SCHEDULES.target_queue), "Arn"]}
    dead_letters = {"Fn::GetAtt": [dlq_id(HOTEL_SCHEDULES.target_queue), "Arn"]}
    # The target queue, and its DLQ for a fire Scheduler gives up on (the schedules' DeadLetterConfig)
    assert statements_of_role(assembly, role_id) == [
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": [dead_letters, target]}
    ]


def test_the_managers_may_manage_the_groups_schedules_and_pass_that_role_to_scheduler_only(assembly: Assembly) -> None:
    (role_id,) = [
        k for k in assembly.resources("AWS::IAM::Role") if k.startswith(f"{HOTEL_SCHEDULES.name}SchedulerRole")
    ]
    for name in HOTEL_SCHEDULES.managers:
        statements = statements_of_role(assembly, role_of(assembly, name))
        scheduler = [s for s in statements if any(a.startswith("scheduler:") for a in actions(s))]
        scoped = [s for s in scheduler if s["Resource"] != "*"]
        (one,) = scoped
        assert sorted(actions(one)) == [
            "scheduler:CreateSchedule",
            "scheduler:DeleteSchedule",
            "scheduler:GetSchedule",
            "scheduler:UpdateSchedule",
        ]
        assert one["Resource"] == SCHEDULES_ARN
        (passing,) = [s for s in statements if "iam:PassRole" in actions(s)]
        assert passing["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
        assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}
        env = assembly.props(function_id(name))["Environment"]["Variables"]
        assert env[HOTEL_SCHEDULES.group_env_var] == GROUP
        assert env[HOTEL_SCHEDULES.role_env_var] == {"Fn::GetAtt": [role_id, "Arn"]}
        assert env[HOTEL_SCHEDULES.target_env_var] == {"Fn::GetAtt": [queue_id(HOTEL_SCHEDULES.target_queue), "Arn"]}
        assert env[HOTEL_SCHEDULES.dead_letter_env_var] == {"Fn::GetAtt": [dlq_id(HOTEL_SCHEDULES.target_queue), "Arn"]}
    # Listing (no resource-level permission) only for the reconcile pass
    unscoped = {
        name: [
            a for s in statements_of_role(assembly, role_of(assembly, name)) if s["Resource"] == "*" for a in actions(s)
        ]
        for name in HOTEL_SCHEDULES.managers
    }
    assert "scheduler:ListSchedules" in unscoped["pms_scheduler"]
    assert "scheduler:ListSchedules" not in unscoped["pms_admin"]
    # No other function may pass the schedules' role
    passing_roles = [
        ref["Ref"]
        for k in assembly.resources("AWS::IAM::Policy")
        for s in assembly.props(k)["PolicyDocument"]["Statement"]
        if "iam:PassRole" in actions(s) and s["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
        for ref in assembly.props(k)["Roles"]
    ]
    assert sorted(passing_roles) == sorted(role_of(assembly, name) for name in HOTEL_SCHEDULES.managers)
