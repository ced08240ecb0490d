"""Metric dimensions: bounded values only (never a booking id, an email or a URL), the invoked function
from the Lambda context, and the rollup the alarms read beside the breakdown the graphs read."""

from __future__ import annotations

import json
import re
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest

from bookinghub.core import observability
from bookinghub.core.observability import (
    DIMENSIONS,
    INTEGRATION_TYPES,
    PROVIDERS,
    bounded,
    emit_metric,
    metrics,
)
from bookinghub.delivery.models import delivery_dimensions, website_endpoint_id

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*(ROOT / "layers" / "common" / "python" / "bookinghub").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]


class Context:
    def __init__(self, name: str) -> None:
        self.function_name = name


def emitted(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]


def test_a_metric_carries_the_rollup_and_the_bounded_breakdown(capsys: pytest.CaptureFixture[str]) -> None:
    emit_metric("PincodeFailed", provider="rooms", integration_type="pincode")
    [blob] = emitted(capsys.readouterr().out)
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["service"], list(DIMENSIONS)]
    assert directive["Metrics"] == [{"Name": "PincodeFailed", "Unit": "Count"}]
    assert {k: blob[k] for k in DIMENSIONS} == {
        "service": "bookinghub",
        "function": "none",  # outside a handler
        "provider": "rooms",
        "integration_type": "pincode",
    }
    assert blob["PincodeFailed"] == [1.0]


@pytest.mark.parametrize(
    "value",
    ["0b5c8a8e-0000-4000-8000-000000000001", "guest@example.com", "https://hook.eu1.make.com/abc", "Stripe", ""],
)
def test_an_unbounded_value_is_never_a_dimension(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    emit_metric("DeliveryAttempt", provider=value, integration_type=value)
    [blob] = emitted(capsys.readouterr().out)
    assert blob["provider"] == "other"
    assert blob["integration_type"] == "other"


def test_bounded_maps_nothing_to_none_and_keeps_allowed_values() -> None:
    assert bounded(None, PROVIDERS) == "none"
    assert bounded("cloudbeds", PROVIDERS) == "cloudbeds"
    assert bounded("cloudbeds:0123abcd", PROVIDERS) == "other"


def test_the_function_is_the_invoked_ones_and_only_while_it_runs(capsys: pytest.CaptureFixture[str]) -> None:
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> str:
        emit_metric("BookingSyncCreated", provider="website", integration_type="booking_sync")
        return "done"

    assert handler({}, Context("sync_bookings")) == "done"
    emit_metric("BookingSyncCreated", provider="website", integration_type="booking_sync")
    inside, outside = emitted(capsys.readouterr().out)
    assert inside["function"] == "sync_bookings"
    assert outside["function"] == "none"


def test_log_metrics_with_options_still_binds_the_function(capsys: pytest.CaptureFixture[str]) -> None:
    @metrics.log_metrics(raise_on_empty_metrics=False)
    def handler(event: dict[str, Any], context: Any) -> None:
        emit_metric("StripePassCreated", provider="stripe", integration_type="payment")

    handler({}, Context("stripe_webhook"))
    [blob] = emitted(capsys.readouterr().out)
    assert blob["function"] == "stripe_webhook"


def test_concurrent_functions_in_one_process_keep_their_own_name() -> None:
    """The local runtime runs several functions in one process, one per thread."""
    seen: dict[str, str] = {}
    barrier = threading.Barrier(2)

    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> None:
        barrier.wait(timeout=5)
        seen[context.function_name] = observability.metric_dimensions()["function"]

    threads = [threading.Thread(target=handler, args=({}, Context(name))) for name in ("passes", "pms_sync")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"passes": "passes", "pms_sync": "pms_sync"}


def test_deliveries_are_sync_backs_or_subscriptions() -> None:
    assert delivery_dimensions(website_endpoint_id("w1")) == {"provider": "website", "integration_type": "sync_back"}
    assert delivery_dimensions("ep_123") == {"provider": "webhook", "integration_type": "subscription"}


def test_every_literal_dimension_in_the_code_is_allowed() -> None:
    """A typo'd provider would silently become "other": the code's literals are checked here."""
    calls = 0
    for path in SOURCES:
        text = path.read_text()
        for call in re.findall(r"emit_metric\((.*?)\)\n", text, flags=re.S):
            calls += 1
            for provider in re.findall(r'provider="(\w+)"', call):
                assert provider in PROVIDERS, (path.name, provider)
            for kind in re.findall(r'integration_type="(\w+)"', call):
                assert kind in INTEGRATION_TYPES, (path.name, kind)
    assert calls > 20


def test_dimensions_are_set_only_by_the_helper() -> None:
    """No module adds its own dimension (where an id could slip in): only core/observability does."""
    for path in SOURCES:
        if path.name == "observability.py":
            continue
        text = path.read_text()
        assert not re.search(r"add_dimensions?\(|single_metric|set_default_dimensions", text), path


def test_a_repeated_metric_is_the_line_powertools_writes(capsys: pytest.CaptureFixture[str]) -> None:
    """emit_metric builds each shape once through Powertools; later lines differ only in time and value."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    for value in (1, 2.5, 3):
        emit_metric("DeliveryLatency", value, "Milliseconds", provider="webhook", integration_type="subscription")
    lines = emitted(capsys.readouterr().out)
    for value, line in zip((1, 2.5, 3), lines, strict=True):
        powertools = AmazonCloudWatchEMFProvider(namespace=metrics.namespace, service="bookinghub")
        powertools.add_metric(name="DeliveryLatency", unit="Milliseconds", value=value)
        powertools.add_dimensions(**observability.metric_dimensions("webhook", "subscription"))
        expected = json.loads(json.dumps(powertools.serialize_metric_set()))
        assert abs(line["_aws"].pop("Timestamp") - expected["_aws"].pop("Timestamp")) < 5_000
        assert line == expected


def test_metrics_off_writes_no_line_and_an_empty_invocation_writes_none(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> None:
        emit_metric("BookingSyncCreated", provider="website", integration_type="booking_sync")

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    handler({}, Context("sync_bookings"))
    assert emitted(capsys.readouterr().out) == []
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")

    @metrics.log_metrics
    def counting(event: dict[str, Any], context: Any) -> None:
        metrics.add_metric(name="RejectedAuthFailed", unit="Count", value=1)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Powertools warns of an empty set on every invocation; we skip it
        handler({}, Context("sync_bookings"))
    counting({}, Context("sync_bookings"))
    blobs = emitted(capsys.readouterr().out)
    assert [sorted(k for k in blob if k[0].isupper() and k != "_aws") for blob in blobs] == [
        ["BookingSyncCreated"],
        ["RejectedAuthFailed"],
    ]


@pytest.mark.parametrize("value", [1, 2.5, 0.1, 1e16, 123456789, -3])
def test_a_metric_line_is_byte_for_byte_the_json_of_powertools_shape(
    value: float, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cached text, cut around time and value, writes what json.dumps writes for Powertools' line."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    monkeypatch.setattr(observability.time, "time", lambda: 1_796_000_000.123)
    for _ in range(2):  # the first builds the shape, the second writes from the cut text
        emit_metric("BookingSyncCreated", value, provider="website", integration_type="booking_sync")
    powertools = AmazonCloudWatchEMFProvider(namespace=metrics.namespace, service="bookinghub")
    powertools.add_metric(name="BookingSyncCreated", unit="Count", value=value)
    powertools.add_dimensions(**observability.metric_dimensions("website", "booking_sync"))
    powertools.set_timestamp(1_796_000_000_123)
    expected: dict[str, Any] = dict(powertools.serialize_metric_set())
    expected["BookingSyncCreated"] = [float(value)]
    lines = capsys.readouterr().out.splitlines()
    assert lines == [json.dumps(expected, separators=(",", ":"))] * 2


def test_metadata_rides_on_the_line_under_the_metric_keys(capsys: pytest.CaptureFixture[str]) -> None:
    emit_metric("DeliveryAttempt", provider="webhook", metadata={"delivery_id": "d1", "provider": "spoofed"})
    [blob] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (blob["delivery_id"], blob["provider"], blob["DeliveryAttempt"]) == ("d1", "webhook", [1.0])
    assert blob["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "DeliveryAttempt", "Unit": "Count"}]


@pytest.mark.parametrize("switch", ["POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV"])
def test_powertools_metrics_switches_are_read_as_the_environment_changes(
    switch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """emit_metric's off switch reads os.environ's own name table: set and unset through os.environ (as
    Lambda's runtime, tests and scripts do), each is seen at the next metric."""
    from bookinghub.core.observability import _metrics_disabled

    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    assert _metrics_disabled() is False
    monkeypatch.setenv(switch, "true")
    assert _metrics_disabled() is True
    monkeypatch.setenv(switch, "false")
    assert _metrics_disabled() is False
    monkeypatch.delenv(switch)
    assert _metrics_disabled() is False
