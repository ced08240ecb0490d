"""One Logger, Tracer and Metrics for the whole process.

Service name, log level, namespace and sampling come from Powertools' own env vars
(POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE), set by the renderers.

The Tracer is built on first use, not at import: Powertools' Tracer imports the X-Ray SDK when it is
constructed, and the SDK builds a botocore X-Ray client at import (~200 ms of every cold start, before a
handler runs, even for requests rejected without touching AWS). Libraries are patched lazily too
(`trace_library`), just before their first use.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

# Powertools' env vars win; the defaults keep tests and scripts from reporting "service_undefined".
_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "bookinghub")
_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "BookingHub")

F = TypeVar("F", bound=Callable[..., Any])

logger = Logger(service=_SERVICE)
metrics = Metrics(namespace=_NAMESPACE, service=_SERVICE)


class LazyTracer:
    """The Powertools Tracer's decorators, applying the real Tracer at the first call."""

    @functools.cached_property
    def real(self) -> Tracer:
        return Tracer(service=_SERVICE, auto_patch=False)

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
            return decorate(self.real)

        return wrapper  # type: ignore[return-value]


tracer = LazyTracer()


@functools.cache
def trace_library(name: str) -> None:
    """Patch one library (e.g. "botocore", "requests") for X-Ray, once; a no-op when tracing is off."""
    tracer.real.patch(modules=(name,))
