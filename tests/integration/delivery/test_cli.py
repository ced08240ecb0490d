"""`bookinghub webhooks ...` on moto: the failed list, replay and seed 003's retry_failed_webhooks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bookinghub.delivery.logic.fanout import fan_out
from cli.main import main
from infra.local.resources import LocalResources
from tests.integration.delivery.conftest import Receiver, Reply, admin_event, deliveries_of, pump, subscription


def test_failed_list_replay_and_retry_failed(
    website: Any, receiver: Receiver, delivery_env: LocalResources, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint, _ = subscription(receiver.url("/cli"))
    receiver.path_defaults["/cli"] = Reply(404)
    fan_out(admin_event())
    fan_out(admin_event(source_booking_id="b-2"))
    pump(delivery_env)
    capsys.readouterr()  # the consumer's own log lines
    assert main(["webhooks", "failed", endpoint]) == 0
    failed = json.loads(capsys.readouterr().out)["deliveries"]
    assert len(failed) == 2
    receiver.path_defaults["/cli"] = Reply(200)
    assert main(["webhooks", "replay", failed[0]["id"]]) == 0
    capsys.readouterr()
    assert main(["webhooks", "retry-failed", "--max-retries", "1"]) == 0
    assert json.loads(capsys.readouterr().out) == {"replayed": 1}
    pump(delivery_env)
    assert {d.status for d in deliveries_of(endpoint)} == {"succeeded"}
    capsys.readouterr()
    assert main(["webhooks", "stats", endpoint]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["succeeded"], stats["failed"], stats["pending"]) == (2, 0, 0)
    assert main(["webhooks", "replay", "no-such-delivery"]) == 1
