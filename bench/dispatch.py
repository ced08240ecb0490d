"""Dispatch benchmark (issue 12): deliveries per second to a local receiver, as a ratio to a bare
`requests` loop at the same concurrency (target >= 0.8), and AWS calls per delivered event.
Prints figures; asserts nothing.

The receiver is http.server on 127.0.0.1, in the process that sends to it. Each worker thread stands for
one consumer: it takes a queue batch (`--batch`, the topology's 5) and runs the consumer's whole path on
it (process_batch: batch read, claims, sign, POST in parallel, outcomes, one status update and one log
write per batch). Consumers times the dispatch threads of each is at most `--concurrency`, so no more
requests are in flight than in the bare loop, which POSTs a body of the same size on `--concurrency`
threads through one requests.Session.

AWS is moto, two ways (`--aws`): in-process (`mock`: mock_aws, so every call is moto's CPU in this
interpreter, under its GIL) and as a server process of its own (`server`: `python -m
infra.local.moto_dynamodb`, as `make run` serves it; the calls are then loopback requests, waits for
this process as AWS calls are for a Lambda, and moto's CPU is billed to its own process). Each runs in a
fresh child process; the bare loop runs in this one just before each, so both figures of a ratio were
taken under the same machine load. Besides the rate, each run reports where a delivery's time went:
per delivery, the threads' time inside AWS calls and inside the receiver POST, and the CPU spent by
this process and by the moto server.

`--receiver-ms 0,20,100` repeats both measurements with a receiver that answers after that delay (real
receivers, Make.com or a website, answer in tens to hundreds of ms): the 0 ms run is the headline and
measures what it always did; each other delay prints the rate and the ratio, bare loop and delivery
against the same slow receiver.

`--threads` fixes the dispatch threads per consumer (consumers = concurrency // threads); by default the
bench takes the shape that keeps the most requests in flight (see _shape: at concurrency 4 and batch 5,
4 single-thread consumers; at 5, one consumer of 5 threads).

`--endpoint website` delivers to a website's sync back (seed 002) instead of a subscription: its endpoint
is the website item and a status item, read inside the batch's BatchGetItem (a subscription's endpoint
and status are one Query of their partition).

Run: python bench/dispatch.py --events 300 --concurrency 4 [--aws mock|server|both] [--batch 10]
     [--receiver-ms 0,20,100] [--threads 4] [--endpoint subscription|website]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python"), str(ROOT / "bench")]

from ingest import moto_server  # noqa: E402 - after the path is set

ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench-local-only",
    "AWS_SECRET_ACCESS_KEY": "bench-local-only",
    "POWERTOOLS_SERVICE_NAME": "bookinghub",
    "POWERTOOLS_METRICS_NAMESPACE": "BookingHubBench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "HUB_ALLOW_INSECURE_WEBHOOKS": "true",
    "HUB_DELIVERY_JITTER": "0",
}

MODES = {"mock": "moto in-process (mock_aws)", "server": "moto server process"}


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        delay = getattr(self.server, "delay", 0.0)
        if delay:
            time.sleep(delay)  # a receiver that takes its time, in this request's own server thread
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


class Meter:
    """AWS calls, and the threads' wall time inside them (botocore's before-call/after-call events)."""

    def __init__(self) -> None:
        self.calls = 0
        self.aws_seconds = 0.0  # wall time of the calling threads
        self.aws_cpu = 0.0  # their CPU (botocore's own work: serialising, signing, parsing)
        self.post_seconds = 0.0
        self.post_cpu = 0.0
        self._lock = threading.Lock()
        self._local = threading.local()

    def before(self, **_: Any) -> None:
        self._local.started = time.perf_counter(), time.thread_time()
        with self._lock:
            self.calls += 1

    def after(self, **_: Any) -> None:
        wall, cpu = time.perf_counter() - self._local.started[0], time.thread_time() - self._local.started[1]
        with self._lock:
            self.aws_seconds += wall
            self.aws_cpu += cpu

    def timed_post(self, post: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return post(*args, **kwargs)
            finally:
                wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
                with self._lock:
                    self.post_seconds += wall
                    self.post_cpu += cpu

        return timed

    def reset(self) -> None:
        with self._lock:
            self.calls, self.aws_seconds, self.aws_cpu, self.post_seconds, self.post_cpu = 0, 0.0, 0.0, 0.0, 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=5, help="messages per queue batch (the topology's)")
    parser.add_argument("--aws", choices=("mock", "server", "both"), default="both")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="dispatch threads per consumer (default: the shape that fills --concurrency)",
    )
    parser.add_argument(
        "--receiver-ms", default="0", help="comma-separated receiver delays in ms, e.g. 0,20,100 (default 0)"
    )
    parser.add_argument(
        "--endpoint",
        choices=("subscription", "website"),
        default="subscription",
        help="deliver to a subscription (default) or to a website's sync back",
    )
    parser.add_argument("--child", choices=tuple(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update(ENV)
    delays = [float(ms) for ms in args.receiver_ms.split(",") if ms.strip()]
    if args.child:
        shape = _shape(args.batch, args.concurrency, args.threads)
        print(json.dumps(_child(args.child, args.events, shape, args.batch, delays[-1] / 1000, args.endpoint)))
        return
    workers, consumers = _shape(args.batch, args.concurrency, args.threads)
    print(
        f"{args.events} events, concurrency {args.concurrency}: {consumers} consumer(s) x {workers} dispatch "
        f"threads, batches of {args.batch}, to a {args.endpoint}"
    )
    for mode in MODES if args.aws == "both" else (args.aws,):
        for ms in delays:
            bare, bare_cpu = _bare(args.events, args.concurrency, ms / 1000)
            run = _run_child(mode, ms)
            if ms == 0:
                _report(mode, run, bare, bare_cpu, args.endpoint)
            else:
                print(f"\n{MODES[mode]}, receiver answering after {ms:g} ms")
                print(f"  deliveries/s {run['rate']:8.1f}, bare loop {bare:8.1f}, ratio {run['rate'] / bare:.2f}")
                print(f"  AWS calls per delivered event: {run['calls']:.2f}")


def _run_child(mode: str, ms: float) -> dict[str, float]:
    """One delivery run in a fresh child process (the last --receiver-ms wins there)."""
    child = subprocess.run(
        [sys.executable, __file__, *sys.argv[1:], "--child", mode, "--receiver-ms", f"{ms:g}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{child.stderr[-3000:]}")
    sys.stderr.write(child.stderr)
    run: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return run


def _report(mode: str, run: dict[str, float], bare: float, bare_cpu: float, endpoint: str) -> None:
    """The headline: an instant receiver, with where a delivery's time went."""
    print(f"\n{MODES[mode]}")
    print(f"  deliveries/s through the delivery path: {run['rate']:8.1f}")
    print(f"  bare requests loop, same concurrency:   {bare:8.1f}  ({bare_cpu:.1f} ms CPU per request)")
    print(f"  ratio: {run['rate'] / bare:.2f}  (target >= 0.8)")
    print(
        f"  AWS calls per delivered event: attempt {run['calls']:.2f} + fan-out {run['fan_out_calls']:.2f} "
        f"(one {endpoint})"
    )
    print(
        f"  per delivery, wall (CPU) of the threads: {run['aws_ms']:.1f} ({run['aws_cpu_ms']:.1f}) ms in AWS "
        f"calls, {run['post_ms']:.1f} ({run['post_cpu_ms']:.1f}) ms in the POST"
    )
    print(f"  ceiling of the ratio from CPU alone: {_ceiling(run, bare_cpu):.2f}")
    rest = run["cpu_ms"] - run["aws_cpu_ms"] - run["post_cpu_ms"]
    print(
        f"  CPU per delivery: {run['cpu_ms']:.1f} ms in this process (the rest of the path and the receiver "
        f"{rest:.1f})" + (f", {run['server_cpu_ms']:.1f} ms in the moto server" if "server_cpu_ms" in run else "")
    )


def _ceiling(run: dict[str, float], bare_cpu: float) -> float:
    """The best ratio the CPU allows, however well waits overlap: the bare loop's process cannot go faster
    than one core (the GIL) allows, nor can each of the delivery's processes, and the two of the server
    run share the machine's two cores."""
    here, server = run["cpu_ms"], run.get("server_cpu_ms", 0.0)
    best = 1000 / max(here, server) if server == 0.0 else min(1000 / max(here, server), 2000 / (here + server))
    return best / (1000 / bare_cpu)


def _shape(batch: int, concurrency: int, threads: int | None = None) -> tuple[int, int]:
    """(dispatch threads, consumers): in flight at once, consumers x threads <= concurrency (the bare loop's).

    Without `threads`, the shape that keeps the most requests in flight per round of a slow receiver:
    a batch on W threads takes ceil(batch / W) rounds, so consumers x batch / rounds deliveries per round;
    ties go to more threads per consumer (fewer Lambda invocations for the same work). Concurrency 5 at
    batch 5 is one consumer of 5 threads (one round a batch, the topology's shape: dispatch_workers 8 >= 5);
    concurrency 4 is 4 consumers of 1 thread (4 threads for 5 messages would take two rounds: 0.625 at best)."""
    if threads:
        workers = max(1, min(threads, batch, concurrency))
        return workers, max(1, concurrency // workers)

    def per_round(workers: int) -> tuple[float, int]:
        return (concurrency // workers) * batch / -(-batch // workers), workers

    workers = max(range(1, max(1, min(batch, concurrency)) + 1), key=per_round)
    return workers, max(1, concurrency // workers)


class _Listening(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops connects past it at a higher concurrency (each then
    # waits a second for its SYN to be sent again), on the bare loop's side and the delivery's alike
    request_queue_size = 128


def _receiver(delay: float = 0.0) -> tuple[ThreadingHTTPServer, str]:
    server = _Listening(("127.0.0.1", 0), Receiver)
    server.delay = delay  # type: ignore[attr-defined]  # read by Receiver.do_POST
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


def _child(mode: str, events: int, shape: tuple[int, int], batch: int, delay: float, target: str) -> dict[str, float]:
    workers, consumers = shape
    os.environ["HUB_DELIVERY_DISPATCH_WORKERS"] = str(workers)
    import boto3

    server, url = _receiver(delay)
    try:
        if mode == "mock":
            from moto import mock_aws

            from infra.local import moto_dynamodb

            moto_dynamodb.install()  # the local runtime's moto, as the server mode's process installs it
            with mock_aws():
                return _delivery_run(boto3, url, events, consumers, batch, None, target)
        with moto_server() as (endpoint, pid):
            os.environ["AWS_ENDPOINT_URL"] = endpoint
            return _delivery_run(boto3, url, events, consumers, batch, pid, target)
    finally:
        server.shutdown()


def _delivery_run(
    boto3: Any, url: str, events: int, consumers: int, batch: int, server_pid: int | None, endpoint: str
) -> dict[str, float]:
    from infra.local.resources import create_resources

    resources = create_resources(boto3.Session(region_name="us-east-1"))
    os.environ.update(resources.env)

    from bookinghub.aws.clients import client
    from bookinghub.bookings.models.events import BookingDomainEvent
    from bookinghub.core.auth import principal_from_claims
    from bookinghub.core.observability import metrics
    from bookinghub.delivery.dal.queue import AttemptMessage
    from bookinghub.delivery.logic import dispatch
    from bookinghub.delivery.logic.admin import create_endpoint
    from bookinghub.delivery.logic.clock import iso
    from bookinghub.delivery.logic.fanout import fan_out
    from bookinghub.delivery.models.api import EndpointCreate

    principal = principal_from_claims(
        {
            "sub": "b",
            "email": "bench@x",
            "token_use": "id",
            "cognito:groups": "admin",
            "custom:organisation_id": "bench-org",
        }
    )
    website_id = "no-such-website"
    if endpoint == "website":
        from bookinghub.delivery.models import website_endpoint_id
        from bookinghub.websites.logic.registry import register_website

        website_id = "bench-website"
        register_website(
            website_id=website_id,
            organisation_id="bench-org",
            name="Bench Website",
            domain="bench.example.com",
            webhook_url=url,
            webhook_secret="whsec_bench_local_only",  # noqa: S106 - a local bench's demo value
        )
        endpoint_id = website_endpoint_id(website_id)
    else:
        endpoint_id = str(create_endpoint(principal, EndpointCreate(url=url, event_types=["*"]))["endpoint"]["id"])
    meter = Meter()
    for service in ("dynamodb", "sqs", "kms"):
        client(service).meta.events.register("before-call", meter.before)
        client(service).meta.events.register("after-call", meter.after)
    dispatch.post = meter.timed_post(dispatch.post)  # type: ignore[assignment]  # the bench's stopwatch
    queued: list[str] = []
    for n in range(events):
        event = BookingDomainEvent(
            event_id=f"evt-{n:06d}",
            event_type="booking.updated",
            booking_id=f"00000000-0000-0000-0000-{n:012d}",
            website_id=website_id,
            organisation_id="bench-org",
            source_booking_id=f"s-{n}",
            origin="admin:bench",
            changed_fields=["admin_notes"],
            data={"admin_notes": "x" * 200},
            occurred_at=iso(time.time()),
        )
        queued += fan_out(event).queued
        # Outside a handler nothing flushes Powertools' metric set, and at 100 values it prints itself
        # (even with POWERTOOLS_METRICS_DISABLED): a Lambda would flush per invocation; the bench drops them
        metrics.clear_metrics()
    fan_out_calls = meter.calls / events
    dispatch.process(AttemptMessage(queued[0], 0, endpoint_id=endpoint_id))  # warm: first KMS decrypt, connection pool
    meter.reset()
    rest = queued[1:]
    # as the fan-out queues them: each message names its endpoint
    messages = [(AttemptMessage(d, 0, endpoint_id=endpoint_id), 1) for d in rest]
    batches = [messages[n : n + batch] for n in range(0, len(messages), batch)]
    server_cpu = _process_cpu(server_pid)
    cpu = time.process_time()
    started = time.perf_counter()
    with ThreadPoolExecutor(consumers) as pool:
        outcomes = [o for done in pool.map(dispatch.process_batch, batches) for o in done]
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    server_cpu = _process_cpu(server_pid) - server_cpu
    delivered = sum(1 for o in outcomes if getattr(o, "outcome", None) == "succeeded")
    if delivered != len(rest):
        print(f"warning: {len(rest) - delivered} of {len(rest)} attempts did not succeed", file=sys.stderr)
    per = 1000 / len(rest)
    figures = {
        "rate": len(rest) / elapsed,
        "calls": meter.calls / len(rest),
        "fan_out_calls": fan_out_calls,
        "aws_ms": meter.aws_seconds * per,
        "aws_cpu_ms": meter.aws_cpu * per,
        "post_ms": meter.post_seconds * per,
        "post_cpu_ms": meter.post_cpu * per,
        "cpu_ms": cpu * per,
    }
    if server_pid is not None:
        figures["server_cpu_ms"] = server_cpu * per
    return figures


def _bare(events: int, concurrency: int, delay: float = 0.0) -> tuple[float, float]:
    """The bare loop, with its own receiver in this process: (requests per second, CPU ms per request)."""
    import requests

    server, url = _receiver(delay)
    try:
        cpu = time.process_time()
        rate = _bare_run(requests, url, events, concurrency)
        return rate, (time.process_time() - cpu) * 1000 / (events - 1)
    finally:
        server.shutdown()


def _bare_run(requests: Any, url: str, events: int, concurrency: int) -> float:
    session = requests.Session()
    body = b'{"event_id":"x","data":{"admin_notes":"' + b"x" * 200 + b'"}}'
    headers = {"Content-Type": "application/json"}
    session.post(url, data=body, headers=headers, timeout=15)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(
            pool.map(lambda _: session.post(url, data=body, headers=headers, timeout=15).status_code, range(events - 1))
        )
    return (events - 1) / (time.perf_counter() - started)


def _process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of another process so far (/proc), 0 without one."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
