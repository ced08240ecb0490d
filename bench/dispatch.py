"""Dispatch benchmark (issue 12): deliveries per second to a local receiver, as a ratio to a bare
`requests` loop at the same concurrency (target >= 0.8), and AWS calls per delivered event.
Prints figures; asserts nothing.

AWS is moto in-process (mock_aws; a call costs several ms of CPU here, and moto holds the GIL); the
receiver is http.server on 127.0.0.1. Each worker thread stands for one consumer: it takes a queue batch
(`--batch`, the topology's 5) and runs the consumer's whole path on it (process_batch: batch read,
claims, sign, POST in parallel, outcomes, one status update and one log write per batch). Consumers
times the dispatch threads of each is at most `--concurrency`, so no more requests are in flight than
in the bare loop, which POSTs the same body with the same headers on `--concurrency` threads.

Run: .venv/bin/python bench/dispatch.py --events 300 --concurrency 4
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]

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


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


class CallCounter:
    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, **_: Any) -> None:
        with self._lock:
            self.calls += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=5, help="messages per queue batch (the topology's)")
    args = parser.parse_args()
    os.environ.update(ENV)
    # in flight at once: consumers x dispatch threads <= concurrency (the bare loop's)
    workers = max(1, min(args.batch, args.concurrency))
    consumers = max(1, args.concurrency // workers)
    os.environ["HUB_DELIVERY_DISPATCH_WORKERS"] = str(workers)

    import boto3
    import requests
    from moto import mock_aws

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"

    with mock_aws():
        from infra.local.resources import create_resources

        resources = create_resources(boto3.Session(region_name="us-east-1"))
        os.environ.update(resources.env)
        rate, calls, fan_out_calls = _delivery_run(url, args.events, consumers, args.batch)
    bare = _bare_run(requests, url, args.events, args.concurrency)
    server.shutdown()
    print(
        f"deliveries/s through the delivery path: {rate:8.1f}  "
        f"({consumers} consumer(s) x {workers} dispatch threads, batches of {args.batch})"
    )
    print(f"bare requests loop, same concurrency:   {bare:8.1f}")
    print(f"ratio: {rate / bare:.2f}  (target >= 0.8)")
    print(f"AWS calls per delivered event: attempt {calls:.2f} + fan-out {fan_out_calls:.2f} (one subscription)")


def _delivery_run(url: str, events: int, consumers: int, batch: int) -> tuple[float, float, float]:
    from bookinghub.aws.clients import client
    from bookinghub.bookings.models.events import BookingDomainEvent
    from bookinghub.core.auth import principal_from_claims
    from bookinghub.delivery.dal.queue import AttemptMessage
    from bookinghub.delivery.logic.admin import create_endpoint
    from bookinghub.delivery.logic.clock import iso
    from bookinghub.delivery.logic.dispatch import process, process_batch
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
    create_endpoint(principal, EndpointCreate(url=url, event_types=["*"]))
    counter = CallCounter()
    for service in ("dynamodb", "sqs", "kms"):
        client(service).meta.events.register("before-call", counter)
    queued: list[str] = []
    for n in range(events):
        event = BookingDomainEvent(
            event_id=f"evt-{n:06d}",
            event_type="booking.updated",
            booking_id=f"00000000-0000-0000-0000-{n:012d}",
            website_id="no-such-website",
            organisation_id="bench-org",
            source_booking_id=f"s-{n}",
            origin="admin:bench",
            changed_fields=["admin_notes"],
            data={"admin_notes": "x" * 200},
            occurred_at=iso(time.time()),
        )
        queued += fan_out(event).queued
    fan_out_calls = counter.calls / events
    process(AttemptMessage(queued[0], 0))  # warm: first KMS decrypt, connection pool
    counter.calls = 0
    rest = queued[1:]
    batches = [[(AttemptMessage(d, 0), 1) for d in rest[n : n + batch]] for n in range(0, len(rest), batch)]
    started = time.perf_counter()
    with ThreadPoolExecutor(consumers) as pool:
        outcomes = [o for done in pool.map(process_batch, batches) for o in done]
    elapsed = time.perf_counter() - started
    delivered = sum(1 for o in outcomes if getattr(o, "outcome", None) == "succeeded")
    if delivered != len(rest):
        print(f"warning: {len(rest) - delivered} of {len(rest)} attempts did not succeed", file=sys.stderr)
    return (len(queued) - 1) / elapsed, counter.calls / (len(queued) - 1), fan_out_calls


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


if __name__ == "__main__":
    main()
