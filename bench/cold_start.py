"""Cold-start benchmark: each function's init in a fresh interpreter, as a ratio to `import boto3` + one
client measured in the same run. Prints figures; asserts nothing (targets: import <= 1.3x, import + first
request <= 1.8x).

For every topology function, in a fresh interpreter each time (median of `--repeats`): the handler
module's import, and its import plus the first request (the function's sample event from events/, against
moto's server in a process of its own, holding the topology's resources and a registered website). The
environment is Lambda's: tracing on, Powertools' service and namespace set.

`--no-pyc` also measures without bytecode (an empty PYTHONPYCACHEPREFIX: every module compiled from source
at import, as in a layer shipped without .pyc) to show what the layer's compiled bytecode saves.

Run: python bench/cold_start.py [--repeats 5] [--no-pyc] [--json]
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
}

SNIPPET = """
import json, sys, time
started = time.perf_counter()
{body}
imported = time.perf_counter()
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
done = time.perf_counter()
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


def median_of(snippet: str, env: dict[str, str], repeats: int, *, no_pyc: bool) -> dict[str, float]:
    samples = []
    for _ in range(repeats):
        run_env = dict(env)
        if no_pyc:
            with tempfile.TemporaryDirectory() as empty:
                run_env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=empty)
                samples.append(run_fresh(snippet, run_env))
        else:
            samples.append(run_fresh(snippet, run_env))
    return {key: statistics.median(sample[key] for sample in samples) for key in ("import", "first")}


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
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/common/python'}"}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)  # Lambda traces: import what tracing imports
    env["AWS_XRAY_CONTEXT_MISSING"] = "IGNORE_ERROR"
    events = {}
    for name, sample in FIRST_EVENTS.items():
        path = workdir / f"{name}.json"
        path.write_text((ROOT / "events" / f"{sample}.json").read_text())
        events[name] = path
    return env, events


def measure(repeats: int, *, no_pyc: bool) -> dict[str, Any]:
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
                baseline = median_of(
                    SNIPPET.format(body=BASELINE, event="", name="baseline"), env, repeats, no_pyc=mode
                )
                functions = {}
                for fn in topology.FUNCTIONS:
                    event = str(events.get(fn.name, ""))
                    snippet = SNIPPET.format(body=handler_import(ROOT / fn.handler_path), event=event, name=fn.name)
                    run_fresh(snippet, env)
                    timing = median_of(snippet, env, repeats, no_pyc=mode)
                    functions[fn.name] = {
                        "import_ms": timing["import"] * 1000,
                        "import_ratio": timing["import"] / baseline["import"],
                        "first_request_ms": timing["first"] * 1000 if event else None,
                        "first_request_ratio": timing["first"] / baseline["import"] if event else None,
                    }
                results[label] = {"baseline_ms": baseline["import"] * 1000, "functions": functions}
            return results
    finally:
        server.kill()  # moto's werkzeug server does not stop on SIGTERM promptly
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-pyc", action="store_true", help="also measure without bytecode")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = measure(args.repeats, no_pyc=args.no_pyc)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for label, result in results.items():
        print(f"\n== {label}: baseline `import boto3` + one client: {result['baseline_ms']:.0f} ms (median) ==")
        print(f"  {'function':<18} {'import':>8} {'ratio':>6}   {'+1st request':>12} {'ratio':>6}   targets 1.3 / 1.8")
        for name, row in result["functions"].items():
            first = (
                f"{row['first_request_ms']:9.0f} ms {row['first_request_ratio']:6.2f}"
                if row["first_request_ms"] is not None
                else f"{'-':>12} {'-':>6}"
            )
            print(f"  {name:<18} {row['import_ms']:5.0f} ms {row['import_ratio']:6.2f}   {first}")


if __name__ == "__main__":
    main()
