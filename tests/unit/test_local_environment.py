"""What the functions see under `make run` (infra.local.aws_env) and what the banner tells a developer."""

from __future__ import annotations

import os

import pytest

from infra import topology
from infra.local import aws_env
from infra.local.banner import BannerInfo, render, sample_payment_intent
from infra.local.demo import SeededWebsite
from infra.local.sandbox.send_stripe_event import LOCAL_DEMO_SECRET
from infra.local.sandboxes import ROOMS_EVENT_HUB, SANDBOXES


def test_stripe_secret_is_the_demo_value_unless_the_developer_sets_one() -> None:
    producer = {"DELIVERY_PRODUCER_SECRET": "local-demo-producer-secret"}
    assert aws_env.local_secret_values({}) == {"STRIPE_WEBHOOK_SECRET": LOCAL_DEMO_SECRET, **producer}
    assert LOCAL_DEMO_SECRET == "whsec_local_demo_stripe"
    own = {"STRIPE_WEBHOOK_SECRET": "whsec_mine", "DELIVERY_PRODUCER_SECRET": "mine"}
    assert aws_env.local_secret_values(own) == own
    assert aws_env.local_secret_values({"STRIPE_WEBHOOK_SECRET": ""}) == {
        "STRIPE_WEBHOOK_SECRET": LOCAL_DEMO_SECRET,
        **producer,
    }


def test_every_topology_secret_needs_a_local_demo_value(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = topology.Secret(name="OtherSecret", env_var="OTHER_ARN", local_env_var="OTHER", description="test")
    monkeypatch.setattr(topology, "SECRETS", (*topology.SECRETS, extra))
    with pytest.raises(ValueError, match="OtherSecret"):
        aws_env.local_secret_values({})


def test_functions_get_the_secret_value_and_every_functions_own_environment() -> None:
    env = aws_env.function_environment({"BOOKINGS_TABLE_NAME": "t"}, secrets=aws_env.local_secret_values({}))
    assert env["STRIPE_WEBHOOK_SECRET"] == LOCAL_DEMO_SECRET
    assert "STRIPE_WEBHOOK_SECRET_ARN" not in env  # the value is passed locally, not an ARN
    for fn in topology.FUNCTIONS:
        for name, value in fn.environment:
            assert env[name] == value, fn.name
    assert env["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"  # passes' answers carry pincodes


def test_functions_that_disagree_on_a_variable_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # They share one interpreter locally, so one value must serve both.
    other = topology.Function(
        name="other", description="test", environment=(("POWERTOOLS_TRACER_CAPTURE_RESPONSE", "true"),)
    )
    monkeypatch.setattr(topology, "FUNCTIONS", (*topology.FUNCTIONS, other))
    with pytest.raises(ValueError, match="POWERTOOLS_TRACER_CAPTURE_RESPONSE"):
        aws_env.function_environment({})


def test_a_secret_arn_in_the_shell_is_removed_and_put_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:real")
    patch = aws_env.EnvPatch()
    patch.remove_unsafe()
    assert "STRIPE_WEBHOOK_SECRET_ARN" not in os.environ
    patch.restore()
    assert os.environ["STRIPE_WEBHOOK_SECRET_ARN"] == "arn:aws:secretsmanager:eu-west-1:1:secret:real"


def test_rooms_sandbox_is_listed_with_its_port_setting_and_seed() -> None:
    assert ROOMS_EVENT_HUB in SANDBOXES
    assert (ROOMS_EVENT_HUB.name, ROOMS_EVENT_HUB.port_env, ROOMS_EVENT_HUB.default_port) == (
        "rooms-event-hub",
        "HUB_ROOMS_PORT",
        4100,
    )
    assert ROOMS_EVENT_HUB.seed is not None
    assert len({s.port_env for s in SANDBOXES}) == len({s.default_port for s in SANDBOXES}) == len(SANDBOXES)


def _banner(stripe_secret: str | None) -> str:
    site = SeededWebsite("test-website", "Test Website", "test_sk_xxxxx", "whsec_local_demo_test-website", None)
    return render(
        BannerInfo(
            gateway_url="http://127.0.0.1:3000",
            aws_url="http://127.0.0.1:5000",
            sandboxes=[("rooms-event-hub", "http://127.0.0.1:4100", "Rooms")],
            websites=[site],
            schedules=[],
            startup_seconds=1.0,
            stripe_webhook_secret=stripe_secret,
            rooms_url="http://127.0.0.1:4100",
        )
    )


def test_banner_shows_how_to_pay_and_read_the_pass_back() -> None:
    banner = _banner(LOCAL_DEMO_SECRET)
    assert f"{LOCAL_DEMO_SECRET}   (LOCAL DEMO value" in banner
    assert "Rooms Event Hub  http://127.0.0.1:4100" in banner
    assert ".venv/bin/python -m infra.local.sandbox.send_stripe_event --gateway http://127.0.0.1:3000" in banner
    assert sample_payment_intent() == "pi_3SampleIntent0001"
    assert (
        "curl -sS 'http://127.0.0.1:3000/api/passes?payment_intent=pi_3SampleIntent0001' -H 'X-API-Key: test_sk_xxxxx'"
        in banner
    )


def test_banner_never_shows_a_secret_the_developer_set() -> None:
    banner = _banner(None)
    assert "whsec_" not in banner.replace("whsec_local_demo_test-website", "")
    assert "not shown" in banner
