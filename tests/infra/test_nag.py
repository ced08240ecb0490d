"""cdk-nag AwsSolutions: no unsuppressed error, and every suppression narrow and explained."""

from __future__ import annotations

from typing import Any

from infra import topology
from infra.cdk import nag
from infra.cdk.naming import secret_id
from tests.infra.conftest import Assembly

# A new kind of suppression is a design decision: it must be added here on purpose, with review.
EXPECTED_SUPPRESSED_RULES = {
    "AwsSolutions-APIG4",  # routes authenticate inside the function (topology Route.auth)
    "AwsSolutions-COG4",
    "AwsSolutions-IAM5",  # X-Ray / ListStreams "*", GSI "/index/*", API Gateway account logging role
    "AwsSolutions-L1",  # python3.13 is the pinned runtime of the layer build
    "AwsSolutions-SQS3",  # stream on-failure destinations are DLQs themselves
    "AwsSolutions-SMG4",  # operator-set secrets rotate at their source (Stripe's dashboard)
}


def _suppressions(assembly: Assembly) -> list[tuple[str, dict[str, Any]]]:
    return [
        (logical_id, rule)
        for logical_id, resource in assembly.template["Resources"].items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]


def test_aws_solutions_checks_ran(assembly: Assembly) -> None:
    assert any(rule["id"].startswith("AwsSolutions-") for _, rule in _suppressions(assembly))
    assert any(path.name.startswith("AwsSolutions-") for path in assembly.outdir.iterdir())  # the nag report


def test_no_unsuppressed_nag_error(assembly: Assembly) -> None:
    errors = [(path, text) for kind, path, text in assembly.messages if kind == "aws:cdk:error"]
    assert errors == []


def test_suppressed_rules_are_the_expected_ones(assembly: Assembly) -> None:
    assert {rule["id"] for _, rule in _suppressions(assembly)} == EXPECTED_SUPPRESSED_RULES


def test_every_suppression_has_a_specific_reason(assembly: Assembly) -> None:
    for logical_id, rule in _suppressions(assembly):
        assert len(rule.get("reason", "")) >= 60, (logical_id, rule)


def test_wildcard_suppressions_name_the_wildcards_they_excuse(assembly: Assembly) -> None:
    iam5 = [(logical_id, rule) for logical_id, rule in _suppressions(assembly) if rule["id"] == "AwsSolutions-IAM5"]
    assert iam5
    for logical_id, rule in iam5:
        applies_to = rule.get("applies_to")
        assert applies_to, f"{logical_id}: IAM5 suppressed for every wildcard, not named ones"
        for finding in applies_to:
            # GSIs, logging role, WebSocket connections, the PMS hotels' schedule group (schedules made at run time)
            named = ("/index/*", ":log-group:*", "/@connections/*", "-pms-hotels/*")
            assert finding in ("Resource::*",) or finding.endswith(named), finding


def test_rotation_is_suppressed_only_on_the_topology_secrets(assembly: Assembly) -> None:
    rotation = {logical_id for logical_id, rule in _suppressions(assembly) if rule["id"] == "AwsSolutions-SMG4"}
    assert rotation == {secret_id(s.name) for s in topology.SECRETS}
    assert set(nag.SECRET_ROTATION) == {s.name for s in topology.SECRETS}


def test_every_route_declares_how_it_authenticates() -> None:
    for route, spec in topology.all_routes():
        assert route.auth is not None, f"{route.method} {route.path} ({spec.name}) has no auth kind"
        assert route.auth == "cognito" or route.auth in nag.ROUTE_AUTHENTICATION
