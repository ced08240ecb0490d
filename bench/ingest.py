"""Ingest benchmark: what one accepted `POST /api/bookings/sync` costs. Prints figures; asserts nothing.

1. AWS API calls per accepted sync request, counted with botocore's event hooks (target <= 2).
2. Our CPU per request with AWS I/O excluded (target <= 1 ms): the calling thread's CPU time
   (time.thread_time) minus the time spent inside botocore calls; moto serves from another process.
   Also as a ratio to a minimal baseline measured in the same run, on the same moto (target <= 2):
   json.loads + pydantic validation of the same body (the hub's own request model) + one put_item.
   A slow moto can make botocore retry a write that had landed: the hub then finds its own booking and
   answers 200 with another outcome ("unchanged"); that is counted and reported, not fatal.
3. With `--breakdown`, that CPU stage by stage (the sync logic, its validation, the bookings dal, the
   log line; the rest is the handler's Powertools shell).
   With `--profile N`, N more requests under cProfile (paused inside AWS calls): the top functions by own time.
4. Each function's handler-module import time in a fresh interpreter, as a ratio to `import boto3` plus
   one client measured in the same run, alternating with it (target <= 1.3); Lambda's environment,
   tracing on (bench/cold_start.py, which also times the first request).

Run: make bench  (or .venv/bin/python bench/ingest.py --requests 300 [--breakdown] [--profile 300] [--import-repeats 0])
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]

from infra.topology import RUNTIME_ENVIRONMENT  # noqa: E402 - after the path is set

LAMBDA_LIKE_ENV = {
    **dict(RUNTIME_ENVIRONMENT),
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench-local-only",
    "AWS_SECRET_ACCESS_KEY": "bench-local-only",
    "POWERTOOLS_SERVICE_NAME": "bookinghub",
    "POWERTOOLS_METRICS_NAMESPACE": "BookingHubBench",
}


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"moto server did not start on port {port}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_server(module: str = "infra.local.moto_dynamodb") -> Iterator[tuple[str, int]]:
    """The embedded AWS in a process of its own (endpoint URL, pid): by default moto's server with the
    local runtime's DynamoDB transactions (no whole-table copy per write), as `make run` serves it."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", module, "-H", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}", server.pid
    finally:
        server.kill()  # moto's werkzeug server does not stop on SIGTERM promptly
        server.wait(timeout=10)


class CallMeter:
    """Counts botocore API calls and the calling thread's CPU spent inside them."""

    def __init__(self) -> None:
        self.calls = 0
        self.cpu_in_calls = 0.0
        self._started: float | None = None
        self.paused: Any = None  # a profiler to pause inside each call (--profile)

    def attach(self, client: Any) -> None:
        # provide-client-params is the first event of a call: botocore validates and serializes the
        # request after it, before before-call, and that is AWS I/O work, not ours.
        client.meta.events.register("provide-client-params.*.*", self._before)
        client.meta.events.register("after-call.*.*", self._after)
        client.meta.events.register("after-call-error.*.*", self._after)

    def _before(self, **_: Any) -> None:
        if self.paused is not None:
            self.paused.disable()
        self.calls += 1
        self._started = time.thread_time()

    def _after(self, **_: Any) -> None:
        if self._started is not None:
            self.cpu_in_calls += time.thread_time() - self._started
            self._started = None
        if self.paused is not None:
            self.paused.enable()


SEED_BODY = json.loads((ROOT / "events/sync_bookings/seed_booking_created.body.json").read_text())


def bench_website_and_event() -> dict[str, Any]:
    """Registers the bench's website (the AWS resources made already) and returns the sync event that
    authenticates as it: its body is set per request (sync_body)."""
    from bookinghub.websites.logic.registry import register_website

    register_website(
        website_id="bench-website",
        organisation_id="bench-org",
        name="Bench",
        domain="bench.local",
        api_key="bench_k",
    )
    event: dict[str, Any] = json.loads((ROOT / "events/sync_bookings/booking_created.json").read_text())
    event["headers"]["X-API-Key"] = "bench_k"
    event["multiValueHeaders"]["X-API-Key"] = ["bench_k"]
    return event


def sync_body(index: int) -> str:
    body = dict(SEED_BODY)
    body["source_booking_id"] = f"bench-{index:06d}"
    body["booking_ref"] = f"HW-{index:06d}"
    return json.dumps(body)


# --breakdown: where our CPU goes, stage by stage (inclusive; AWS I/O excluded). Each stage is a module
# attribute the sync path calls through; one that is not there (renamed) is left out.
STAGES = (
    ("bookinghub.bookings.logic.sync", "sync_booking", "sync_booking (all but the handler's shell)"),
    ("bookinghub.bookings.logic.sync", "authenticate", "  authenticate (API key read)"),
    ("bookinghub.bookings.models.sync", "parse_sync_request", "  parse_sync_request (validation)"),
    ("bookinghub.bookings.logic.sync", "apply_sync", "  apply_sync"),
    ("bookinghub.bookings.logic.sync", "_change", "    _change (event, sync log)"),
    ("bookinghub.bookings.dal.bookings", "create_booking", "    bookings dal create_booking"),
    ("bookinghub.bookings.dal.bookings", "update_booking", "    bookings dal update_booking"),
)
LOG_STAGE = "    log line(s) (Powertools Logger)"


def install_stage_timers(meter: CallMeter, handler_module: Any) -> dict[str, list[float]]:
    import importlib

    from bookinghub.core.observability import logger

    samples: dict[str, list[float]] = {}

    def timed(label: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            io_before, started = meter.cpu_in_calls, time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.thread_time() - started - (meter.cpu_in_calls - io_before)
                samples.setdefault(label, []).append(elapsed)

        return wrapper

    for module_name, attr, label in STAGES:
        module = importlib.import_module(module_name)
        if hasattr(module, attr):
            setattr(module, attr, timed(label, getattr(module, attr)))
            # the handler and sync.py hold their own references to what they imported by name
            for holder in (handler_module, importlib.import_module("bookinghub.bookings.logic.sync")):
                if getattr(holder, attr, None) is not None and holder is not module:
                    setattr(holder, attr, getattr(module, attr))
    logger.info = timed(LOG_STAGE, logger.info)  # type: ignore[method-assign]
    return samples


def measure_ingest(requests: int, *, breakdown: bool = False, profile: int = 0) -> dict[str, Any]:
    """`profile`: also run that many more requests under cProfile and keep its top functions (by own time)."""
    import contextlib

    import boto3

    # moto runs in a process of its own, as DynamoDB is remote from a Lambda: sharing this interpreter
    # (threads, GIL, CPU caches) would bill some of its work to ours.
    with moto_server() as (endpoint, _pid):
        os.environ.update(LAMBDA_LIKE_ENV)
        os.environ.update({"AWS_ENDPOINT_URL": endpoint, "POWERTOOLS_TRACE_DISABLED": "true"})

        from infra import topology
        from infra.local.invoke import invoke
        from infra.local.resources import create_resources

        resources = create_resources(boto3.Session(region_name="us-east-1"))
        os.environ.update(resources.env)

        from bookinghub.aws.clients import client

        event = bench_website_and_event()
        meter = CallMeter()

        outcomes: Counter[str] = Counter()

        def one(index: int, body: str | None = None) -> float:
            """One accepted request; returns our CPU seconds (thread CPU minus time inside botocore)."""
            event["body"] = body or sync_body(index)
            io_before = meter.cpu_in_calls
            started = time.thread_time()
            response = invoke("sync_bookings", event)
            elapsed = time.thread_time() - started
            answer = json.loads(response["body"])
            outcomes[f"{response['statusCode']} {answer.get('outcome') or answer.get('error', {}).get('code')}"] += 1
            return elapsed - (meter.cpu_in_calls - io_before)

        from bookinghub.bookings.models.sync import BookingSyncRequest

        table = os.environ[topology.BOOKINGS.env_var]

        def minimal(index: int) -> float:
            """The floor: parse, validate with the same model, one put_item of what was validated."""
            body = sync_body(index)
            io_before = meter.cpu_in_calls
            started = time.thread_time()
            request = BookingSyncRequest.model_validate(json.loads(body), strict=False)  # dates from JSON text
            item = {"PK": {"S": f"MIN#{request.source_booking_id}"}, "SK": {"S": "BOOKING"}}
            item["body"] = {"S": request.model_dump_json()}
            client("dynamodb").put_item(TableName=table, Item=item)
            return time.thread_time() - started - (meter.cpu_in_calls - io_before)

        # The handler's log lines and metrics are still formatted and written (that is our CPU), but to
        # /dev/null rather than over the figures. Powertools' Logger holds its own stdout handle.
        import logging

        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            for handler in logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"]).handlers:
                if isinstance(handler, logging.StreamHandler):
                    handler.setStream(sink)
            for warm in range(20):  # warm caches, clients and connection pools
                one(10_000_000 + warm)
            outcomes.clear()
            for service in ("dynamodb", "kms", "sqs"):
                meter.attach(client(service))
            stages: dict[str, list[float]] = {}
            if breakdown:
                from infra.local.invoke import handler_module

                stages = install_stage_timers(meter, handler_module(topology.function("sync_bookings")))
            for warm in range(20):
                minimal(20_000_000 + warm)
            # Interleaved, so a machine that gets slower (or faster) midway weighs on both alike
            cpu_samples, baseline_samples = [], []
            for index in range(requests):
                cpu_samples.append(one(index))
                calls_before = meter.calls
                baseline_samples.append(minimal(30_000_000 + index))
                meter.calls = calls_before
            calls, measured = meter.calls, dict(outcomes)
            profile_text = _profiled(one, meter, profile) if profile else ""
        meter.calls, outcomes = calls, Counter(measured)
        created = outcomes.get("200 created", 0)
        if created < requests * 0.9:
            raise SystemExit(f"fewer than 90% of the requests were created: {dict(outcomes)}")
        return {
            "requests": requests,
            "outcomes": dict(outcomes),
            "baseline_cpu_ms_median": statistics.median(baseline_samples) * 1000,
            "aws_calls_per_request": meter.calls / requests,
            "cpu_ms_median": statistics.median(cpu_samples) * 1000,
            "cpu_ms_p90": statistics.quantiles(cpu_samples, n=10)[-1] * 1000,
            "stages_ms_median": {
                label: statistics.median(stages[label]) * 1000
                for label in [*(stage[2] for stage in STAGES), LOG_STAGE]
                if stages.get(label)
            },
            "profile": profile_text,
        }


def _profiled(one: Any, meter: CallMeter, requests: int, top: int = 30) -> str:
    """`requests` more requests under cProfile, paused inside each AWS call (from botocore's first event
    to its last, as the CPU figures leave it out): the functions with the most own time. (A pause ends
    the frames open at the time, so a function that spans an AWS call shows only its time before it.)"""
    import cProfile
    import pstats

    bodies = [sync_body(40_000_000 + index) for index in range(requests)]  # made outside the profile
    profiler = cProfile.Profile()
    meter.paused = profiler
    profiler.enable()
    try:
        for index, body in enumerate(bodies):
            one(40_000_000 + index, body)
    finally:
        profiler.disable()
        meter.paused = None
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = [
        (own, cumulative, calls, f"{_short(filename)}:{line}({function})")
        for (filename, line, function), (_cc, calls, own, cumulative, _callers) in stats.items()
        if "bench/ingest.py" not in filename and function not in ("disable", "enable")
    ]
    rows.sort(reverse=True)
    total = sum(row[0] for row in rows)
    lines = [
        f"  our own time: {total / requests * 1000:.3f} ms per request (under the profiler, which inflates calls)",
        f"  {'own ms/req':>10} {'cum ms/req':>10} {'calls/req':>9}  function",
    ]
    for own, cumulative, calls, name in rows[:top]:
        lines.append(
            f"  {own / requests * 1000:10.3f} {cumulative / requests * 1000:10.3f} {calls / requests:9.1f}  {name}"
        )
    return "\n".join(lines)


def _short(filename: str) -> str:
    for marker in ("site-packages/", "layers/common/python/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def measure_imports(repeats: int) -> dict[str, dict[str, float]]:
    """bench/cold_start.py's import-only measurement: fresh interpreters, Lambda's environment, each
    function's runs alternating with baseline runs (its ratio is to those)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from cold_start import import_ratios

    return import_ratios(repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--import-repeats", type=int, default=5, help="0: skip the import figures")
    parser.add_argument("--breakdown", action="store_true", help="also our CPU stage by stage (timers cost a little)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="then N requests under cProfile")
    args = parser.parse_args()

    ingest = measure_ingest(args.requests, breakdown=args.breakdown, profile=args.profile)
    print(f"Accepted sync requests measured: {ingest['requests']}   outcomes: {ingest['outcomes']}")
    print(f"AWS API calls per accepted request: {ingest['aws_calls_per_request']:.2f}   (target <= 2)")
    print(
        f"Our CPU per request, AWS I/O excluded: median {ingest['cpu_ms_median']:.3f} ms, "
        f"p90 {ingest['cpu_ms_p90']:.3f} ms   (target <= 1 ms)"
    )
    ratio = ingest["cpu_ms_median"] / ingest["baseline_cpu_ms_median"]
    print(
        f"Minimal baseline (json.loads + validate + put_item), same run: median "
        f"{ingest['baseline_cpu_ms_median']:.3f} ms; our CPU is {ratio:.2f}x it   (target <= 2)"
    )
    if ingest["stages_ms_median"]:
        print("Where it goes (medians, inclusive, AWS I/O excluded; the rest is the handler's shell:")
        print("  Powertools' logger, tracer and metrics decorators and the resolver):")
        for label, ms in ingest["stages_ms_median"].items():
            print(f"  {label:<44} {ms:.3f} ms")
    if ingest["profile"]:
        print("\nProfile of the sync path (cProfile, by own time):")
        print(ingest["profile"])

    if args.import_repeats <= 0:
        return
    imports = measure_imports(args.import_repeats)
    print("\nHandler import in a fresh interpreter vs `import boto3` + one client, runs alternating (medians):")
    for name, row in imports.items():
        print(
            f"  {name:<20} import {row['import_ms']:5.0f} ms   baseline {row['baseline_ms']:5.0f} ms   "
            f"ratio {row['import_ratio']:.2f}   (target <= 1.3)"
        )
    print(f"  worst ratio {max(row['import_ratio'] for row in imports.values()):.2f}")


if __name__ == "__main__":
    main()
