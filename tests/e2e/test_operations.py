"""Issue 16 "Done when": under the local stack, a forced failure poisons a message into a DLQ, `bookinghub
status --local` shows it, `bookinghub dlq show` prints it, and `bookinghub dlq redrive` brings it back and
it is processed (the sync-back reaches the website once its receiver is healthy again).

The failure: the website's receiver answers 503 to every delivery, so the sync-back exhausts its retry
schedule and its message lands in the Deliveries DLQ. The hub runs with a short schedule (three retries,
scaled to milliseconds) and HUB_QUEUE_VISIBILITY_SECONDS=1, so that takes seconds rather than the day
and more it takes as deployed; everything else is as `make run` has it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.local import auth
from tests.e2e.conftest import ROOT, Hub, http, start_hub

pytestmark = pytest.mark.e2e

WEBSITE, API_KEY = "test-website", "test_sk_xxxxx"  # README "Demo data"
CLI_TIMEOUT_SECONDS = 60


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, dict[str, str]]]:
    directory = tmp_path_factory.mktemp("ops-e2e")
    key_file = str(directory / "local-jwt-key.pem")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(auth.KEY_ENV, key_file)
        patch.delenv("POWERTOOLS_LOG_LEVEL", raising=False)
        hub = start_hub(
            directory / "hub.log",
            extra_env={
                "HUB_QUEUE_VISIBILITY_SECONDS": "1",
                "HUB_DELIVERY_SCHEDULE": "1,1,1",
                "HUB_DELIVERY_TIME_SCALE": "0.001",
            },
        )
    env = {
        **os.environ,
        auth.KEY_ENV: key_file,
        "HUB_AWS_PORT": hub.aws_url.rsplit(":", 1)[1],
        "PYTHONPATH": f"{ROOT / 'layers' / 'common' / 'python'}{os.pathsep}{ROOT}",
    }
    yield hub, env
    hub.stop()


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=ROOT,
        env={**env, "COLUMNS": "200"},  # rich wraps tables at the terminal's width
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
    )


def json_call(hub: Hub, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    answer = http(
        method,
        url,
        None if body is None else json.dumps(body).encode(),
        {"Content-Type": "application/json", **(headers or {})},
    )
    assert 200 <= answer.status < 300, (answer.status, answer.body)
    return answer.json(), answer.headers


def wait_for(condition: Callable[[], bool], what: str, *, hub: Hub, env: dict[str, str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    status = cli(env, "status", "--local")
    pytest.fail(f"timed out waiting for {what}\n{status.stdout}{status.stderr}\n{hub.log()[-6000:]}")


def dlq_row(output: str, queue: str) -> str:
    return next(line for line in output.splitlines() if line.strip("│┃ ").startswith(queue))


def test_a_poisoned_message_is_shown_and_redriven_and_then_processed(stack: tuple[Hub, dict[str, str]]) -> None:
    hub, env = stack
    healthy = cli(env, "status", "--local")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "BookingEvents" in healthy.stdout
    assert "demo-property" in healthy.stdout

    created, _ = json_call(
        hub,
        "POST",
        f"{hub.url}/api/bookings/sync",
        {
            "event": "booking.created",
            "source_booking_id": "ops-e2e-1",
            "booking_ref": "HW-900001",
            "package_name": "World A+",
            "package_price": 3490,
            "activity_date": "2026-03-01",
            "time_slot": "10:00",
            "guest_count": 2,
            "total_amount": 6980,
            "currency": "THB",
            "status": "confirmed",
            "customer": {"name": "Olive Operator", "email": "olive@example.com"},
        },
        {"X-API-Key": API_KEY},
    )
    booking_id = created["booking_id"]
    # The website's receiver is down for good: every delivery of the coming edit fails.
    json_call(hub, "POST", f"{hub.sandbox_url}/_control", {"website_id": WEBSITE, "fail_with": 503, "times": 1000})
    token = cli(env, "token", "--role", "admin").stdout.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    _, headers = json_call(hub, "GET", f"{hub.url}/api/bookings/{booking_id}", headers=bearer)
    json_call(
        hub,
        "PUT",
        f"{hub.url}/api/bookings/{booking_id}",
        {"admin_notes": "Guest asked for a late pickup"},
        {**bearer, "If-Match": headers["ETag"]},
    )

    def poisoned() -> bool:
        shown = cli(env, "status", "--local")
        return shown.returncode == 1 and "1 to redrive" in dlq_row(shown.stdout, "Deliveries")

    wait_for(poisoned, "the sync-back to reach the Deliveries DLQ", hub=hub, env=env)
    listed = cli(env, "dlq", "list", "--local")
    assert listed.returncode == 0
    assert "1" in dlq_row(listed.stdout, "Deliveries")
    shown = cli(env, "dlq", "show", "Deliveries", "--local")
    assert shown.returncode == 0, shown.stderr
    assert "delivery_id" in shown.stdout  # the poisoned message is the edit's delivery attempt
    counted = cli(env, "dlq", "redrive", "Deliveries", "--dry-run", "--local")
    assert "1 messages would move" in counted.stdout
    still = cli(env, "dlq", "list", "--local")
    assert "1" in dlq_row(still.stdout, "Deliveries")  # a dry run moves nothing

    json_call(hub, "POST", f"{hub.sandbox_url}/_control", {"website_id": WEBSITE, "fail_with": 503, "times": 0})
    before = len(json_call(hub, "GET", f"{hub.sandbox_url}/{WEBSITE}/deliveries")[0])
    moved = cli(env, "dlq", "redrive", "Deliveries", "--local")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "moved 1 messages back to Deliveries" in moved.stdout

    def delivered() -> list[dict[str, Any]]:
        deliveries = json_call(hub, "GET", f"{hub.sandbox_url}/{WEBSITE}/deliveries")[0]
        return [d for d in deliveries[before:] if "admin_notes" in json.dumps(d)]

    wait_for(lambda: bool(delivered()), "the redriven sync-back to reach the website", hub=hub, env=env)
    assert len(delivered()) == 1
    after = cli(env, "status", "--local")
    assert after.returncode == 0, after.stdout
    assert "to redrive" not in dlq_row(after.stdout, "Deliveries")


def test_the_cli_names_an_unknown_queue(stack: tuple[Hub, dict[str, str]]) -> None:
    _, env = stack
    answer = cli(env, "dlq", "show", "NoSuchQueue", "--local")
    assert answer.returncode == 2
    assert "no queue 'NoSuchQueue'" in answer.stderr
    assert "Traceback" not in answer.stderr


def test_logs_show_a_synced_edited_delivered_booking_in_order(stack: tuple[Hub, dict[str, str]]) -> None:
    hub, env = stack
    json_call(hub, "POST", f"{hub.sandbox_url}/_control", {"website_id": WEBSITE, "fail_with": 503, "times": 0})
    created, _ = json_call(
        hub,
        "POST",
        f"{hub.url}/api/bookings/sync",
        {
            "event": "booking.created",
            "source_booking_id": "ops-e2e-logs",
            "booking_ref": "HW-900002",
            "package_name": "World A+",
            "package_price": 3490,
            "activity_date": "2026-03-02",
            "time_slot": "10:00",
            "guest_count": 2,
            "total_amount": 6980,
            "currency": "THB",
            "status": "confirmed",
            "customer": {"name": "Lars Logs", "email": "lars@example.com"},
        },
        {"X-API-Key": API_KEY},
    )
    booking_id = created["booking_id"]
    token = cli(env, "token", "--role", "admin").stdout.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    _, headers = json_call(hub, "GET", f"{hub.url}/api/bookings/{booking_id}", headers=bearer)
    json_call(
        hub,
        "PUT",
        f"{hub.url}/api/bookings/{booking_id}",
        {"admin_notes": "Logs e2e"},
        {**bearer, "If-Match": headers["ETag"]},
    )

    def entries() -> list[dict[str, Any]]:
        answer = cli(env, "logs", booking_id, "--json", "--local")
        assert answer.returncode == 0, answer.stdout + answer.stderr
        return list(json.loads(answer.stdout))

    wait_for(
        lambda: any(e["source"] == "delivery" and e["status"] == "succeeded" for e in entries()),
        "the edit's sync back to be delivered",
        hub=hub,
        env=env,
    )
    shown = entries()
    order = [(e["source"], e["what"]) for e in shown]
    assert order[0] == ("sync", "inbound booking.created")
    events = [what for source, what in order if source == "event"]
    assert events == ["booking.created", "booking.updated"]
    first_delivery = next(n for n, (source, _) in enumerate(order) if source == "delivery")
    assert order.index(("event", "booking.updated")) < first_delivery
    assert [e["at"] for e in shown] == sorted(e["at"] for e in shown)

    table = cli(env, "logs", booking_id, "--local")
    assert table.returncode == 0, table.stderr
    assert f"Booking {booking_id}" in table.stdout
    assert "inbound booking.created" in table.stdout
    assert "succeeded" in table.stdout

    missing = cli(env, "logs", "00000000-0000-4000-8000-000000000000", "--local")
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0
    assert "no booking" in missing.stderr
