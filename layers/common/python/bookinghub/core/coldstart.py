"""The cyclic garbage collector paused while a Lambda execution environment starts.

A cold start imports some 300 modules and builds a boto3 client: about 85,000 objects, nearly all of them
alive for the environment's life (modules, classes, functions, pydantic validators, botocore's service
model). While they are being created, Python's collector scans them again and again: ~160 young
collections during the import and a full one, over all of them, in the first request; 60-95 ms of CPU
here, about a third of `import boto3` + one client (docs/performance.md). None of it finds garbage worth
the scan: reference counting frees everything that is not in a cycle, collector or not.

So in Lambda (LAMBDA_TASK_ROOT set, as Powertools decides tracing) importing `bookinghub` pauses the
collector, and the end of the first invocation (`end_of_init`, called by `requires_settings`, or by
`ends_init` on the two handlers without resource settings) moves every object alive then to the
permanent generation (`gc.freeze()`: never scanned again, so later full collections scan only what
requests create) and resumes it. The cost: a cycle that became garbage before the first invocation
ended is never freed (0.02-0.15 MB after the bench's first requests, docs/performance.md). Elsewhere
(tests, the local runtime, the CLI) nothing changes.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_paused = False


def pause_for_init() -> None:
    """Pause the collector until `end_of_init`, in Lambda only and if nothing else disabled it."""
    global _paused
    if os.environ.get("LAMBDA_TASK_ROOT") and gc.isenabled():
        gc.disable()
        _paused = True


def end_of_init() -> None:
    """After the first invocation: freeze what init built and resume the collector (once; cheap after)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def ends_init(handler: F) -> F:
    """A Lambda handler after whose invocations `end_of_init` runs (requires_settings does the same).
    Marked `ends_init`: tests/unit/test_settings_guards.py checks every handler has one or the other."""

    @functools.wraps(handler)
    def invoked(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            end_of_init()

    vars(invoked)["ends_init"] = True
    return invoked  # type: ignore[return-value]


class LazyModule:
    """A module imported at its first attribute read (thread-safe: importlib's own lock).

    For the models only some routes of a handler validate with: the route's annotation names the module
    (`Annotated[models.Patch, Body()]`, a string under `from __future__ import annotations`), and
    Powertools evaluates it when the route is first resolved, so the module is imported then, not at
    init. Declare the real module under TYPE_CHECKING for the type checker.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
