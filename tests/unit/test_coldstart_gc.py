"""The collector paused for a Lambda cold start (core/coldstart.py): paused from the package's import to the
end of the first invocation, only in Lambda, and resumed even when that invocation fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A real handler's import, then two invocations that fail at the settings check (no AWS, no socket):
# the collector's state after each step
SCRIPT = """
import gc, importlib.util, json, os
states = {"before": gc.isenabled()}
spec = importlib.util.spec_from_file_location("handler", os.environ["HANDLER"])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
states["imported"] = gc.isenabled()
for step in ("first", "second"):
    try:
        module.lambda_handler({}, None)
    except Exception as error:
        states[step + "_raised"] = type(error).__name__
    states[step] = gc.isenabled()
states["frozen"] = gc.get_freeze_count()
print(json.dumps(states))
"""


def run(extra: dict[str, str]) -> dict[str, object]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"LAMBDA_TASK_ROOT", "BOOKINGS_TABLE_NAME", "INTEGRATION_LOGS_TABLE_NAME"}
    }
    env.update(
        PYTHONPATH=f"{ROOT}:{ROOT / 'layers/common/python'}",
        HANDLER=str(ROOT / "functions/sync_bookings/handler.py"),
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_SERVICE_NAME="bookinghub",
        BOOKINGS_TABLE_NAME="",  # an empty resource setting fails the invocation before any AWS call
        **extra,
    )
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_in_lambda_the_collector_is_paused_until_the_first_invocation_ends_even_when_it_fails() -> None:
    states = run({"LAMBDA_TASK_ROOT": str(ROOT)})
    assert states["before"] is True
    assert states["imported"] is False  # the handler's import ran with the collector paused
    assert states["first_raised"] == "MissingSetting"  # refused at the settings check
    assert states["first"] is True  # resumed after the first invocation, though it raised
    assert states["second"] is True
    assert isinstance(states["frozen"], int)
    assert states["frozen"] > 10_000  # init's objects frozen once


def test_outside_lambda_the_collector_is_never_touched() -> None:
    states = run({})
    assert (states["before"], states["imported"], states["first"]) == (True, True, True)
    assert states["frozen"] == 0
