"""Retry schedule, classification and circuit breaker: the pure rules of dispatch."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bookinghub.delivery.logic import breaker
from bookinghub.delivery.logic.classify import classify, is_make_endpoint
from bookinghub.delivery.logic.schedule import next_wait, parse_retry_after
from bookinghub.delivery.models import EndpointStatus, status_class
from bookinghub.delivery.settings import DEFAULT_SCHEDULE_SECONDS, DeliverySettings


def test_default_schedule_is_seed_then_svix() -> None:
    assert DEFAULT_SCHEDULE_SECONDS == (1, 5, 30, 300, 1800, 7200, 18000, 36000, 36000)
    assert sum(DEFAULT_SCHEDULE_SECONDS) / 3600 == pytest.approx(27.6, abs=0.05)
    assert DeliverySettings().timeout_seconds == 15


def test_waits_follow_the_schedule_then_stop() -> None:
    waits = [next_wait(DEFAULT_SCHEDULE_SECONDS, i) for i in range(10)]
    assert waits[:9] == [float(s) for s in DEFAULT_SCHEDULE_SECONDS]
    assert waits[9] is None


def test_scale_and_jitter() -> None:
    assert next_wait([300], 0, scale=0.01) == pytest.approx(3.0)
    rng = random.Random(7)
    samples = [next_wait([100], 0, jitter=0.2, rng=rng) or 0 for _ in range(200)]
    assert min(samples) >= 80
    assert max(samples) <= 120
    assert len({round(s, 3) for s in samples}) > 100  # actually random


def test_retry_after_lengthens_but_never_shortens() -> None:
    assert next_wait([5], 0, retry_after=60) == 60
    assert next_wait([600], 0, retry_after=60) == 600
    assert next_wait([5], 0, retry_after=10**9) == 6 * 3600  # capped


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now=now) == 90
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("status", "body", "make", "verdict"),
    [
        (200, "", False, "success"),
        (204, "", True, "success"),
        (410, "", False, "disable"),
        (410, "There is no scenario listening for this webhook.", True, "park"),
        (429, "", False, "retry"),
        (408, "", False, "retry"),
        (400, "Queue is full.", True, "retry"),
        (400, "bad body", True, "permanent"),
        (404, "", False, "permanent"),
        (301, "", False, "permanent"),
        (500, "", False, "retry"),
        (503, "", True, "retry"),
        (None, "", False, "retry"),
    ],
)
def test_classification(status: int | None, body: str, make: bool, verdict: str) -> None:
    assert classify(status, body, make=make).verdict == verdict


def test_make_endpoints_by_host_or_kind() -> None:
    assert is_make_endpoint("https://hook.eu1.make.com/abc", "subscription")
    assert is_make_endpoint("https://hook.us2.make.com/abc", "subscription")
    assert not is_make_endpoint("https://make.com.evil.example/abc", "subscription")
    assert is_make_endpoint("https://example.com/x", "make")


def test_status_class() -> None:
    assert [status_class(c) for c in (200, 302, 404, 503, None)] == ["2xx", "3xx", "4xx", "5xx", "error"]


def test_breaker_opens_after_threshold_then_half_opens() -> None:
    status = EndpointStatus(endpoint_id="e")
    now = 1000.0
    for failures in range(4):
        status = status.model_copy(update={"consecutive_failures": failures})
        assert breaker.after_result(status, success=False, now=now, threshold=5, cooldown=30)[0] == "closed"
    circuit, until, openings = breaker.after_result(
        status.model_copy(update={"consecutive_failures": 4}), success=False, now=now, threshold=5, cooldown=30
    )
    assert (circuit, until, openings) == ("open", now + 30, 1)
    opened = status.model_copy(update={"circuit": "open", "circuit_open_until": until, "circuit_opened_count": 1})
    assert breaker.gate(opened, now + 10) == breaker.Gate(False, wait_seconds=20)
    assert breaker.gate(opened, now + 31).probe
    # the probe fails: open again, for twice as long
    again = breaker.after_result(opened, success=False, now=now + 31, threshold=5, cooldown=30)
    assert again == ("open", now + 31 + 60, 2)
    assert breaker.after_result(opened, success=True, now=now + 31, threshold=5, cooldown=30) == ("closed", 0.0, 0)


def test_auto_disable_needs_both_count_and_time() -> None:
    status = EndpointStatus(endpoint_id="e", consecutive_failures=9, first_failure_at=0.0)
    assert not breaker.should_disable(status, now=10, after_failures=10, after_seconds=60)
    assert breaker.should_disable(status, now=61, after_failures=10, after_seconds=60)
    assert not breaker.should_disable(
        status.model_copy(update={"consecutive_failures": 5}), now=61, after_failures=10, after_seconds=60
    )
