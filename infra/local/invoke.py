"""Load a topology function's handler the way Lambda does and invoke it in-process.

Each handler is loaded from `functions/<name>/handler.py` under a module name of its own (Lambda gives
every function its own interpreter; here they share one, so the names must not collide).
"""

from __future__ import annotations

import functools
import importlib.util
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from infra import topology

ROOT = Path(__file__).resolve().parents[2]
Handler = Callable[[dict[str, Any], Any], Any]

_lock = threading.Lock()
_modules: dict[str, ModuleType] = {}


class LocalLambdaContext:
    """The attributes of Lambda's context object that Powertools and our handlers read. A plain class with
    slots rather than a dataclass: one is built per invocation, and a dataclass's generated __init__ with
    its default factory and __post_init__ cost more than the rest of the local invocation."""

    __slots__ = (
        "_deadline",
        "aws_request_id",
        "function_name",
        "function_version",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "timeout_seconds",
    )

    def __init__(
        self,
        function_name: str,
        timeout_seconds: int,
        memory_limit_in_mb: int = 256,
        aws_request_id: str | None = None,
        function_version: str = "$LATEST",
        log_stream_name: str = "local",
    ) -> None:
        self.function_name = function_name
        self.timeout_seconds = timeout_seconds
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id or _request_id()
        self.function_version = function_version
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = log_stream_name
        self._deadline = time.monotonic() + timeout_seconds

    def __repr__(self) -> str:
        return f"LocalLambdaContext({self.function_name!r}, request {self.aws_request_id})"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _request_id() -> str:
    """A random (version 4) UUID as text, as Lambda's request ids are. From `random`'s generator, not the
    system's: a local request id identifies an invocation in this process's logs (never a key or a secret),
    and os.urandom is a system call on every invocation. (random reseeds itself in a forked child.)"""
    number = random.getrandbits(128)
    number = (number & ~(0xF000 << 64) | (4 << 76)) & ~(0xC000 << 48) | (0x8000 << 48)  # as uuid.UUID(version=4)
    text = f"{number:032x}"
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
