"""One Logger, Tracer and Metrics for the whole process.

Service name, log level, namespace and sampling come from Powertools' own env vars
(POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE), set by the renderers.

The Tracer is built on first use, not at import, and only where tracing is on (Powertools' own rule:
in Lambda, not under SAM/Chalice, POWERTOOLS_TRACE_DISABLED unset): Powertools' Tracer imports the X-Ray
SDK when it is constructed, even to disable it (~35 ms in Lambda; outside Lambda the SDK also builds a
botocore X-Ray client for its sampler, ~110 ms). Where tracing is off, the decorators call the function
itself and `trace_library` patches nothing. Libraries are patched lazily (`trace_library`), just before
their first use.

Metrics with dimensions (`emit_metric`): each carries two dimension sets, the rollup [service] that the
alarms read, and [service, function, provider, integration_type] that the graphs break down by. Every
dimension value is a CloudWatch series of its own (and a custom metric to pay for), so provider and
integration type come from fixed allow-lists (anything else becomes "other") and the function is the
Lambda function's name: never a booking id, an email or a URL.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypedDict, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import is_durable_context, resolve_truthy_env_var_choice
from aws_lambda_powertools.utilities import jmespath_utils

# Powertools' env vars win; the defaults keep tests and scripts from reporting "service_undefined".
_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "bookinghub")
_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "BookingHub")

F = TypeVar("F", bound=Callable[..., Any])

# Powertools' own serializer (json.dumps with default=str, compact, non-ASCII kept) builds a JSONEncoder
# for every line; this one is built once and writes the same text. POWERTOOLS_DEV keeps Powertools' own
# (it indents).
_encode_log = json.JSONEncoder(default=str, separators=(",", ":"), ensure_ascii=False).encode
# Lambda context keys Powertools adds to every line that say nothing the line's log stream does not: the
# function's ARN (its log group's account, region and name) and memory size (Lambda's REPORT line).
# function_name stays (the local stack writes every function to one log), as does the request id.
_REDUNDANT_KEYS = ("function_arn", "function_memory_size")


def _log_json(log: dict[str, Any]) -> str:
    for key in _REDUNDANT_KEYS:
        log.pop(key, None)
    return _encode_log(log)


_dev = resolve_truthy_env_var_choice(env=os.getenv(constants.POWERTOOLS_DEV_ENV, "false"))

NONE, OTHER = "none", "other"
# The allowed values of the bounded dimensions (docs/operations.md, "Metrics and their dimensions")
# (Make.com endpoints are "webhook": a delivery's metrics know its endpoint id, not the endpoint's kind)
PROVIDERS = frozenset({"stripe", "rooms", "beds24", "cloudbeds", "mock", "website", "webhook", NONE})
INTEGRATION_TYPES = frozenset(
    {
        "booking_sync",  # a website pushes a booking in (seed 002)
        "sync_back",  # the hub sends a website its booking's changes
        "subscription",  # the hub delivers events to a subscribed endpoint (seed 003)
        "pincode",  # Stripe payment -> Rooms Event Hub door pincode
        "payment",  # Stripe webhooks
        "reservation_sync",  # the Beds24 integration's pulls and webhooks (seed 004)
        "pms_sync",  # the PMS module's providers
        NONE,
    }
)
DIMENSIONS = ("service", "function", "provider", "integration_type")  # the graphs' dimension set, in order


class Dimensions(TypedDict, total=False):
    """The bounded dimensions a caller names (`emit_metric(..., **dims)`)."""

    provider: str
    integration_type: str


_function: ContextVar[str | None] = ContextVar("bookinghub_metric_function", default=None)


class HubMetrics(Metrics):
    """Powertools Metrics whose `log_metrics` also notes the invoked function for `emit_metric`'s dimension
    (a context variable: the local runtime runs several functions in one process, one per thread)."""

    def log_metrics(
        self,
        lambda_handler: Any = None,
        capture_cold_start_metric: bool = False,
        raise_on_empty_metrics: bool = False,
        default_dimensions: dict[str, str] | None = None,
        **kwargs: dict[str, Any],
    ) -> Callable[..., Any]:
        options: dict[str, Any] = {
            "capture_cold_start_metric": capture_cold_start_metric,
            "raise_on_empty_metrics": raise_on_empty_metrics,
            "default_dimensions": default_dimensions,
            **kwargs,
        }
        if lambda_handler is None:
            return functools.partial(self.log_metrics, **options)
        handler: Callable[..., Any] = lambda_handler

        if not (capture_cold_start_metric or raise_on_empty_metrics or default_dimensions or kwargs):
            return self._flushing(handler)

        @functools.wraps(handler)
        def bound(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            token = _function.set(getattr(context, "function_name", None))
            try:
                return handler(event, context, *args, **kwargs)
            finally:
                _function.reset(token)

        return super().log_metrics(bound, **options)

    def _flushing(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Powertools' `log_metrics` without options: flush the invocation's metrics after the handler,
        except that an empty set is skipped rather than warned about on every invocation (a function
        whose metrics go out through `emit_metric` has none here)."""
        provider = self.provider

        @functools.wraps(handler)
        def decorate(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            token = _function.set(getattr(context, "function_name", None))
            try:
                return handler(event, context, *args, **kwargs)
            finally:
                _function.reset(token)
                if provider.metric_set:
                    provider.flush_metrics()

        return decorate


# A correlation id path that is only field names (Powertools' correlation_paths.API_GATEWAY_REST is
# "requestContext.requestId") is read by walking the event's dicts, which is what JMESPath returns for it
_FIELD_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _field_reader(path: str) -> Callable[[Any], Any]:
    if not _FIELD_PATH.fullmatch(path):
        return functools.partial(jmespath_utils.query, envelope=path)
    names = path.split(".")

    def read(event: Any) -> Any:
        for name in names:
            event = event.get(name) if isinstance(event, dict) else None
        return event

    return read


class HubLogger(Logger):
    """Powertools Logger whose `inject_lambda_context`, where it has nothing else to do (no event logging,
    sampling, buffer or state clearing), adds the invocation's keys in one update: Powertools' reads an env
    var and rebuilds the context model on every invocation, and a correlation id path is a JMESPath search.
    The keys, their order and their values are Powertools' own."""

    _cold_start: bool | None = None  # None: not yet invoked (Powertools' is per process, as this is)

    def inject_lambda_context(
        self,
        lambda_handler: Any = None,
        log_event: bool | None = None,
        correlation_id_path: str | None = None,
        clear_state: bool | None = False,
        flush_buffer_on_uncaught_error: bool = False,
    ) -> Any:
        options: dict[str, Any] = {
            "log_event": log_event,
            "correlation_id_path": correlation_id_path,
            "clear_state": clear_state,
            "flush_buffer_on_uncaught_error": flush_buffer_on_uncaught_error,
        }
        if lambda_handler is None:
            return functools.partial(self.inject_lambda_context, **options)
        logs_event = resolve_truthy_env_var_choice(
            env=os.getenv(constants.LOGGER_LOG_EVENT_ENV, "false"), choice=log_event
        )
        if logs_event or clear_state or flush_buffer_on_uncaught_error or self.sampling_rate or self._buffer_config:
            return super().inject_lambda_context(lambda_handler, **options)
        handler: Callable[..., Any] = lambda_handler
        correlation_id = _field_reader(correlation_id_path) if correlation_id_path else None

        @functools.wraps(handler)
        def decorate(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            lambda_context = context.lambda_context if is_durable_context(context) else context
            keys = {
                "cold_start": HubLogger._first_invocation(),
                "function_name": lambda_context.function_name,
                "function_memory_size": lambda_context.memory_limit_in_mb,
                "function_arn": lambda_context.invoked_function_arn,
                "function_request_id": lambda_context.aws_request_id,
            }
            if correlation_id is not None:
                keys["correlation_id"] = correlation_id(event)
            self._append_invocation_keys(keys)
            return handler(event, context, *args, **kwargs)

        return decorate

    def _append_invocation_keys(self, keys: dict[str, Any]) -> None:
        """`self.append_keys(**keys)`. Powertools' goes through its handler lookup and two keyword
        packings to its formatter's `log_format.update`; with its own formatter, this updates that dict."""
        handler = getattr(self, "logger_handler", None)  # what Powertools' registered_formatter reads first
        formatter = handler.formatter if handler else None
        if type(formatter) is LambdaPowertoolsFormatter:
            formatter.log_format.update(keys)
        else:
            self.append_keys(**keys)

    @staticmethod
    def _first_invocation() -> bool:
        """Powertools' cold start: the process's first invocation, never under provisioned concurrency
        (whose environment is fixed for its life, so read once)."""
        if HubLogger._cold_start is None:
            provisioned = os.getenv(constants.LAMBDA_INITIALIZATION_TYPE) == "provisioned-concurrency"
            HubLogger._cold_start = not provisioned
            return not provisioned
        if HubLogger._cold_start:
            # Written once, not on every invocation: a class attribute write invalidates the attribute
            # caches of the class and its subclasses, so the request's logger method lookups would start cold
            HubLogger._cold_start = False
        return False


logger = HubLogger(service=_SERVICE, json_serializer=None if _dev else _log_json)
metrics = HubMetrics(namespace=_NAMESPACE, service=_SERVICE)


def bounded(value: str | None, allowed: frozenset[str]) -> str:
    """The value if it is one of `allowed`, "none" for no value, else "other" (never the value itself)."""
    if value is None:
        return NONE
    return value if value in allowed else OTHER


def metric_dimensions(provider: str | None = None, integration_type: str | None = None) -> dict[str, str]:
    return {
        "service": _SERVICE,
        "function": _function.get() or NONE,
        "provider": bounded(provider, PROVIDERS),
        "integration_type": bounded(integration_type, INTEGRATION_TYPES),
    }


# emit_metric's lines by (namespace, name, unit, function, provider, integration type): Powertools builds
# (and validates) each shape once, and its JSON text is kept split around the time and the value, the only
# parts that change. Names and dimensions are bounded, and so is this (a name or provider made up at run
# time would only rebuild its line each time past the bound).
_EMF_LINES: dict[tuple[str | None, ...], _EmfLine] = {}
_EMF_LINES_MAX = 512
_encode_emf = json.JSONEncoder(separators=(",", ":")).encode  # what Powertools prints (json.dumps, compact)
# Stand-ins for the time and the value while a shape's text is cut; no name or dimension holds a NUL
_TIME_MARK, _VALUE_MARK = _encode_emf("\x00time"), _encode_emf("\x00value")


class _EmfLine:
    """One metric shape: Powertools' line (a dict) and, when it could be cut, its text around time and value."""

    def __init__(self, name: str, unit: str, dimensions: dict[str, str]) -> None:
        one = AmazonCloudWatchEMFProvider(namespace=metrics.namespace, service=_SERVICE)
        one.add_metric(name=name, unit=unit, value=0)
        one.add_dimensions(**dimensions)
        self.name = name
        self.template: dict[str, Any] = dict(one.serialize_metric_set())
        text = _encode_emf(self.line("\x00time", "\x00value"))  # the marks where time and [value] go
        head, _, rest = text.partition(_TIME_MARK)
        middle, _, tail = rest.partition(_VALUE_MARK)
        cut = text.count(_TIME_MARK) == 1 and text.count(_VALUE_MARK) == 1
        self.parts = (head, middle, tail) if cut else None

    def line(self, timestamp: Any, values: Any, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            **(metadata or {}),  # under the metric's own keys: metadata never overwrites a dimension or value
            **self.template,
            "_aws": {**self.template["_aws"], "Timestamp": timestamp},
            self.name: values,
        }


def emit_metric(
    name: str,
    value: float = 1,
    unit: str = "Count",
    *,
    provider: str | None = None,
    integration_type: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """One metric, written at once (its own EMF line, so metrics of different providers in one invocation
    keep their own dimensions), under the rollup [service] and the bounded [service, function, provider,
    integration_type]. `metadata` rides on the same line as plain properties (searchable in Logs Insights,
    never dimensions): a hot path's record and its metric in one line instead of two."""
    # Keyed by the values as given (bounded when the line is built): a hot path's names are constants
    shape = (metrics.namespace, name, unit, _function.get(), provider, integration_type)
    emf = _EMF_LINES.get(shape)
    if emf is None:
        emf = _EmfLine(name, unit, metric_dimensions(provider, integration_type))
        if len(_EMF_LINES) < _EMF_LINES_MAX:
            _EMF_LINES[shape] = emf
    if _metrics_disabled():
        return
    timestamp, number = int(time.time() * 1000), float(value)
    if metadata or emf.parts is None or not math.isfinite(number):
        print(_encode_emf(emf.line(timestamp, [number], metadata)))
        return
    head, middle, tail = emf.parts
    # json writes a finite float as its repr, as the cut text's value was written; print's two writes
    # (the line, then its newline) in one
    out = sys.stdout
    if out is not None:  # (print writes nothing where there is no stdout)
        out.write(f"{head}{timestamp}{middle}[{number!r}]{tail}\n")


# `name in os.environ` for an unset name raises (and catches) two KeyErrors inside os.environ: most of a
# metric line's cost. CPython's os.environ keeps its (encoded) names in `_data`, which every change through
# os.environ updates, so a membership test there answers the same without raising.
_ENV_NAMES: Any = getattr(os.environ, "_data", os.environ)
_OFF_SWITCHES = tuple(
    os.environ.encodekey(name) if _ENV_NAMES is not os.environ else name  # type: ignore[attr-defined]
    for name in (constants.METRICS_DISABLED_ENV, constants.POWERTOOLS_DEV_ENV)
)


def _metrics_disabled() -> bool:
    """Powertools' own switch (POWERTOOLS_METRICS_DISABLED, or POWERTOOLS_DEV), parsed only when one is set."""
    metrics_off, dev = _OFF_SWITCHES
    if metrics_off not in _ENV_NAMES and dev not in _ENV_NAMES:
        return False
    return is_metrics_disabled()


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
