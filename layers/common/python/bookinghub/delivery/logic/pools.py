"""The delivery consumer's threads, kept from one batch to the next instead of started per batch.

Two kinds, never nested: a task of one pool never waits on a task submitted to the same pool (a bounded
pool whose every worker waits on work queued behind it would wait forever).

- The send pool: a batch's tasks (each message's claim, POST and outcome, or an endpoint's lane). One per
  consumer thread (a Lambda environment runs one batch at a time; the bench runs several consumers in one
  process), `dispatch_workers` threads, sized again when that setting changes. Its tasks submit nothing.
- The side pool: the short reads and writes a batch makes beside its own thread's work (a subscription
  endpoint's Query beside the batch read, the log rows beside the status update). Shared and bounded;
  its tasks submit nothing either, and they are only ever waited on from outside it.

Both are created at first use, never at import (cold start: an import starts no thread), and a
ThreadPoolExecutor starts its threads as work arrives, up to its bound.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

SIDE_WORKERS = 8  # a batch's side work is one read per named subscription endpoint (<= 10) and one write

_lock = threading.Lock()
_side: ThreadPoolExecutor | None = None
_consumer = threading.local()  # this consumer thread's send pool and its size


def side_pool() -> ThreadPoolExecutor:
    global _side
    if _side is None:
        with _lock:
            if _side is None:
                _side = ThreadPoolExecutor(max_workers=SIDE_WORKERS, thread_name_prefix="delivery-side")
    return _side


def send_pool(workers: int) -> ThreadPoolExecutor:
    """The calling consumer thread's pool of `workers` threads. A thread that ends drops its pool with
    its thread-local state, and an executor no one holds lets its idle threads exit."""
    pool: ThreadPoolExecutor | None = getattr(_consumer, "pool", None)
    if pool is None or _consumer.workers != workers:
        if pool is not None:
            pool.shutdown(wait=False)  # the setting changed: what it still runs finishes, then it ends
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="delivery-send")
        _consumer.pool, _consumer.workers = pool, workers
    return pool
