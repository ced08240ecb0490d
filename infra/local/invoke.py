"""Load a topology function's handler the way Lambda does and invoke it in-process.

Each handler is loaded from `functions/<name>/handler.py` under a module name of its own (Lambda gives
every function its own interpreter; here they share one, so the names must not collide).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from infra import topology

ROOT = Path(__file__).resolve().parents[2]
Handler = Callable[[dict[str, Any], Any], Any]

_lock = threading.Lock()
_modules: dict[str, ModuleType] = {}


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that Powertools and our handlers read."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: _request_id())
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _request_id() -> str:
    """A random (version 4) UUID as text, as Lambda's request ids are: built from its 16 bytes directly,
    as uuid.uuid4()'s checks cost more than the rest of the context on every invocation."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def load_handler(fn: topology.Function) -> Handler:
    handler: Handler = handler_module(fn).lambda_handler
    return handler


def handler_module(fn: topology.Function) -> ModuleType:
    """The function's handler module, imported once per process as Lambda imports it once per container."""
    module = _modules.get(fn.name)  # loaded: no lock to take (a dict read is atomic)
    if module is not None:
        return module
    with _lock:
        if fn.name not in _modules:
            path = ROOT / fn.handler_path
            spec = importlib.util.spec_from_file_location(f"functions.{fn.name}.handler", path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _modules[fn.name] = module
        return _modules[fn.name]


@functools.cache
def _function(name: str) -> topology.Function:
    return topology.function(name)  # (a search of the topology's list, on every invocation otherwise)


def invoke(function_name: str, event: dict[str, Any]) -> Any:
    fn = _function(function_name)
    context = LocalLambdaContext(
        function_name=fn.name, timeout_seconds=fn.timeout_seconds, memory_limit_in_mb=fn.memory_mb
    )
    return load_handler(fn)(event, context)
