"""`bookinghub beds24 ...`: operators start Beds24 syncs and reconciliations and read runs and reports.

    bookinghub beds24 properties [--org demo-org]
    bookinghub beds24 sync --property demo-property --mode incremental|full|reconcile [--resync] [--no-wait]
    bookinghub beds24 runs --property demo-property [--limit 10]
    bookinghub beds24 report <run_id> [--limit 200]

Like the API's routes, it goes through the bookinghub services, with the caller's AWS credentials (or,
with --local, `make run`'s embedded AWS). `sync` queues the run for the Beds24Sync consumer and shows its
progress until it finishes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

POLL_SECONDS = 1.0
MODES = ("incremental", "full", "reconcile")


def add_parser(commands: Any, local_help: str) -> None:
    beds24 = commands.add_parser("beds24", help="Beds24 syncs, reconciliations and reports")
    actions = beds24.add_subparsers(dest="action", required=True)

    def common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--org", default="demo-org", help="organisation (default demo-org)")
        parser.add_argument("--local", action="store_true", help=local_help)
        return parser

    common(actions.add_parser("properties", help="the organisation's Beds24 properties"))
    sync = common(actions.add_parser("sync", help="start a sync or reconciliation and follow it"))
    sync.add_argument("--property", required=True, help="the hub's property id, e.g. demo-property")
    sync.add_argument("--mode", required=True, choices=MODES)
    sync.add_argument("--resync", action="store_true", help="reconcile: also repair every difference")
    sync.add_argument("--no-wait", action="store_true", help="print the queued run and return")
    sync.add_argument("--timeout", type=float, default=900.0, help="seconds to follow the run (default 900)")
    runs = common(actions.add_parser("runs", help="the property's recent runs with their counts"))
    runs.add_argument("--property", required=True)
    runs.add_argument("--limit", type=int, default=10)
    report = common(actions.add_parser("report", help="a run, with its reconciliation report"))
    report.add_argument("run_id")
    report.add_argument("--limit", type=int, default=200)


def run(args: argparse.Namespace) -> int:
    from bookinghub.beds24.dal import properties as property_store
    from bookinghub.beds24.dal import runs as run_store
    from bookinghub.beds24.logic.properties import property_view

    if args.action == "properties":
        props = property_store.organisation_properties(args.org)
        print(json.dumps([property_view(p) for p in props], indent=2))
        return 0
    if args.action == "report":
        found = run_store.get_run(args.run_id)
        if found is None:
            print(f"bookinghub: no run {args.run_id}", file=sys.stderr)
            return 1
        view: dict[str, Any] = found.model_dump(mode="json")
        if found.mode == "reconcile":
            view["report_entries"] = run_store.report_entries(args.run_id, args.limit)
        print(json.dumps(view, indent=2))
        return 0
    prop = property_store.get_property(args.org, args.property)
    if prop is None:
        print(f"bookinghub: no Beds24 property {args.property} in {args.org}", file=sys.stderr)
        return 1
    if args.action == "runs":
        runs = run_store.property_runs(prop.organisation_id, prop.id, max(1, min(args.limit, 100)))
        for each in runs:
            print(summary_line(each.model_dump(mode="json")))
        return 0
    return _sync(prop, args)


def _sync(prop: Any, args: argparse.Namespace) -> int:
    from bookinghub.beds24.dal import runs as run_store
    from bookinghub.beds24.logic.runs import start_run
    from bookinghub.core.errors import DomainError

    try:
        started = start_run(prop, args.mode, trigger="cli", requested_by="cli", resync=args.resync)
    except DomainError as error:
        print(f"bookinghub: {error.code}: {error.message}", file=sys.stderr)
        return 1
    print(f"run {started.run_id} queued ({started.mode})", flush=True)
    if args.no_wait:
        return 0
    deadline = time.monotonic() + args.timeout
    shown = ""
    while time.monotonic() < deadline:
        current = run_store.get_run(started.run_id)
        if current is not None:
            line = summary_line(current.model_dump(mode="json"))
            if line != shown:
                print(line, flush=True)  # progress: pages and counts as the consumer advances
                shown = line
            if current.status in ("succeeded", "failed"):
                return 0 if current.status == "succeeded" else 1
        time.sleep(POLL_SECONDS)
    print("bookinghub: still running; follow it with `bookinghub beds24 runs`", file=sys.stderr)
    return 3


def summary_line(run: dict[str, Any]) -> str:
    counts = run.get("counts") or {}
    parts = [
        f"{run['run_id']}  {run['mode']:<11} {run['status']:<9} started {run['started_at']}",
        f"pages {run.get('pages', 0)}",
        "processed {processed} created {created} updated {updated} unchanged {unchanged} failed {failed}".format(
            **{k: counts.get(k, 0) for k in ("processed", "created", "updated", "unchanged", "failed")}
        ),
    ]
    if run.get("report"):
        parts.append(" ".join(f"{k} {v}" for k, v in run["report"].items()))
    if run.get("duration_ms") is not None:
        parts.append(f"{run['duration_ms']} ms")
    if run.get("error"):
        parts.append(f"error: {run['error']}")
    return "  ".join(parts)
