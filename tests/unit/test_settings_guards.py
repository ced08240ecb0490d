"""Settings guards: the topology's env vars are Settings fields, and a function missing a resource
setting fails its first invocation (its cold start) before any work, with the variable's name."""

from __future__ import annotations

import pytest

from bookinghub.core.settings import MissingSetting, Settings, require_settings, requires_settings
from infra import topology
from infra.local.invoke import invoke, load_handler
from tests.conftest import load_event

ALIASES = {f.alias for f in Settings.model_fields.values()}


def topology_env_vars() -> set[str]:
    names = {t.env_var for t in topology.TABLES} | {q.env_var for q in topology.QUEUES}
    names |= {topology.SECRETS_KEY.env_var}
    names |= {s.env_var for s in topology.SECRETS} | {s.local_env_var for s in topology.SECRETS}
    return names


def placeholder_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a renderer would set, as placeholders: no handler below talks to AWS."""
    for name in topology_env_vars():
        monkeypatch.setenv(name, f"unit-test-{name.lower()}")


def test_every_topology_env_var_is_a_settings_field() -> None:
    assert topology_env_vars() - ALIASES == set()


def test_a_topology_env_var_that_is_no_settings_field_is_caught() -> None:
    stray = topology.Queue(name="Stray", env_var="STRAY_QUEUE_URL")
    assert {stray.env_var} - ALIASES == {"STRAY_QUEUE_URL"}
    with pytest.raises(ValueError, match="STRAY_QUEUE_URL"):
        requires_settings("STRAY_QUEUE_URL")


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=lambda fn: fn.name)
def test_each_handler_requires_exactly_the_resources_it_is_granted(fn: topology.Function) -> None:
    required = getattr(load_handler(fn), "required_settings", ())
    assert sorted(required) == sorted(topology.resource_env_vars(fn))


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=lambda fn: fn.name)
def test_each_handler_resumes_the_collector_paused_for_its_cold_start(fn: topology.Function) -> None:
    # core/coldstart.py: in Lambda the collector stays paused until a handler's first invocation ends;
    # requires_settings or ends_init resumes it (a handler with neither would never collect cycles)
    assert getattr(load_handler(fn), "ends_init", False) is True


@pytest.mark.parametrize("value", [None, "", "  "])
def test_an_unset_or_empty_resource_setting_fails_the_invocation_before_any_work(
    value: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    placeholder_env(monkeypatch)
    if value is None:
        monkeypatch.delenv("BOOKING_EVENTS_QUEUE_URL")
    else:
        monkeypatch.setenv("BOOKING_EVENTS_QUEUE_URL", value)
    # A record the relay would send to the queue: never reached, the check comes first
    event = load_event("outbox_relay/outbox_insert")
    with pytest.raises(MissingSetting, match=r"^BOOKING_EVENTS_QUEUE_URL unset or empty"):
        invoke("outbox_relay", event)


def test_the_handler_runs_once_its_settings_are_there(monkeypatch: pytest.MonkeyPatch) -> None:
    placeholder_env(monkeypatch)
    seen: list[object] = []

    @requires_settings("BOOKINGS_TABLE_NAME")
    def checked(event: object, context: object) -> str:
        seen.append(event)
        return "done"

    assert checked({"a": 1}, None) == "done"
    assert seen == [{"a": 1}]
    monkeypatch.setenv("BOOKINGS_TABLE_NAME", "")
    with pytest.raises(MissingSetting, match="BOOKINGS_TABLE_NAME"):
        checked({"a": 2}, None)
    with pytest.raises(MissingSetting, match="BOOKINGS_TABLE_NAME"):  # a failed check is never remembered
        checked({"a": 3}, None)
    assert seen == [{"a": 1}]
    monkeypatch.setenv("BOOKINGS_TABLE_NAME", "bookinghub-Bookings-2")
    assert checked({"a": 4}, None) == checked({"a": 5}, None) == "done"
    monkeypatch.setenv("BOOKINGS_TABLE_NAME", " ")  # changed again after passing twice: seen at once
    with pytest.raises(MissingSetting, match="BOOKINGS_TABLE_NAME"):
        checked({"a": 6}, None)
    assert seen == [{"a": 1}, {"a": 4}, {"a": 5}]


def test_every_missing_setting_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOOKINGS_TABLE_NAME", raising=False)
    monkeypatch.setenv("SECRETS_KMS_KEY_ID", "")
    monkeypatch.setenv("INTEGRATION_LOGS_TABLE_NAME", "bookinghub-IntegrationLogs")
    with pytest.raises(MissingSetting, match=r"^BOOKINGS_TABLE_NAME, SECRETS_KMS_KEY_ID unset or empty"):
        require_settings("BOOKINGS_TABLE_NAME", "INTEGRATION_LOGS_TABLE_NAME", "SECRETS_KMS_KEY_ID")


def test_settings_present_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKINGS_TABLE_NAME", "bookinghub-Bookings")
    require_settings("BOOKINGS_TABLE_NAME")
    require_settings()


@pytest.mark.parametrize("value", [None, "", " ", "\t\n", "\x1c", "\u00a0", "\u3000", "x", " x ", "é"])
def test_the_handlers_check_reads_the_environment_as_require_settings_does(
    value: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requires_settings reads os.environ's encoded table itself: its verdict is require_settings' own,
    for Unicode whitespace that is not ASCII whitespace too, and it sees each change at the next call."""

    @requires_settings("BOOKINGS_TABLE_NAME")
    def checked(event: object, context: object) -> str:
        return "done"

    monkeypatch.setenv("BOOKINGS_TABLE_NAME", "bookinghub-Bookings")
    assert checked(None, None) == "done"
    if value is None:
        monkeypatch.delenv("BOOKINGS_TABLE_NAME")
    else:
        monkeypatch.setenv("BOOKINGS_TABLE_NAME", value)
    try:
        require_settings("BOOKINGS_TABLE_NAME")
        expected: str | None = None
    except MissingSetting as error:
        expected = str(error)
    try:
        checked(None, None)
        got: str | None = None
    except MissingSetting as error:
        got = str(error)
    assert got == expected
    assert (expected is None) is (value is not None and bool(value.strip()))
