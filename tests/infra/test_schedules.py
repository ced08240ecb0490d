"""Schedules: no topology function has one yet, so render one into a small stack of its own.

The stack's resources are resolved rather than synthesised: a first synth costs ~7 s of jsii start-up
here, and the values checked are the same.
"""

from __future__ import annotations

import json

from infra import topology


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
    assert json.loads(target["input"]) == {"mode": "full", "scope": "all"}
    function_id = stack.resolve(stack.get_logical_id(function.node.default_child))  # type: ignore[arg-type]
    assert target["arn"] == {"Fn::GetAtt": [function_id, "Arn"]}

    permissions = [c for c in stack.node.find_all() if isinstance(c, lambda_.CfnPermission)]
    assert [stack.resolve(p.principal) for p in permissions] == ["events.amazonaws.com"]
    assert stack.resolve(permissions[0].source_arn) == {
        "Fn::GetAtt": [stack.resolve(stack.get_logical_id(cfn_rule)), "Arn"]
    }
