"""Beds24 full-sync benchmark: what pulling a property of N bookings costs. Prints figures; asserts nothing.

For 1,000 and 10,000 bookings (the Beds24 sandbox generates them), a first full sync (every booking new)
and a second one (every booking unchanged) run through the real service (bookinghub.beds24.logic.sync,
the Beds24Sync consumer's code) against moto and the sandbox, each in a process of its own, as DynamoDB
and Beds24 are remote from a Lambda:

1. AWS API calls per booking, counted with botocore's event hooks (target <= 0.2).
2. Peak memory of the sync (tracemalloc: Python allocations of this process while it syncs), and its
   growth from 1k to 10k bookings (target < 30 MB: pages are processed one at a time).
3. Wall time and bookings per second, for scale.

Run: .venv/bin/python bench/beds24_full_sync.py [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]

from bench.ingest import LAMBDA_LIKE_ENV, free_port, wait_for_port  # noqa: E402
from infra.local.sandbox.beds24_data import DEMO_REFRESH_TOKEN  # noqa: E402

SANDBOX = """
import sys
from werkzeug.serving import make_server
from infra.local.sandbox.beds24 import create_app
app = create_app(seed_demo=False, credit_limit=10**9)
server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
server.serve_forever()
"""


class Meter:
    """AWS API calls by operation, counted on the hub's own cached clients."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def attach(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.*.*", self._count)

    def _count(self, event_name: str, **_: Any) -> None:
        self.calls[event_name.split(".")[-1]] += 1

    def total(self) -> int:
        return sum(self.calls.values())


def start(command: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return process


def full_sync(prop: Any, meter: Meter) -> dict[str, float]:
    from bookinghub.beds24.dal import properties as property_store
    from bookinghub.beds24.logic.sync import process_job, start_run

    prop = property_store.get_property(prop.organisation_id, prop.id)
    meter.calls.clear()
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    run = start_run(prop, "full", trigger="bench")
    outcome = process_job(run.run_id, remaining_ms=lambda: 10**9)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if outcome != "succeeded":
        raise SystemExit(f"the sync did not succeed: {outcome}")
    return {"seconds": elapsed, "peak_mb": peak / 2**20, "calls": meter.total()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()

    aws_port, sandbox_port = free_port(), free_port()
    env = {**os.environ, **LAMBDA_LIKE_ENV, "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/common/python'}"}
    # moto's server with the local runtime's DynamoDB transactions (no whole-table copy per write)
    moto_server = [sys.executable, "-m", "infra.local.moto_dynamodb", "-H", "127.0.0.1", "-p", str(aws_port)]
    moto = start(moto_server, aws_port, env)
    sandbox = start([sys.executable, "-c", SANDBOX, str(sandbox_port)], sandbox_port, env)
    try:
        os.environ.update(LAMBDA_LIKE_ENV)
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
                "HUB_ALLOW_INSECURE_WEBHOOKS": "true",  # the sandbox is plain http on loopback
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "HUB_AWS_READ_TIMEOUT_SECONDS": "120",  # moto answers index queries by scanning the table
            }
        )
        import boto3
        import requests

        from bookinghub.aws.clients import client
        from bookinghub.beds24.logic.properties import register_property
        from infra.local.resources import create_resources

        os.environ.update(create_resources(boto3.session.Session()).env)
        meter = Meter()
        for service in ("dynamodb", "sqs", "kms"):
            meter.attach(client(service))

        header = ("bookings", "sync", "AWS calls", "per booking", "peak MB", "s", "bookings/s")
        print("{:>9} {:<6} {:>9} {:>11} {:>8} {:>7} {:>10}".format(*header))
        peaks: dict[int, float] = {}
        for index, size in enumerate(args.sizes):
            beds24_id = 50_000 + index  # a property of its own per size: nothing carried over
            sandbox_url = f"http://127.0.0.1:{sandbox_port}"
            generated = requests.post(
                f"{sandbox_url}/_control/generate", json={"count": size, "property_id": beds24_id}, timeout=120
            )
            generated.raise_for_status()
            prop = register_property(
                organisation_id="bench-org",
                property_id=f"bench-{size}",
                name=f"Bench {size}",
                beds24_property_id=beds24_id,
                refresh_token=DEMO_REFRESH_TOKEN,  # the sandbox's LOCAL DEMO token
                base_url=f"{sandbox_url}/v2",
                sync_days_back=60,
                sync_days_ahead=400,
            ).property
            for label in ("first", "again"):
                figures = full_sync(prop, meter)
                if label == "first":
                    peaks[size] = figures["peak_mb"]
                print(
                    f"{size:>9} {label:<6} {figures['calls']:>9.0f} {figures['calls'] / size:>11.3f} "
                    f"{figures['peak_mb']:>8.1f} {figures['seconds']:>7.1f} {size / figures['seconds']:>10.0f}"
                )
            print(f"{'':>9} calls by operation (second sync): {dict(meter.calls.most_common())}")
        if len(peaks) > 1:
            sizes = sorted(peaks)
            growth = peaks[sizes[-1]] - peaks[sizes[0]]
            print(f"peak memory growth {sizes[0]} -> {sizes[-1]} bookings: {growth:.1f} MB (target < 30 MB)")
        print("target: <= 0.2 AWS calls per booking")
    finally:
        for process in (sandbox, moto):
            process.kill()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
