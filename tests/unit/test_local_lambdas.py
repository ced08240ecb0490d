"""Local invocations behave like Lambda's: failures captured, timeouts enforced, log keys kept per function."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from infra.local import lambdas


def test_a_raising_handler_is_a_failed_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(name: str, event: dict[str, Any]) -> Any:
        raise ValueError("boom")

    monkeypatch.setattr(lambdas, "invoke", crash)
    invocation = lambdas.call("health", {})
    assert isinstance(invocation.error, ValueError)
    with pytest.raises(ValueError, match="boom"):
        lambdas.consumer_for("health")({})


def test_running_past_the_topology_timeout_fails_the_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambdas, "invoke", lambda name, event: {"statusCode": 200})
    ticks = itertools.count(0, 100)  # every clock reading is 100 s after the previous one
    monkeypatch.setattr(lambdas, "time", SimpleNamespace(monotonic=lambda: float(next(ticks))))
    invocation = lambdas.call("health", {})  # health's timeout is 3 s
    assert isinstance(invocation.error, lambdas.FunctionTimedOut)


def test_a_successful_invocation_returns_the_handlers_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambdas, "invoke", lambda name, event: {"statusCode": 200, "echo": event})
    invocation = lambdas.call("health", {"x": 1})
    assert invocation.error is None
    assert invocation.unwrap() == {"statusCode": 200, "echo": {"x": 1}}


def test_log_keys_stay_with_the_function_that_set_them() -> None:
    logger = Logger(service="local-test-isolation")
    with lambdas._own_log_keys("first"):
        logger.append_keys(correlation_id="request-1")
        assert logger.get_current_keys()["correlation_id"] == "request-1"
    with lambdas._own_log_keys("second"):
        assert logger.get_current_keys().get("correlation_id") is None
    with lambdas._own_log_keys("first"):  # a warm environment keeps its own keys, as in Lambda
        assert logger.get_current_keys()["correlation_id"] == "request-1"
