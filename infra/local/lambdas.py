"""Run a topology function for the gateway, the queue workers, the stream poller and the scheduler.

Lambda runs one invocation at a time per execution environment, each function in its own. Here every
function shares one interpreter and the module-level Logger and Metrics of `bookinghub.core.observability`,
so invocations are serialized, and the keys the Logger carries (correlation id, appended keys) are
kept per function: one function's correlation id never shows up in another's logs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from infra import topology
from infra.local.invoke import invoke, load_handler

log = logging.getLogger(__name__)
_one_at_a_time = threading.Lock()
_log_keys: dict[str, dict[int, dict[str, Any]]] = {}  # function -> formatter id -> its keys

Consumer = Callable[[dict[str, Any]], Any]  # takes an event, returns the function's response or raises


class FunctionTimedOut(RuntimeError):
    """The handler ran longer than its topology timeout: Lambda would have stopped it and failed the call."""


@dataclass(frozen=True)
class Invocation:
    function: str
    result: Any
    error: BaseException | None
    seconds: float

    def unwrap(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


def call(function_name: str, event: dict[str, Any]) -> Invocation:
    fn = topology.function(function_name)
    with _one_at_a_time:
        started = time.monotonic()
        with _own_log_keys(function_name):
            try:
                result, error = invoke(function_name, event), None
            except Exception as exc:
                # Lambda writes the stack trace to the function's log and reports the invocation as failed
                log.exception("%s failed", function_name)
                result, error = None, exc
        seconds = time.monotonic() - started
    if error is None and seconds > fn.timeout_seconds:
        # The work is done locally, but the cloud would have cut it off: fail it so it gets noticed here.
        error = FunctionTimedOut(f"{function_name} took {seconds:.1f} s, over its {fn.timeout_seconds} s timeout")
        log.error("%s", error)
    return Invocation(function=function_name, result=result, error=error, seconds=seconds)


@contextmanager
def _own_log_keys(function_name: str) -> Iterator[None]:
    """Give the function the Powertools log keys it left behind last time (a fresh set the first time)."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    loggers = [
        logging.getLogger(),
        *(v for v in logging.Logger.manager.loggerDict.values() if isinstance(v, logging.Logger)),
    ]
    formatters = {
        id(h.formatter): h.formatter
        for lg in loggers
        for h in lg.handlers
        if isinstance(h.formatter, LambdaPowertoolsFormatter)
    }
    saved = _log_keys.setdefault(function_name, {})
    for key, formatter in formatters.items():
        formatter.clear_state()
        if key in saved:
            formatter.log_format = dict(saved[key])
    try:
        yield
    finally:
        for key, formatter in formatters.items():
            saved[key] = dict(formatter.log_format)


def consumer_for(function_name: str) -> Consumer:
    """A callable for the workers: the function's response, or its failure raised."""
    return lambda event: call(function_name, event).unwrap()


def load_all() -> None:
    """Import every handler now: a broken or missing one stops `make run` at startup, not at first use."""
    for fn in topology.FUNCTIONS:
        load_handler(fn)
