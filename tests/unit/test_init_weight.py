"""What a cold start pays before the first request: nothing heavy at handler import, tracing only where on.

bench/cold_start.py measures the times; these tests keep the heavy imports from creeping back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Tracer

from bookinghub.core.coldstart import LazyModule
from bookinghub.core.observability import LazyTracer, tracing_enabled
from infra import topology

ROOT = Path(__file__).resolve().parents[2]

# Imported at the first call that needs them, never at handler import: AWS clients (boto3 + botocore's
# client machinery, ~150 ms), the X-Ray SDK (its recorder), requests, Powertools' OpenAPI models (only
# for a generated document)
HEAVY = (
    "boto3",
    "botocore.client",
    "botocore.session",
    "aws_xray_sdk",
    "requests",
    "aws_lambda_powertools.event_handler.openapi.models",
)

IMPORT_ALL = """
import importlib.util, json, sys
heavy = json.loads(sys.argv[1])
found = {}
for name, path in json.loads(sys.argv[2]).items():
    spec = importlib.util.spec_from_file_location("handler_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found[name] = [module for module in heavy if module in sys.modules]
print(json.dumps(found))
"""


def _modules_found(heavy: tuple[str, ...], handlers: dict[str, str], env: dict[str, str]) -> dict[str, list[str]]:
    """Imports each handler into one fresh interpreter (in order) and names the `heavy` modules then loaded."""
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, json.dumps(heavy), json.dumps(handlers)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    found: dict[str, list[str]] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def test_no_handler_imports_anything_heavy_at_module_import() -> None:
    handlers = {fn.name: str(ROOT / fn.handler_path) for fn in topology.FUNCTIONS}
    env = {
        **os.environ,
        **dict(topology.RUNTIME_ENVIRONMENT),
        "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/common/python'}",
        "LAMBDA_TASK_ROOT": str(ROOT),  # as in Lambda: tracing on
        "POWERTOOLS_SERVICE_NAME": "bookinghub",
    }
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    found = _modules_found(HEAVY, handlers, env)
    # The first handler that pulls one in is named (they are imported in topology order, into one process)
    assert {name: modules for name, modules in found.items() if modules} == {}
    assert set(found) == set(handlers)


# Imported by the routes that use them, not at the handler's import (each handler in a fresh interpreter):
# what the admin APIs' other routes (and their first requests) never need
ROUTE_ONLY = {
    "admin_api": (
        "bookinghub.registry.logic.admin",
        "bookinghub.registry.models",
        "bookinghub.bookings.models.admin",
        "bookinghub.conflicts.models",
        "bookinghub.conflicts.logic.hub_edit",
        "bookinghub.beds24.models.admin",
        "bookinghub.websites.logic.admin",
        "bookinghub.conflicts.logic.admin",
        "bookinghub.delivery.logic.admin",
    ),
    "beds24_admin": (
        "bookinghub.beds24.logic.sync",
        "bookinghub.beds24.logic.writeback",
        "bookinghub.conflicts.logic.hub_edit",
    ),
    # The request bodies (read through LazyModule by the write routes), the attempt records (stats and
    # attempts) and the booking store (the test send): a listing or a read needs none of them
    "delivery_api": (
        "bookinghub.delivery.models.api",
        "bookinghub.delivery.dal.attempts",
        "bookinghub.bookings.dal.bookings",
        "bookinghub.bookings.dal.logs",
    ),
}


@pytest.mark.parametrize("name", sorted(ROUTE_ONLY))
def test_admin_handlers_import_route_only_logic_at_its_route(name: str) -> None:
    fn = next(fn for fn in topology.FUNCTIONS if fn.name == name)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/common/python'}", "LAMBDA_TASK_ROOT": str(ROOT)}
    assert _modules_found(ROUTE_ONLY[name], {name: str(ROOT / fn.handler_path)}, env) == {name: []}


def test_a_lazy_module_imports_at_its_first_attribute() -> None:
    script = (
        "import sys\n"
        "from bookinghub.core.coldstart import LazyModule\n"
        "lazy = LazyModule('bookinghub.registry.models')\n"
        "before = 'bookinghub.registry.models' in sys.modules\n"
        "from bookinghub.registry import models\n"
        "print(before, lazy.IntegrationPatch is models.IntegrationPatch)\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/common/python'}"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "True"]
    with pytest.raises(AttributeError):
        _ = LazyModule("bookinghub.core.clock").no_such_name


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"LAMBDA_TASK_ROOT": "/var/task"},
        {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"},
        {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "0"},
        {"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"},
        {"LAMBDA_TASK_ROOT": "/var/task", "AWS_CHALICE_CLI_MODE": "true"},
        {"POWERTOOLS_TRACE_DISABLED": "false"},
    ],
)
def test_tracing_is_on_exactly_where_powertools_would_trace(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert tracing_enabled() is (not Tracer._is_tracer_disabled())


def test_without_tracing_the_decorators_call_the_function_and_build_no_tracer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    lazy = LazyTracer()

    @lazy.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"got": event}

    @lazy.capture_method
    def method(value: int) -> int:
        if value < 0:
            raise ValueError("negative")
        return value * 2

    assert handler({"a": 1}, None) == {"got": {"a": 1}}
    assert method(2) == 4
    with pytest.raises(ValueError, match="negative"):
        method(-1)
    assert "real" not in vars(lazy)  # Powertools' Tracer (and with it the X-Ray SDK) never built


class RecordingTracer:
    """Stands in for Powertools' Tracer: records what it decorated and each traced call."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def capture_lambda_handler(self, handler: Any) -> Any:
        def traced(*args: Any) -> Any:
            self.calls.append(f"handler {handler.__name__}")
            return handler(*args)

        return traced

    def capture_method(self, method: Any) -> Any:
        def traced(*args: Any) -> Any:
            self.calls.append(f"method {method.__name__}")
            return method(*args)

        return traced


def test_with_tracing_every_call_goes_through_the_real_tracer() -> None:
    lazy = LazyTracer()
    recording = RecordingTracer()
    vars(lazy).update(enabled=True, real=recording)

    @lazy.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> str:
        return "ok"

    @lazy.capture_method
    def method() -> int:
        return 7

    assert handler({}, None) == "ok"
    assert method() == 7
    assert method() == 7
    assert recording.calls == ["handler handler", "method method", "method method"]


def test_a_library_is_patched_only_where_tracing_is_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from bookinghub.core import observability

    patched: list[tuple[str, ...]] = []

    class Patching:
        def patch(self, modules: tuple[str, ...]) -> None:
            patched.append(modules)

    for enabled in (False, True):
        lazy = LazyTracer()
        vars(lazy).update(enabled=enabled, real=Patching())
        monkeypatch.setattr(observability, "tracer", lazy)
        observability.trace_library.cache_clear()
        observability.trace_library("botocore")
        observability.trace_library("botocore")  # once per process
    observability.trace_library.cache_clear()
    assert patched == [("botocore",)]


def test_clients_come_from_botocore_without_importing_boto3() -> None:
    # aws/clients.py: a boto3 client is a botocore client; boto3 itself (~20 ms: s3transfer,
    # multiprocessing, resources) is never needed for one
    script = (
        "import sys\n"
        "from bookinghub.aws.clients import client\n"
        "dynamodb = client('dynamodb')\n"
        "print(type(dynamodb).__module__, 'boto3' in sys.modules, 's3transfer' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/common/python'}", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, cwd=ROOT, timeout=60
    )
    assert out.stdout.split() == ["botocore.client", "False", "False"]


# What a function's import leaves out because its requests start elsewhere
NOT_AT_IMPORT = {
    # bookings/models/fields.py: the booking's field types, not the sync payload's models (built at import)
    # and email-validator's patterns (the admin edit bodies build theirs at first use)
    "admin_api": ("bookinghub.bookings.models.sync", "email_validator"),
    # payments/logic/lock_codes.py: reading a pass needs the lock code's reader, not the issuing (Rooms
    # adapter, registry, retry rules)
    "passes": (
        "bookinghub.payments.logic.pincodes",
        "bookinghub.rooms.adapters.rooms_event_hub",
        "bookinghub.registry.logic.registry",
    ),
    # beds24/logic/properties.py: a webhook checks the property's token and secret, it never calls Beds24
    # (the HTTP client is imported by client_for), nor lists the registry's integrations
    "beds24_webhook": (
        "bookinghub.beds24.client.api",
        "bookinghub.registry.dal.integrations",
        "bookinghub.registry.models",
    ),
}


@pytest.mark.parametrize("name", sorted(NOT_AT_IMPORT))
def test_a_function_does_not_import_what_its_requests_do_not_start_with(name: str) -> None:
    script = (
        "import importlib.util, json, sys\n"
        "spec = importlib.util.spec_from_file_location('handler', sys.argv[1])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(json.dumps([name for name in json.loads(sys.argv[2]) if name in sys.modules]))"
    )
    env = {**os.environ, **dict(topology.RUNTIME_ENVIRONMENT), "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/common/python'}"}
    out = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / f"functions/{name}/handler.py"), json.dumps(NOT_AT_IMPORT[name])],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
