"""Bytecodes per accepted `POST /api/bookings/sync`, ours and the minimal baseline's. Prints; asserts nothing.

bench/ingest.py times our CPU per sync against a minimal json.loads + validate + put_item, and its ratio
moves by a few percent from run to run (and more with the machine's load). This counts instead: the Python
bytecodes each request executes (sys.settrace's opcode events), outside AWS calls as ingest.py leaves them
out (from botocore's first event of a call to its last), against moto in this process. The same code and
inputs give the same counts whatever the machine is doing, so a change's effect on the sync path is read
here exactly, and where the bytecodes go (by function, by module). A count is not a time: C code (pydantic's
validation, the JSON encoders, hashing) executes no bytecode, and a bytecode's cost varies; ingest.py's
ratio is the target's measure, this one tells where to look.

Run: python bench/sync_bytecodes.py [--requests 20] [--top 30]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python"), str(ROOT / "bench")]

from ingest import LAMBDA_LIKE_ENV, bench_website_and_event, sync_body  # noqa: E402 - after the path is set

Where = tuple[str, str]  # (module path, function)


class BytecodeCounter:
    """Counts the opcodes executed outside AWS calls, by function."""

    def __init__(self) -> None:
        self.counts: Counter[Where] = Counter()
        self.in_call = False
        self._names: dict[Any, Where] = {}

    def attach(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.*.*", self._enter)
        client.meta.events.register("after-call.*.*", self._leave)
        client.meta.events.register("after-call-error.*.*", self._leave)

    def _enter(self, **_: Any) -> None:
        self.in_call = True

    def _leave(self, **_: Any) -> None:
        self.in_call = False

    def _trace(self, frame: FrameType, event: str, _: Any) -> Callable[..., Any]:
        frame.f_trace_opcodes = True
        if event == "opcode" and not self.in_call:
            code = frame.f_code
            where = self._names.get(code)
            if where is None:
                where = self._names[code] = (_short(code.co_filename), code.co_name)
            self.counts[where] += 1
        return self._trace

    def run(self, work: Callable[[], Any]) -> int:
        before = sum(self.counts.values())
        sys.settrace(self._trace)
        try:
            work()
        finally:
            sys.settrace(None)
        return sum(self.counts.values()) - before


def _short(filename: str) -> str:
    for marker in ("site-packages/", "layers/common/python/", "/lib/python3", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def measure(requests: int) -> tuple[Counter[Where], Counter[Where]]:
    os.environ.update(LAMBDA_LIKE_ENV)
    os.environ.update({"POWERTOOLS_TRACE_DISABLED": "true"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    with mock_aws():
        import boto3

        from infra import topology
        from infra.local.invoke import invoke
        from infra.local.resources import create_resources

        os.environ.update(create_resources(boto3.Session(region_name="us-east-1")).env)
        from bookinghub.aws.clients import client
        from bookinghub.bookings.models.sync import BookingSyncRequest

        event = bench_website_and_event()
        table = os.environ[topology.BOOKINGS.env_var]

        def ours(index: int) -> None:
            event["body"] = sync_body(index)
            answer = invoke("sync_bookings", event)
            if answer["statusCode"] != 200 or json.loads(answer["body"]).get("outcome") != "created":
                raise SystemExit(f"request {index} was not created: {answer}")

        def minimal(index: int) -> None:  # bench/ingest.py's baseline
            request = BookingSyncRequest.model_validate(json.loads(sync_body(index)), strict=False)
            item = {"PK": {"S": f"MIN#{request.source_booking_id}"}, "SK": {"S": "BOOKING"}}
            item["body"] = {"S": request.model_dump_json()}
            client("dynamodb").put_item(TableName=table, Item=item)

        # Log lines and metrics are written (that is our work) but to /dev/null, as ingest.py does
        import contextlib
        import logging

        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            for handler in logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"]).handlers:
                if isinstance(handler, logging.StreamHandler):
                    handler.setStream(sink)
            for warm in range(20):  # caches, clients and the resolver's remembered route
                ours(10_000_000 + warm)
                minimal(20_000_000 + warm)
            counted_ours, counted_minimal = BytecodeCounter(), BytecodeCounter()
            for counter in (counted_ours, counted_minimal):
                counter.attach(client("dynamodb"))
            for index in range(requests):  # interleaved, as ingest.py runs them
                counted_ours.run(partial(ours, 30_000_000 + index))
                counted_minimal.run(partial(minimal, 40_000_000 + index))
    return counted_ours.counts, counted_minimal.counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--top", type=int, default=30, help="functions listed")
    args = parser.parse_args()
    ours, minimal = measure(args.requests)
    per_ours, per_minimal = sum(ours.values()) / args.requests, sum(minimal.values()) / args.requests
    print(f"Bytecodes per accepted sync, AWS calls excluded ({args.requests} requests, moto in this process):")
    print(f"  ours {per_ours:.0f}   minimal baseline {per_minimal:.0f}   ratio {per_ours / per_minimal:.2f}")
    shared = sum(min(count, minimal.get(where, 0)) for where, count in ours.items()) / args.requests
    print(f"  in both (the same functions, e.g. the email validator): {shared:.0f}; ours only: {per_ours - shared:.0f}")
    by_module: Counter[str] = Counter()
    for (module, _), count in ours.items():
        by_module[module] += count
    print(f"\nOurs by module (per request, top {min(args.top, len(by_module))}):")
    for module, count in by_module.most_common(args.top):
        print(f"  {count / args.requests:7.0f}  {module}")
    print(f"\nOurs by function (per request, top {args.top}):")
    for (module, function), count in ours.most_common(args.top):
        print(f"  {count / args.requests:7.0f}  {module}:{function}")


if __name__ == "__main__":
    main()
