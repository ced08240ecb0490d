"""logic/pools.py: no thread at import (cold start), pools made at first use and kept, one send pool per
consumer thread, sized again when the setting changes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bookinghub.delivery.logic import pools

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_consumer_starts_no_thread() -> None:
    code = (
        "import threading, functions.deliver_webhooks.handler, bookinghub.delivery.logic.pools as p; "
        "print(threading.active_count(), p._side)"
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/common/python'}"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["1", "None"]


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pools, "_side", None)
    monkeypatch.setattr(pools, "_consumer", threading.local())


def test_the_side_pool_is_made_once_and_bounded(fresh: None) -> None:
    side = pools.side_pool()
    assert pools.side_pool() is side
    assert side._max_workers == pools.SIDE_WORKERS
    assert side.submit(lambda: 7).result() == 7


def test_each_consumer_thread_keeps_its_own_send_pool(fresh: None) -> None:
    mine = pools.send_pool(4)
    assert pools.send_pool(4) is mine
    other: list[ThreadPoolExecutor] = []
    thread = threading.Thread(target=lambda: other.append(pools.send_pool(4)))
    thread.start()
    thread.join()
    assert other[0] is not mine  # two consumers in one process never share their bound


def test_a_new_size_replaces_the_pool_and_lets_the_old_one_finish(fresh: None) -> None:
    old = pools.send_pool(2)
    running = old.submit(lambda: "done")
    new = pools.send_pool(3)
    assert new is not old
    assert new._max_workers == 3
    assert running.result() == "done"
    with pytest.raises(RuntimeError):  # shut down: takes no more work
        old.submit(lambda: None)
