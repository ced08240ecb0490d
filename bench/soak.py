"""Soak benchmark: the local stack (`python -m infra.local`, as `make run` starts it) under minutes of load.
Prints figures and whether the targets hold; exits 1 when one does not (or a request answered 5xx).

Client threads drive through the local gateway, over real HTTP, a mix of:
- distinct `POST /api/bookings/sync` (a new booking each: the table grows all along),
- redeliveries of an earlier booking's very payload (`unchanged`: a cancelled transaction),
- a different `booking.created` for an earlier booking (409: a cancelled transaction),
- rejected requests (an unknown API key: 401; a payload that is not a booking: 400),
- admin edits of an earlier booking (`GET` for its ETag, then `PUT /api/bookings/{id}`), each of which
  the hub signs and delivers to the sandbox website receiver.

Figures: throughput; latency p50/p95 of the distinct syncs and of all requests in the first and the last
window (a minute by default); the hub process's resident memory (VmRSS, sampled) over time, and its
growth per 10,000 bookings; how many edits reached the receiver. Targets (issue 10): memory growth under
100 MB per 10,000 bookings; last-window p50 of a sync within 1.5x of the first window's.

Run: .venv/bin/python bench/soak.py [--minutes 3] [--clients 2]    a smoke run: --short (30 s)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]

from infra.local import auth  # noqa: E402
from infra.local.housekeeping import STREAM_TAIL_RECORDS  # noqa: E402

WEBSITE, API_KEY = "test-website", "test_sk_xxxxx"  # a demo website and its local demo API key (README)
MEMORY_TARGET_MB_PER_10K = 100.0
LATENCY_TARGET_RATIO = 1.5
STARTUP_SECONDS = 90.0
SAMPLE_SECONDS = 2.0
# The request mix, per 20 requests: distinct syncs, redeliveries, conflicting creates, rejected, edits
MIX = ["sync"] * 10 + ["redelivery"] * 3 + ["conflict"] * 2 + ["rejected"] * 2 + ["edit"] * 3


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the load started
    kind: str
    status: int
    seconds: float


@dataclass
class Load:
    """What the client threads share: the bookings created so far and every request's sample."""

    started: float = field(default_factory=time.monotonic)
    samples: list[Sample] = field(default_factory=list)
    bookings: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # booking id, payload sent
    edits_accepted: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_index: int = 0

    def index(self) -> int:
        with self.lock:
            self.next_index += 1
            return self.next_index


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any, dict]:
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    sent = urllib.request.Request(  # noqa: S310  (the local hub's http://127.0.0.1 URLs only)
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(sent, timeout=60) as response:  # noqa: S310
            status, raw, answer_headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, raw, answer_headers = error.code, error.read(), dict(error.headers)
    try:
        return status, json.loads(raw or b"null"), answer_headers
    except ValueError:
        return status, raw, answer_headers


def booking_payload(index: int) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((ROOT / "events/sync_bookings/seed_booking_created.body.json").read_text())
    body["source_booking_id"] = f"soak-{os.getpid()}-{index:07d}"
    body["booking_ref"] = f"SK-{index:07d}"
    body["activity_date"] = f"2026-{1 + index % 12:02d}-{1 + index % 28:02d}"
    body["customer"] = {**body["customer"], "email": f"guest{index}@example.com"}
    return body


class Hub:
    """`python -m infra.local` on free loopback ports, with a signing key of its own for admin tokens."""

    def __init__(self, directory: Path) -> None:
        self.key = directory / "local-jwt-key.pem"
        self.log_path = directory / "hub.log"
        ports = {
            name: free_port()
            for name in ("HUB_PORT", "HUB_AWS_PORT", "HUB_SANDBOX_PORT", "HUB_ROOMS_PORT", "HUB_BEDS24_PORT")
        }
        self.url = f"http://127.0.0.1:{ports['HUB_PORT']}"
        self.receiver_url = f"http://127.0.0.1:{ports['HUB_SANDBOX_PORT']}"
        self.aws_url = f"http://127.0.0.1:{ports['HUB_AWS_PORT']}"
        env = {
            **os.environ,
            **{name: str(port) for name, port in ports.items()},
            auth.KEY_ENV: str(self.key),
            "PYTHONPATH": f"{ROOT / 'layers/common/python'}{os.pathsep}{ROOT}",
            "POWERTOOLS_LOG_LEVEL": "WARNING",  # the figures are about the hub, not its log volume
        }
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "infra.local"], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the hub exited during startup:\n{self.log_path.read_text()[-3000:]}")
            try:
                if request("GET", f"{self.url}/api/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit("the hub did not become healthy")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def token(self) -> str:
        return auth.issue_token(role="admin", email="soak@demo.example", path=self.key)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def one_request(hub: Hub, load: Load, kind: str, token: str, rng: random.Random) -> None:
    with load.lock:
        earlier = rng.choice(load.bookings) if load.bookings else None
    if earlier is None:
        kind = "sync"
    started = time.monotonic()
    sync_url, key = f"{hub.url}/api/bookings/sync", {"X-API-Key": API_KEY}
    if kind == "sync":
        payload = booking_payload(load.index())
        status, answer, _ = request("POST", sync_url, payload, key)
        if status == 200:
            with load.lock:
                load.bookings.append((answer["booking_id"], payload))
    elif kind == "redelivery":
        status, _, _ = request("POST", sync_url, earlier[1], key)  # type: ignore[index]
    elif kind == "conflict":
        different = {**earlier[1], "guest_count": earlier[1]["guest_count"] + 1}  # type: ignore[index]
        status, _, _ = request("POST", sync_url, different, key)
    elif kind == "rejected":
        if rng.random() < 0.5:
            status, _, _ = request("POST", sync_url, booking_payload(load.index()), {"X-API-Key": "soak_unknown_key"})
        else:
            status, _, _ = request("POST", sync_url, {"event": "booking.created"}, key)
    else:
        path, auth_header = f"{hub.url}/api/bookings/{earlier[0]}", {"Authorization": f"Bearer {token}"}  # type: ignore[index]
        status, _, headers = request("GET", path, headers=auth_header)
        if status == 200:
            slot = f"{rng.randrange(8, 18):02d}:{rng.choice(('00', '30'))}"
            status, answer, _ = request("PUT", path, {"time_slot": slot}, {**auth_header, "If-Match": headers["ETag"]})
            if status == 200 and answer.get("changed_fields"):
                with load.lock:
                    load.edits_accepted += 1
    seconds = time.monotonic() - started
    with load.lock:
        load.samples.append(Sample(started - load.started, kind, status, seconds))


def drive(hub: Hub, load: Load, until: float, seed: int) -> None:
    rng = random.Random(seed)
    token, token_at = hub.token(), time.monotonic()
    while time.monotonic() < until:
        if time.monotonic() - token_at > 1800:
            token, token_at = hub.token(), time.monotonic()
        one_request(hub, load, rng.choice(MIX), token, rng)


def sample_memory(hub: Hub, load: Load, stop: threading.Event, out: list[tuple[float, float, int]]) -> None:
    while not stop.is_set():
        with load.lock:
            created = len(load.bookings)
        out.append((time.monotonic() - load.started, hub.rss_mb(), created))
        stop.wait(SAMPLE_SECONDS)


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def window(samples: list[Sample], start: float, end: float, kinds: set[str] | None = None) -> list[float]:
    return [s.seconds for s in samples if start <= s.at < end and (kinds is None or s.kind in kinds) and s.status < 500]


def delivered_edits(hub: Hub, expected: int, wait_seconds: float = 60.0) -> int:
    deadline = time.monotonic() + wait_seconds
    while True:
        status, deliveries, _ = request("GET", f"{hub.receiver_url}/{WEBSITE}/deliveries")
        count = len(deliveries) if status == 200 else 0
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(1)


def stored_data(hub: Hub) -> tuple[int, float, int, float]:
    """What the embedded DynamoDB holds at the end: items and their JSON MB, stream records and theirs."""
    import boto3

    from infra.local.aws_env import LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY

    session = boto3.session.Session(
        aws_access_key_id=LOCAL_ACCESS_KEY_ID, aws_secret_access_key=LOCAL_SECRET_ACCESS_KEY, region_name="us-east-1"
    )
    ddb = session.client("dynamodb", endpoint_url=hub.aws_url)
    streams = session.client("dynamodbstreams", endpoint_url=hub.aws_url)
    items = item_bytes = records = record_bytes = 0
    for table in ddb.list_tables()["TableNames"]:
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            items += len(page["Items"])
            item_bytes += sum(len(json.dumps(item, default=str)) for item in page["Items"])
        arn = ddb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
        if arn:
            for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
                iterator = streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
                while iterator:
                    page = streams.get_records(ShardIterator=iterator, Limit=1000)
                    if not page["Records"]:
                        break
                    records += len(page["Records"])
                    record_bytes += sum(len(json.dumps(r, default=str)) for r in page["Records"])
                    iterator = page.get("NextShardIterator")
    return items, item_bytes / 2**20, records, record_bytes / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0, help="how long to drive load (default 3)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds of the first and last window (default 60)")
    parser.add_argument("--clients", type=int, default=2, help="client threads (default 2)")
    parser.add_argument("--short", action="store_true", help="a smoke run: 30 s, 10 s windows")
    args = parser.parse_args()
    duration, span = (30.0, 10.0) if args.short else (args.minutes * 60, args.window)
    if duration < 2 * span:
        parser.error("the run must be at least two windows long")

    with tempfile.TemporaryDirectory(prefix="bookinghub-soak-") as directory:
        hub = Hub(Path(directory))
        try:
            return run(hub, duration, span, args.clients)
        finally:
            hub.stop()


def run(hub: Hub, duration: float, span: float, clients: int) -> int:
    memory: list[tuple[float, float, int]] = []
    rss_at_start = hub.rss_mb()
    load = Load()
    stop_sampling = threading.Event()
    sampler = threading.Thread(target=sample_memory, args=(hub, load, stop_sampling, memory), daemon=True)
    sampler.start()
    until = load.started + duration
    threads = [threading.Thread(target=drive, args=(hub, load, until, seed)) for seed in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - load.started
    stop_sampling.set()
    sampler.join()

    samples, created = load.samples, len(load.bookings)
    statuses = Counter((s.kind, s.status) for s in samples)
    server_errors = sum(n for (_, status), n in statuses.items() if status >= 500)
    print(
        f"Soak: {elapsed:.0f} s, {clients} client threads, {len(samples)} requests ({len(samples) / elapsed:.1f}/s), "
        f"{created} bookings created ({created / elapsed:.1f}/s)"
    )
    print("Answers: " + ", ".join(f"{kind} {status}: {n}" for (kind, status), n in sorted(statuses.items())))

    first_sync, last_sync = window(samples, 0, span, {"sync"}), window(samples, elapsed - span, elapsed + 1, {"sync"})
    first_all, last_all = window(samples, 0, span), window(samples, elapsed - span, elapsed + 1)
    print(f"\nLatency, s           first {span:.0f} s        last {span:.0f} s")
    for label, first, last in (("distinct sync", first_sync, last_sync), ("every request", first_all, last_all)):
        print(
            f"  {label:<16} p50 {percentile(first, 50):.3f} p95 {percentile(first, 95):.3f}   "
            f"p50 {percentile(last, 50):.3f} p95 {percentile(last, 95):.3f}   (n={len(first)}/{len(last)})"
        )

    print("\nHub resident memory (VmRSS):")
    print(f"  at start (after startup, before load): {rss_at_start:.0f} MB")
    step = max(1, len(memory) // 12)
    for at, rss, count in memory[::step] + memory[-1:]:
        print(f"  {at:6.0f} s  {rss:7.0f} MB  {count:6d} bookings")
    # Growth from the end of the first window (caches warm) to the end, per 10k bookings created meanwhile
    warm = next((m for m in memory if m[0] >= span), memory[0])
    end = memory[-1]
    growth = (end[1] - warm[1]) / max(1, end[2] - warm[2]) * 10_000

    items, item_mb, records, record_mb = stored_data(hub)
    print(
        f"  the embedded DynamoDB holds {items} items ({item_mb:.1f} MB as JSON) and {records} stream records "
        f"({record_mb:.1f} MB as JSON; the local stream keeps what its pollers have not read and a tail of "
        f"{STREAM_TAIL_RECORDS}): moto keeps them in Python objects, several times their JSON size"
    )

    edits_delivered = delivered_edits(hub, load.edits_accepted)
    print(f"\nEdits accepted {load.edits_accepted}, webhooks received by the website {edits_delivered}")

    ratio = percentile(last_sync, 50) / percentile(first_sync, 50)
    checks = [
        (
            f"memory growth {growth:.0f} MB per 10,000 bookings",
            growth < MEMORY_TARGET_MB_PER_10K,
            f"< {MEMORY_TARGET_MB_PER_10K:.0f}",
        ),
        (f"last/first p50 of a sync {ratio:.2f}x", ratio <= LATENCY_TARGET_RATIO, f"<= {LATENCY_TARGET_RATIO}"),
        (f"5xx answers {server_errors}", server_errors == 0, "0"),
        (f"edits delivered {edits_delivered} of {load.edits_accepted}", edits_delivered == load.edits_accepted, "all"),
    ]
    print()
    for label, ok, target in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {label}   (target {target})")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
