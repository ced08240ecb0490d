"""Where the local stack's memory goes: the local runtime in this process, driven the soak's way
(bench/soak.py's request mix over real HTTP), then a per-booking breakdown of what stays allocated.

Two views, taken between a warm-up and the end of the run:
- by owner: the deep size of what moto's backends hold (per DynamoDB table: items; stream records;
  SQS messages and the receipt handles of deleted ones; KMS; shard iterators; client request tokens)
  and of the stream pollers' state, each object counted once, in that order;
- by allocating code: tracemalloc's growth grouped by the file that allocated it, so what no owner
  above accounts for (botocore/werkzeug caches, the hub's own caches) shows too.

Run: python bench/memory_breakdown.py [--bookings 2000] [--warmup 200] [--no-tracemalloc]
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import random
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]

from bench import soak  # noqa: E402
from infra.local import allocator, auth  # noqa: E402

_SKIP = (type, ModuleType, FunctionType, threading.Thread)


def deep_size(roots: Iterable[Any], seen: set[int]) -> int:
    """Bytes of every object reachable from `roots` not already in `seen` (classes, modules, functions
    and threads are not followed: they are code, not data)."""
    total, stack = 0, list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _SKIP):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def owners(runtime: Any) -> list[tuple[str, Callable[[], list[Any]]]]:
    """(label, what it holds) for every store of interest, in the order their sizes are counted."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodbstreams.models import dynamodbstreams_backends
    from moto.kms.models import kms_backends
    from moto.sqs.models import sqs_backends

    from infra.local import moto_dynamodb

    account, region = "123456789012", runtime.config.region
    ddb = dynamodb_backends[account][region]
    sqs = sqs_backends[account][region]
    out: list[tuple[str, Callable[[], list[Any]]]] = []
    for name, table in ddb.tables.items():
        short = name.removeprefix("bookinghub-")
        out.append((f"ddb {short}: items", _held(table, "items")))
        out.append((f"ddb {short}: stream records", _held(table, "stream")))
    out += [
        ("ddb streams: shard iterators", lambda: [dynamodbstreams_backends[account][region].shard_iterators]),
        ("ddb: client request tokens", lambda: [moto_dynamodb._tokens]),
        ("sqs: messages (in queues)", lambda: [q._messages for q in sqs.queues.values()]),
        ("sqs: deleted receipt handles", lambda: [q.deleted_messages for q in sqs.queues.values()]),
        ("sqs: pending/other queue state", lambda: list(sqs.queues.values())),
        ("kms", lambda: [kms_backends[account][region]]),
        ("stream pollers' state", lambda: [_poller_state(p) for p in runtime._pollers]),
        ("rest of dynamodb backend", lambda: [ddb]),
    ]
    return out


def _poller_state(poller: Any) -> dict[str, Any]:
    """What a poller holds of the stream (positions, pending records), not its boto3 client or consumer."""
    return {k: v for k, v in poller.__dict__.items() if k not in ("_streams", "_consumer", "_stop", "_state")}


def _held(table: Any, what: str) -> Callable[[], list[Any]]:
    if what == "items":
        return lambda: [table.items]
    return lambda: [table.stream_shard.items] if table.stream_shard else []


def counts(runtime: Any) -> dict[str, int]:
    from moto.dynamodb.models import dynamodb_backends
    from moto.sqs.models import sqs_backends

    ddb = dynamodb_backends["123456789012"][runtime.config.region]
    sqs = sqs_backends["123456789012"][runtime.config.region]
    out: dict[str, int] = {}
    for name, table in ddb.tables.items():
        short = name.removeprefix("bookinghub-")
        out[f"{short} items"] = sum(len(v) if isinstance(v, dict) else 1 for v in table.items.values())
        out[f"{short} stream records"] = len(table.stream_shard.items) if table.stream_shard else 0
    out["sqs messages"] = sum(len(q._messages) for q in sqs.queues.values())
    out["sqs deleted receipt handles"] = sum(len(q.deleted_messages) for q in sqs.queues.values())
    return out


def by_entity(runtime: Any) -> dict[str, tuple[int, float, float]]:
    """Per table and `entity` attribute: (items, mean bytes in moto, mean attributes incl. nested)."""
    from moto.dynamodb.models import dynamodb_backends

    from infra.local.moto_compact import attributes
    from infra.local.moto_retention import _items

    def count(value: Any) -> int:
        inner = value.value
        if value.type == "M":
            return 1 + sum(count(v) for v in inner.values())
        if value.type == "L":
            return 1 + sum(count(v) for v in inner)
        return 1

    groups: dict[str, list[tuple[int, int]]] = {}
    seen: set[int] = set()
    for name, table in dynamodb_backends["123456789012"][runtime.config.region].tables.items():
        for item in _items(table):
            attrs = attributes(item)  # a packed item stays packed: its size is what it holds
            entity = attrs.get("entity")
            label = f"{name.removeprefix('bookinghub-')} {entity.value if entity is not None else '-'}"
            size = deep_size([item], seen)
            groups.setdefault(label, []).append((size, sum(count(v) for v in attrs.values())))
    return {
        label: (len(rows), sum(r[0] for r in rows) / len(rows), sum(r[1] for r in rows) / len(rows))
        for label, rows in sorted(groups.items())
    }


def breakdown(runtime: Any) -> dict[str, int]:
    seen: set[int] = set()
    gc.collect()
    return {label: deep_size(get(), seen) for label, get in owners(runtime)}


class _Shim:
    """What soak.one_request needs of its Hub, for a runtime in this process."""

    def __init__(self, runtime: Any, key: Path) -> None:
        from infra.local.sandboxes import WEBSITE_RECEIVER

        self.url, self.key = runtime.gateway_url, key
        self.receiver_url = runtime.sandbox_url(WEBSITE_RECEIVER.name)

    def token(self) -> str:
        return auth.issue_token(role="admin", email="soak@demo.example", path=self.key)


def drive_until(hub: _Shim, load: soak.Load, bookings: int, clients: int) -> None:
    def client(seed: int) -> None:
        rng, token = random.Random(seed), hub.token()
        while len(load.bookings) < bookings:
            soak.one_request(hub, load, rng.choice(soak.MIX), token, rng)  # type: ignore[arg-type]

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def settle(runtime: Any, seconds: float = 60.0) -> None:
    """Until the queues are empty and the pollers have nothing pending (the stack is idle)."""
    from moto.sqs.models import sqs_backends

    sqs = sqs_backends["123456789012"][runtime.config.region]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        busy = any(q._messages for q in sqs.queues.values() if not q.name.endswith("-dlq"))
        if not busy and not any(p._pending for p in runtime._pollers):
            time.sleep(2)  # one more poll of every loop
            return
        time.sleep(0.5)


def object_types() -> dict[str, int]:
    """How many gc-tracked objects of each type are alive (a dict, a list, a moto model...)."""
    gc.collect()
    out: dict[str, int] = {}
    for obj in gc.get_objects():
        name = f"{type(obj).__module__}.{type(obj).__qualname__}"
        out[name] = out.get(name, 0) + 1
    return out


def trimmed_rss_mb() -> float:
    """VmRSS once the allocator's free memory is back with the system (the local housekeeping loop trims
    every 10 s: without this the figure depends on where in that cycle it is taken)."""
    allocator.trim()
    return rss_mb()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--no-tracemalloc", action="store_true")
    parser.add_argument("--top", type=int, default=15, help="tracemalloc: how many files to list")
    parser.add_argument("--lines", action="store_true", help="tracemalloc: group by allocating line, not file")
    args = parser.parse_args()

    from infra.local.runtime import LocalRuntime, RuntimeConfig
    from infra.local.sandboxes import SANDBOXES

    directory = Path(tempfile.mkdtemp(prefix="bookinghub-memory-"))
    key = directory / "local-jwt-key.pem"
    os.environ[auth.KEY_ENV] = str(key)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # as `make run` does: not a line per AWS call
    if not args.no_tracemalloc:
        tracemalloc.start(1)
    ports = {s.name: 0 for s in SANDBOXES}  # free ports: another run may hold the defaults
    config = RuntimeConfig(port=0, aws_port=0, sandbox_ports=ports, ws_port=0, ws_management_port=0)
    with LocalRuntime(config) as runtime:
        hub, load = _Shim(runtime, key), soak.Load()
        drive_until(hub, load, args.warmup, args.clients)
        settle(runtime)
        before, counts_before, rss_before = breakdown(runtime), counts(runtime), trimmed_rss_mb()
        types_before = object_types()
        snap_before = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
        started = time.monotonic()
        drive_until(hub, load, args.warmup + args.bookings, args.clients)
        seconds = time.monotonic() - started
        settle(runtime)
        after, counts_after, rss_after = breakdown(runtime), counts(runtime), trimmed_rss_mb()
        types_after = object_types()
        snap_after = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
        created = len(load.bookings) - args.warmup

        print(f"{created} bookings in {seconds:.0f} s ({created / seconds:.1f}/s), {len(load.samples)} requests")
        kb = (rss_after - rss_before) / created * 1024
        print(f"RSS (each after malloc_trim) {rss_before:.0f} -> {rss_after:.0f} MB: {kb:.1f} KB/booking")
        print("\nLive objects by type (gc-tracked), growth per booking:")
        grown_types = sorted(((n - types_before.get(t, 0), t) for t, n in types_after.items()), reverse=True)
        for grown, name in grown_types[: args.top]:
            print(f"  {name:<60} {grown / created:9.2f}")
        print("\nCounts (growth per booking):")
        for label, value in counts_after.items():
            print(f"  {label:<40} {value:8d}  {(value - counts_before.get(label, 0)) / created:6.2f}")
        print("\nRetained by owner (deep size growth), bytes per booking:")
        total = 0
        for label, value in after.items():
            grown = (value - before.get(label, 0)) / created
            total += grown
            print(f"  {label:<40} {grown:9.0f}   (now {value / 2**20:7.1f} MB)")
        print(f"  {'total':<40} {total:9.0f}   = {total * 10_000 / 2**20:.0f} MB per 10k bookings")
        print("\nItems by table and entity: count, mean bytes in moto as stored (packed or not), mean attributes")
        for label, (count, size, attrs) in by_entity(runtime).items():
            print(f"  {label:<40} {count:6d} {size:8.0f} {attrs:6.1f}")
        if snap_before is not None and snap_after is not None:
            print("\ntracemalloc growth by allocating file, bytes per booking:")
            stats = snap_after.compare_to(snap_before, "lineno" if args.lines else "filename")
            traced = sum(s.size_diff for s in stats)
            for stat in stats[: args.top]:
                frame = stat.traceback[0]
                name = frame.filename.replace(str(ROOT), ".").split("site-packages/")[-1]
                name = f"{name}:{frame.lineno}" if args.lines else name
                print(f"  {name:<60} {stat.size_diff / created:9.0f}")
            print(f"  {'all traced':<60} {traced / created:9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
