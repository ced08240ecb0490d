"""Cold-start benchmark: each function's init in a fresh interpreter, as a ratio to `import boto3` + one
client measured in the same run. Prints figures; asserts nothing (targets: import <= 1.3x, import + first
request <= 1.8x).

For every topology function, in a fresh interpreter each time (median of `--repeats`): the handler
module's import, and its import plus the first request (the function's sample event from events/, against
moto's server in a process of its own, holding the topology's resources and a registered website). Each
function's runs alternate with runs of the baseline, and its ratios are to the median of those baseline
runs: the machine's load at that moment weighs on both alike.

The environment is Lambda's (`LAMBDA_INIT_ENV`): tracing on and sampled (LAMBDA_TASK_ROOT and a sampled
_X_AMZN_TRACE_ID, so Powertools' Tracer and the X-Ray SDK take their Lambda paths: the SDK's Lambda
context and local sampler, segments sent over UDP to the absent daemon), Powertools' service and
namespace set.

`--no-pyc` also measures without bytecode (an empty PYTHONPYCACHEPREFIX: every module compiled from source
at import, as in a layer shipped without .pyc) to show what the layer's compiled bytecode saves.

Run: python bench/cold_start.py [--repeats 5] [--no-pyc] [--json] [--clock cpu|wall] [--only FUNCTION ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python"), str(ROOT / "bench")]

from ingest import LAMBDA_LIKE_ENV, free_port, wait_for_port  # noqa: E402 - after the path is set

# What Lambda sets in every execution environment that changes what tracing does at init: without
# LAMBDA_TASK_ROOT, Powertools turns tracing off and the X-Ray SDK builds a botocore X-Ray client for its
# centralised sampler (~80 ms) that it never builds in Lambda.
LAMBDA_INIT_ENV = {
    "LAMBDA_TASK_ROOT": str(ROOT),
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
}

# The first request of each function: its sample event (None: import only)
FIRST_EVENTS = {
    "sync_bookings": "sync_bookings/booking_created",
    "admin_api": "admin_api/list_bookings",
    "stripe_webhook": "stripe_webhook/customer_created",
    "beds24_webhook": "beds24_webhook/booking_modified",
    "booking_events": "booking_events/admin_changes",
    "health": "health/get_health",
    "issue_pincodes": "issue_pincodes/pass_queued",
    "outbox_relay": "outbox_relay/outbox_insert",
    "passes": "passes/get_pass",
    "beds24_admin": "beds24_admin/request_sync",
    "delivery_api": "delivery_api/list_endpoints",
    "pms_admin": "pms_admin/list_configurations",
}

# The interpreter's own CPU time by default: on a machine shared with other jobs, wall time also counts the
# time this process waited for a core (the baseline's and a function's runs each suffer it differently);
# `--clock wall` times with perf_counter instead. moto's work is in its own process either way.
CLOCKS = {"cpu": "process_time", "wall": "perf_counter"}

SNIPPET = """
import json, os, sys, time
clock = getattr(time, os.environ.get("COLD_START_CLOCK", "process_time"))
started = clock()
{body}
imported = clock()
if {event!r}:
    class Context:
        function_name, memory_limit_in_mb, aws_request_id = {name!r}, 256, "cold-start-bench"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + {name!r}
        function_version, log_group_name, log_stream_name = "$LATEST", "/aws/lambda/" + {name!r}, "bench"
        def get_remaining_time_in_millis(self): return 10_000
    event = json.load(open({event!r}))
    try:
        module.lambda_handler(event, Context())
    except Exception as error:  # a first request may be refused; its init is what is measured
        print("first request raised", type(error).__name__, file=sys.stderr)
done = clock()
print("COLD-START", json.dumps({{"import": imported - started, "first": done - started}}))
"""

BASELINE = "import boto3\nmodule = boto3.client('dynamodb', region_name='us-east-1')"


def handler_import(path: Path) -> str:
    return (
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('handler', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)"
    )


def run_fresh(snippet: str, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", snippet], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    line = next(line for line in reversed(out.stdout.splitlines()) if line.startswith("COLD-START "))
    return dict(json.loads(line.removeprefix("COLD-START ")))


def one_run(snippet: str, env: dict[str, str], *, no_pyc: bool) -> dict[str, float]:
    if not no_pyc:
        return run_fresh(snippet, env)
    with tempfile.TemporaryDirectory() as empty:
        return run_fresh(snippet, {**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": empty})


def paired(snippet: str, env: dict[str, str], repeats: int, *, no_pyc: bool) -> dict[str, float]:
    """Medians of `repeats` runs of `snippet` and of the baseline, alternating (ms, and ratios)."""
    baseline_snippet = SNIPPET.format(body=BASELINE, event="", name="baseline")
    runs, baselines = [], []
    for _ in range(repeats):
        baselines.append(one_run(baseline_snippet, env, no_pyc=no_pyc)["import"])
        runs.append(one_run(snippet, env, no_pyc=no_pyc))
    baseline = statistics.median(baselines)
    imported = statistics.median(run["import"] for run in runs)
    first = statistics.median(run["first"] for run in runs)
    return {
        "baseline_ms": baseline * 1000,
        "import_ms": imported * 1000,
        "import_ratio": imported / baseline,
        "first_ms": first * 1000,
        "first_ratio": first / baseline,
    }


def lambda_env(extra: dict[str, str]) -> dict[str, str]:
    """A fresh interpreter's environment: this one's, Lambda's (tracing on) and the project's paths."""
    env = {**os.environ, **LAMBDA_LIKE_ENV, **LAMBDA_INIT_ENV, **extra}
    env["PYTHONPATH"] = f"{ROOT}:{ROOT / 'layers/common/python'}"
    env.pop("POWERTOOLS_TRACE_DISABLED", None)  # Lambda traces: import and do what tracing does
    # The layer ships bytecode: with PYTHONDONTWRITEBYTECODE inherited, the warm-up run wrote no .pyc and a
    # tree that never had any (a fresh worktree) measured its own modules compiled from source
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def import_ratios(repeats: int) -> dict[str, dict[str, float]]:
    """Each function's handler import alone (no AWS needed), paired with the baseline as in `measure`."""
    from infra import topology

    env = lambda_env({})
    env.pop("AWS_ENDPOINT_URL", None)
    results = {}
    for fn in topology.FUNCTIONS:
        snippet = SNIPPET.format(body=handler_import(ROOT / fn.handler_path), event="", name=fn.name)
        run_fresh(snippet, env)  # writes .pyc
        results[fn.name] = paired(snippet, env, repeats, no_pyc=False)
    return results


def prepare(port: int, workdir: Path) -> tuple[dict[str, str], dict[str, Path]]:
    """moto's server with the topology's resources and the sample events' website; returns the env and
    each function's first event (written to `workdir`)."""
    import boto3

    os.environ.update(LAMBDA_LIKE_ENV)
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    from infra.local.resources import create_resources

    resources = create_resources(boto3.Session(region_name="us-east-1"))
    os.environ.update(resources.env)
    from bookinghub.websites.logic.registry import register_website

    register_website(
        website_id="test-website",
        organisation_id="demo-org",
        name="Bench",
        domain="bench.local",
        api_key="test_sk_xxxxx",
    )
    # The property whose webhook token the Beds24 sample carries: without it the first request was a 401
    # after one read, not the authenticated path every real webhook takes (property read, secret check,
    # event record). Its Beds24 API is never called by a webhook.
    from bookinghub.beds24.logic.properties import register_property
    from infra.local.sandbox.beds24_demo import LOCAL_DEMO_WEBHOOK_SECRET

    register_property(
        organisation_id="demo-org",
        property_id="bench-property",
        name="Bench",
        beds24_property_id=12345,
        refresh_token=None,
        webhook_secret=LOCAL_DEMO_WEBHOOK_SECRET,
    )
    env = lambda_env({})
    events = {}
    for name, sample in FIRST_EVENTS.items():
        path = workdir / f"{name}.json"
        path.write_text((ROOT / "events" / f"{sample}.json").read_text())
        events[name] = path
    return env, events


def measure(repeats: int, *, no_pyc: bool, only: list[str] | None = None) -> dict[str, Any]:
    from infra import topology

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        with tempfile.TemporaryDirectory() as workdir:
            env, events = prepare(port, Path(workdir))
            modes = [False, True] if no_pyc else [False]
            results: dict[str, Any] = {}
            for mode in modes:
                label = "without_pyc" if mode else "with_pyc"
                run_fresh(SNIPPET.format(body=BASELINE, event="", name="baseline"), env)  # writes .pyc
                functions = {}
                for fn in topology.FUNCTIONS:
                    if only and fn.name not in only:
                        continue
                    event = str(events.get(fn.name, ""))
                    snippet = SNIPPET.format(body=handler_import(ROOT / fn.handler_path), event=event, name=fn.name)
                    run_fresh(snippet, env)
                    timing = paired(snippet, env, repeats, no_pyc=mode)
                    functions[fn.name] = {
                        "baseline_ms": timing["baseline_ms"],
                        "import_ms": timing["import_ms"],
                        "import_ratio": timing["import_ratio"],
                        "first_request_ms": timing["first_ms"] if event else None,
                        "first_request_ratio": timing["first_ratio"] if event else None,
                    }
                baselines = [row["baseline_ms"] for row in functions.values()]
                results[label] = {"baseline_ms": statistics.median(baselines), "functions": functions}
            return results
    finally:
        server.kill()  # moto's werkzeug server does not stop on SIGTERM promptly
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-pyc", action="store_true", help="also measure without bytecode")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", action="append", metavar="FUNCTION", help="only these functions (repeatable)")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="cpu", help="the interpreter's CPU time or wall time"
    )
    args = parser.parse_args()
    os.environ["COLD_START_CLOCK"] = CLOCKS[args.clock]
    results = measure(args.repeats, no_pyc=args.no_pyc, only=args.only)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for label, result in results.items():
        print(
            f"\n== {label}, {args.clock} time: baseline `import boto3` + one client: {result['baseline_ms']:.0f} ms "
            "(median over the runs; each function's ratios are to the baseline runs beside its own) =="
        )
        print(
            f"  {'function':<20} {'baseline':>8} {'import':>8} {'ratio':>6}   {'+1st request':>12} {'ratio':>6}"
            "   targets 1.3 / 1.8"
        )
        for name, row in result["functions"].items():
            first = (
                f"{row['first_request_ms']:9.0f} ms {row['first_request_ratio']:6.2f}"
                if row["first_request_ms"] is not None
                else f"{'-':>12} {'-':>6}"
            )
            print(
                f"  {name:<20} {row['baseline_ms']:5.0f} ms {row['import_ms']:5.0f} ms "
                f"{row['import_ratio']:6.2f}   {first}"
            )
        worst_import = max(row["import_ratio"] for row in result["functions"].values())
        worst_first = max(
            row["first_request_ratio"] for row in result["functions"].values() if row["first_request_ratio"] is not None
        )
        print(f"  worst: import {worst_import:.2f} (target <= 1.3), import + first request {worst_first:.2f} (<= 1.8)")


if __name__ == "__main__":
    main()
