"""What the sandbox webhook receivers share: misbehaving on command, and a record of what arrived.

The control API (POST /_control on each receiver) takes one command at a time:

    {"mode": "fail", "status": 503, "count": 3}           answer the next 3 requests with 503
    {"mode": "slow", "delay_seconds": 5, "count": 1}       handle the next request normally, 5 s late
    {"mode": "timeout", "count": 1}                        hold the next request `hang_seconds` (default 20,
                                                           past the hub's 15 s timeout), then 504; not recorded
    {"mode": "gone", "count": 1}                           410 (a receiver that is no longer there)
    {"mode": "rate_limit", "retry_after": 30, "count": 2}  429 with Retry-After: 30
    {"mode": "normal"}                                     back to normal (also `"count": 0`)

`count` defaults to 1. A receiver may add modes of its own (the Make.com one: "queue_full") and a scope
key (website_id, hook) that limits the command to one website or hook; without it, it applies to all.
A scoped command wins over the global one for its scope.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

MODES = ("normal", "fail", "slow", "timeout", "gone", "rate_limit")
MAX_COUNT = 100_000
MAX_DELAY_SECONDS = 120.0
DEFAULT_HANG_SECONDS = 20.0
MAX_ATTEMPTS_KEPT = 2_000
# The newest deliveries kept (each with its body): a long soak's thousands of edits must not grow the
# local stack's memory for good; a duplicate of one that was let go counts as a new delivery
MAX_DELIVERIES_KEPT = 5_000


class ControlError(ValueError):
    """A control command that cannot be applied (answered 400)."""


@dataclass
class Misbehaviour:
    mode: str
    remaining: int
    status: int = 500  # fail
    delay_seconds: float = 0.0  # slow
    hang_seconds: float = DEFAULT_HANG_SECONDS  # timeout
    retry_after: int = 30  # rate_limit


def _number(command: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = command.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ControlError(f"{name} must be a number from {low:g} to {high:g}")
    return float(value)


def parse_command(command: Any, *, scope_key: str, modes: Iterable[str] = MODES) -> tuple[str | None, Misbehaviour]:
    """(scope, misbehaviour) from a control body; the legacy {fail_with, times} form is still read."""
    if not isinstance(command, dict):
        raise ControlError('Expected a JSON object such as {"mode": "fail", "status": 503, "count": 2}')
    scope = command.get(scope_key)
    if scope is not None and (not isinstance(scope, str) or not scope):
        raise ControlError(f"{scope_key} must be a non-empty string")
    if "mode" not in command and "fail_with" in command:  # before the modes: {website_id, fail_with, times}
        command = {**command, "mode": "fail", "status": command["fail_with"], "count": command.get("times", 1)}
    mode = command.get("mode")
    allowed = tuple(modes)
    if mode not in allowed:
        raise ControlError(f"mode must be one of {', '.join(allowed)}")
    count = command.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_COUNT:
        raise ControlError(f"count must be a whole number from 0 to {MAX_COUNT}")
    status = command.get("status", 500)
    if mode == "fail" and (isinstance(status, bool) or not isinstance(status, int) or not 300 <= status <= 599):
        raise ControlError("status must be an HTTP status from 300 to 599")
    misbehaviour = Misbehaviour(
        mode=mode,
        remaining=0 if mode == "normal" else count,
        status=status if mode == "fail" else 500,
        delay_seconds=_number(command, "delay_seconds", 1.0, 0, MAX_DELAY_SECONDS),
        hang_seconds=_number(command, "hang_seconds", DEFAULT_HANG_SECONDS, 0, MAX_DELAY_SECONDS),
        retry_after=int(_number(command, "retry_after", 30, 0, 86_400)),
    )
    return scope, misbehaviour


class Control:
    """The misbehaviour in force, per scope (None = every scope), consumed one request at a time."""

    def __init__(self, *, scope_key: str, modes: Iterable[str] = MODES) -> None:
        self.scope_key = scope_key
        self.modes = tuple(modes)
        self._lock = threading.Lock()
        self._by_scope: dict[str | None, Misbehaviour] = {}
        self._released = threading.Event()  # set on stop: held requests answer at once

    def apply(self, command: Any) -> str:
        scope, misbehaviour = parse_command(command, scope_key=self.scope_key, modes=self.modes)
        with self._lock:
            if misbehaviour.remaining == 0:
                self._by_scope.pop(scope, None)
                if scope is None:
                    self._by_scope.clear()  # a global "normal" clears every scoped command too
            else:
                self._by_scope[scope] = misbehaviour
        where = f" for {self.scope_key} {scope}" if scope else ""
        if misbehaviour.remaining == 0:
            return f"Back to normal{where}"
        return f"Next {misbehaviour.remaining} requests{where}: {misbehaviour.mode}"

    def take(self, scope: str) -> Misbehaviour | None:
        """The misbehaviour for this request, if any (it counts as used)."""
        with self._lock:
            key = scope if scope in self._by_scope else None
            current = self._by_scope.get(key)
            if current is None:
                return None
            current.remaining -= 1
            if current.remaining <= 0:
                del self._by_scope[key]
            return Misbehaviour(**asdict(current))

    def hold(self, seconds: float) -> None:
        """Wait (slow/timeout modes), cut short when the receiver stops."""
        self._released.wait(seconds)

    def stop(self) -> None:
        self._released.set()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {scope or "*": asdict(m) for scope, m in self._by_scope.items()}


@dataclass
class Recorder:
    """Deliveries kept once per webhook id (duplicates counted, so a sender that posts twice shows), and
    every attempt with its answer, so retries and refusals are visible too."""

    clock: Callable[[], float] = time.time
    lock: threading.Lock = field(default_factory=threading.Lock)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    _by_id: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def attempt(self, scope: str, webhook_id: str | None, status: int, outcome: str) -> None:
        entry = {"scope": scope, "webhook_id": webhook_id, "status": status, "outcome": outcome, "at": self.clock()}
        with self.lock:
            self.attempts.append(entry)
            del self.attempts[:-MAX_ATTEMPTS_KEPT]

    def deliver(self, scope: str, webhook_id: str | None, entry: dict[str, Any]) -> bool:
        """Keep a delivery; True if this webhook id was already kept for this scope (then only counted)."""
        with self.lock:
            known = self._by_id.get((scope, webhook_id)) if webhook_id else None
            if known is not None:
                known["times_received"] += 1
                return True
            kept = {"scope": scope, "webhook_id": webhook_id, "times_received": 1, "received_at": self.clock(), **entry}
            self.deliveries.append(kept)
            if webhook_id:
                self._by_id[(scope, webhook_id)] = kept
            for gone in self.deliveries[:-MAX_DELIVERIES_KEPT]:
                self._by_id.pop((gone["scope"], gone["webhook_id"]), None)
            del self.deliveries[:-MAX_DELIVERIES_KEPT]
            return False

    def snapshot(self, scope: str | None = None) -> dict[str, Any]:
        with self.lock:
            return {
                "deliveries": [dict(d) for d in self.deliveries if scope is None or d["scope"] == scope],
                "attempts": [dict(a) for a in self.attempts if scope is None or a["scope"] == scope],
            }

    def clear(self) -> None:
        with self.lock:
            self.deliveries.clear()
            self.attempts.clear()
            self._by_id.clear()
