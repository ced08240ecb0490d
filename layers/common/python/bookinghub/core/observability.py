"""One Logger, Tracer and Metrics for the whole process.

Service name, log level, namespace and sampling come from Powertools' own env vars
(POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE), set by the renderers.

The Tracer is built on first use, not at import, and only where tracing is on (Powertools' own rule:
in Lambda, not under SAM/Chalice, POWERTOOLS_TRACE_DISABLED unset): Powertools' Tracer imports the X-Ray
SDK when it is constructed, even to disable it (~35 ms in Lambda; outside Lambda the SDK also builds a
botocore X-Ray client for its sampler, ~110 ms). Where tracing is off, the decorators call the function
itself and `trace_library` patches nothing. Libraries are patched lazily (`trace_library`), just before
their first use.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

# Powertools' env vars win; the defaults keep tests and scripts from reporting "service_undefined".
_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "bookinghub")
_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "BookingHub")

F = TypeVar("F", bound=Callable[..., Any])

# Powertools' own serializer (json.dumps with default=str, compact, non-ASCII kept) builds a JSONEncoder
# for every line; this one is built once and writes the same text. POWERTOOLS_DEV keeps Powertools' own
# (it indents).
_log_json = json.JSONEncoder(default=str, separators=(",", ":"), ensure_ascii=False).encode
_dev = resolve_truthy_env_var_choice(env=os.getenv(constants.POWERTOOLS_DEV_ENV, "false"))
logger = Logger(service=_SERVICE, json_serializer=None if _dev else _log_json)
metrics = Metrics(namespace=_NAMESPACE, service=_SERVICE)


def tracing_enabled() -> bool:
    """Whether Powertools' Tracer would trace here (its `_is_tracer_disabled`, read from the same env vars)."""
    if resolve_truthy_env_var_choice(env=os.getenv(constants.TRACER_DISABLED_ENV, "false")):
        return False
    in_emulator = os.getenv(constants.SAM_LOCAL_ENV) or os.getenv(constants.CHALICE_LOCAL_ENV)
    return bool(os.getenv(constants.LAMBDA_TASK_ROOT_ENV)) and not in_emulator


class LazyTracer:
    """The Powertools Tracer's decorators, applying the real Tracer at the first call where tracing is on."""

    @functools.cached_property
    def real(self) -> Tracer:
        return Tracer(service=_SERVICE, auto_patch=False)

    @functools.cached_property
    def enabled(self) -> bool:
        # Decided at the first traced call, as Powertools decides when the Tracer is built
        return tracing_enabled()

    def capture_lambda_handler(self, handler: F) -> F:
        return self._deferred(handler, lambda real: real.capture_lambda_handler(handler))

    def capture_method(self, method: F) -> F:
        return self._deferred(method, lambda real: real.capture_method(method))

    def _deferred(self, function: F, decorate: Callable[[Tracer], Callable[..., Any]]) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return decorated()(*args, **kwargs)

        @functools.cache
        def decorated() -> Callable[..., Any]:
            return decorate(self.real) if self.enabled else function

        return wrapper  # type: ignore[return-value]


tracer = LazyTracer()


@functools.cache
def trace_library(name: str) -> None:
    """Patch one library (e.g. "botocore", "requests") for X-Ray, once; a no-op when tracing is off."""
    if tracer.enabled:
        tracer.real.patch(modules=(name,))
