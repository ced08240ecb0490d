"""Schedules: the rendering of one (in a small stack of its own, resolved rather than synthesised: a
first synth costs ~7 s of jsii start-up here), and the deployed stack's Beds24 pull-sync schedules."""

from __future__ import annotations

import json
import re

from infra import topology
from infra.cdk.naming import function_id
from tests.infra.conftest import Assembly


def test_schedule_becomes_a_rule_with_constant_input() -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_events as events
    from aws_cdk import aws_lambda as lambda_

    from infra.cdk.functions import add_schedules

    spec = topology.Function(
        name="nightly_sync",
        description="test function",
        schedules=(topology.Schedule("full-sync", "cron(0 3 * * ? *)", (("mode", "full"), ("scope", "all"))),),
    )
    stack = Stack(App(), "Schedules")
    function = lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
    )
    (rule,) = add_schedules(stack, spec, function)

    cfn_rule = rule.node.default_child
    assert isinstance(cfn_rule, events.CfnRule)
    assert stack.resolve(cfn_rule.schedule_expression) == "cron(0 3 * * ? *)"
    assert stack.resolve(cfn_rule.state) == "ENABLED"
    (target,) = stack.resolve(cfn_rule.targets)
    # The whole scheduled event with the payload as detail: the shape the local scheduler sends too
    transformer = target["inputTransformer"]
    # Placeholders are unquoted JSON values (EventBridge substitutes them as JSON); quote them to parse
    template = json.loads(re.sub(r"<([\w-]+)>", r'"<\1>"', transformer["inputTemplate"]))
    assert template["detail"] == topology.schedule_detail(spec.schedules[0]) == {"mode": "full", "scope": "all"}
    assert template["detail-type"] == "<detail-type>"
    assert set(transformer["inputPathsMap"].values()) >= {"$.id", "$.time", "$.region", "$.resources", "$.version"}
    function_id = stack.resolve(stack.get_logical_id(function.node.default_child))  # type: ignore[arg-type]
    assert target["arn"] == {"Fn::GetAtt": [function_id, "Arn"]}

    permissions = [c for c in stack.node.find_all() if isinstance(c, lambda_.CfnPermission)]
    assert [stack.resolve(p.principal) for p in permissions] == ["events.amazonaws.com"]
    assert stack.resolve(permissions[0].source_arn) == {
        "Fn::GetAtt": [stack.resolve(stack.get_logical_id(cfn_rule)), "Arn"]
    }


def test_beds24_pulls_every_5_minutes_and_checks_the_daily_full_sync_hourly(assembly: Assembly) -> None:
    target_function = function_id("beds24_scheduler")
    found = {}
    for rule in assembly.resources("AWS::Events::Rule").values():
        props = rule["Properties"]
        (target,) = props["Targets"]
        if target["Arn"] == {"Fn::GetAtt": [target_function, "Arn"]}:
            template = json.loads(re.sub(r"<([\w-]+)>", r'"<\1>"', target["InputTransformer"]["InputTemplate"]))
            found[props["ScheduleExpression"]] = template["detail"]
            assert props["State"] == "ENABLED"
    assert found == {"rate(5 minutes)": {"mode": "incremental"}, "cron(0 * * * ? *)": {"mode": "full"}}
    # EventBridge may invoke the scheduler, and nothing else is allowed to
    permissions = [
        p["Properties"]
        for p in assembly.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [target_function, "Arn"]}
    ]
    assert len(permissions) == 2
    assert {p["Principal"] for p in permissions} == {"events.amazonaws.com"}
