"""The stalest property's age feeds the Beds24SyncStale alarm (docs/operations.md#beds24-sync-stale)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.local.resources import LocalResources
from tests.integration.beds24.hub import current_property, drain_sync, set_property, sync


def _staleness_metric(output: str) -> list[float]:
    """Values of Beds24SyncStalenessMinutes in Powertools' EMF lines on stdout."""
    values: list[float] = []
    for line in output.splitlines():
        if "Beds24SyncStalenessMinutes" in line:
            value = json.loads(line)["Beds24SyncStalenessMinutes"]
            values.extend(float(v) for v in (value if isinstance(value, list) else [value]))
    return values


def test_the_incremental_tick_reports_minutes_since_the_last_successful_pull(
    aws: LocalResources, prop: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from bookinghub.beds24.logic.sync import run_schedule, sync_staleness_minutes
    from bookinghub.core.observability import metrics

    run = sync(aws, "incremental")
    assert run.status == "succeeded"
    synced = current_property()
    assert synced.last_successful_cursor is not None
    cursor = datetime.fromisoformat(synced.last_successful_cursor.replace("Z", "+00:00"))
    assert sync_staleness_minutes(synced, cursor + timedelta(minutes=42)) == pytest.approx(42)

    capsys.readouterr()
    run_schedule("incremental", now=cursor + timedelta(minutes=42))
    metrics.flush_metrics()
    assert _staleness_metric(capsys.readouterr().out) == [pytest.approx(42)]
    drain_sync(aws)


def test_a_property_that_never_synced_counts_from_its_creation_and_disabled_ones_do_not_count(
    aws: LocalResources, prop: Any
) -> None:
    from bookinghub.beds24.logic.sync import sync_staleness_minutes

    fresh = current_property()
    assert fresh.last_successful_cursor is None
    created = datetime.fromisoformat(fresh.created_at.replace("Z", "+00:00"))
    assert sync_staleness_minutes(fresh, created + timedelta(hours=2)) == pytest.approx(120)
    assert sync_staleness_minutes(fresh, created - timedelta(minutes=1)) == 0  # clock skew never goes negative


def test_disabled_properties_do_not_raise_the_alarm(
    aws: LocalResources, prop: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from bookinghub.beds24.logic.sync import run_schedule
    from bookinghub.core.observability import metrics

    set_property(pull_sync_enabled=False)
    capsys.readouterr()
    run_schedule("incremental", now=datetime.now(UTC) + timedelta(days=30))
    metrics.flush_metrics()
    assert _staleness_metric(capsys.readouterr().out) == [0]
