"""The consumer's thread pools are kept across batches (logic/pools.py): a batch's sends run on the
consumer's send pool, its side reads and the log rows' write on the shared side pool, both made once;
a task that raises fails its own messages only, and the next batch runs on the same pools."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bookinghub.delivery.dal.queue import AttemptMessage
from bookinghub.delivery.logic import dispatch, pools
from bookinghub.delivery.logic.dispatch import Report, process_batch
from bookinghub.delivery.logic.fanout import fan_out
from bookinghub.delivery.models import website_endpoint_id
from infra.local.resources import LocalResources
from tests.integration.delivery.conftest import WEBSITE_ID, Receiver, admin_event, subscription

WEBSITE = website_endpoint_id(WEBSITE_ID)


@pytest.fixture
def fresh_pools(monkeypatch: pytest.MonkeyPatch) -> list[ThreadPoolExecutor]:
    """Pools made from scratch in this test, each one recorded as it is made."""
    made: list[ThreadPoolExecutor] = []

    class Recorded(ThreadPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(pools, "ThreadPoolExecutor", Recorded)
    monkeypatch.setattr(pools, "_side", None)
    monkeypatch.setattr(pools, "_consumer", threading.local())
    return made


def _batch(tag: str, endpoint_id: str | None = None) -> list[tuple[AttemptMessage, int | None]]:
    ids = [d for n in range(3) for d in fan_out(admin_event(source_booking_id=f"{tag}-{n}")).queued]
    return [(AttemptMessage(d, 0, endpoint_id=endpoint_id), 1) for d in ids]


def test_pools_are_made_once_and_reused_across_batches(
    receiver: Receiver,
    delivery_env: LocalResources,
    fresh_pools: list[ThreadPoolExecutor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint_id, _ = subscription(receiver.url("/sub"))
    threads: set[str] = set()
    post = dispatch.post

    def recorded(*args: Any, **kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        return post(*args, **kwargs)

    monkeypatch.setattr(dispatch, "post", recorded)
    for round_number in range(5):  # the named subscription: its Query on the side pool, each batch
        outcomes = process_batch(_batch(f"reuse-{round_number}", endpoint_id))
        assert [o.outcome for o in outcomes if isinstance(o, Report)] == ["succeeded"] * 3
    assert [pool._thread_name_prefix for pool in fresh_pools] == ["delivery-side", "delivery-send"]  # type: ignore[attr-defined]
    assert all(name.startswith("delivery-send") for name in threads)
    assert len(threads) <= 3  # at most a batch's three tasks' worth of threads, over five batches
    assert len(receiver.delivered()) == 15


def test_a_task_that_raises_fails_its_own_message_and_the_batch_completes(
    receiver: Receiver,
    delivery_env: LocalResources,
    fresh_pools: list[ThreadPoolExecutor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint_id, _ = subscription(receiver.url("/sub"))
    messages = _batch("raises", endpoint_id)
    through = dispatch._through
    broken = messages[1][0].delivery_id

    def sometimes_broken(n: int, messages: Any, *args: Any) -> Any:
        if messages[n][0].delivery_id == broken:
            raise RuntimeError("a bug in one task")
        return through(n, messages, *args)

    monkeypatch.setattr(dispatch, "_through", sometimes_broken)
    outcomes = process_batch(messages)
    assert [type(o).__name__ if isinstance(o, Exception) else o.outcome for o in outcomes] == [
        "succeeded",
        "RuntimeError",  # not done: the message is received again
        "succeeded",
    ]
    monkeypatch.setattr(dispatch, "_through", through)
    again = process_batch([messages[1]])  # on the same pools: the raising task broke nothing
    assert [o.outcome for o in again if isinstance(o, Report)] == ["succeeded"]
    assert len(fresh_pools) == 2
    assert len(receiver.delivered()) == 3


def test_a_task_that_raises_on_a_single_thread_consumer_also_fails_only_its_message(
    receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import reset_caches

    monkeypatch.setenv("HUB_DELIVERY_DISPATCH_WORKERS", "1")  # tasks run on the consumer's own thread
    reset_caches()
    endpoint_id, _ = subscription(receiver.url("/sub"))
    messages = _batch("inline", endpoint_id)
    through = dispatch._through

    def first_broken(n: int, *args: Any) -> Any:
        if n == 0:
            raise RuntimeError("a bug in one task")
        return through(n, *args)

    monkeypatch.setattr(dispatch, "_through", first_broken)
    outcomes = process_batch(messages)
    assert isinstance(outcomes[0], RuntimeError)
    assert [o.outcome for o in outcomes[1:] if isinstance(o, Report)] == ["succeeded", "succeeded"]
