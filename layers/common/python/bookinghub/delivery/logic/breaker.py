"""Circuit breaker per endpoint (pure): closed -> open after N consecutive failures -> half-open after a
cool-down, when one probe may go; its success closes the circuit, its failure opens it again for twice as
long (capped). While open, attempts are deferred without an HTTP call, so a dead receiver costs its
deliveries a wait and the other endpoints nothing."""

from __future__ import annotations

from dataclasses import dataclass

from bookinghub.delivery.models import CircuitState, EndpointStatus

MAX_COOLDOWN_FACTOR = 32


@dataclass(frozen=True)
class Gate:
    allowed: bool
    probe: bool = False  # this attempt is the half-open probe
    wait_seconds: float = 0.0  # when not allowed: how long until the circuit may be tried again


def gate(status: EndpointStatus, now: float) -> Gate:
    if status.circuit == "closed":
        return Gate(True)
    if now < status.circuit_open_until:
        return Gate(False, wait_seconds=status.circuit_open_until - now)
    return Gate(True, probe=True)


def after_result(
    status: EndpointStatus, *, success: bool, now: float, threshold: int, cooldown: float
) -> tuple[CircuitState, float, int]:
    """The circuit (state, open_until, consecutive openings) after one attempt's result."""
    if success:
        return "closed", 0.0, 0
    failures = status.consecutive_failures + 1
    if status.circuit != "closed" or failures >= threshold:
        openings = status.circuit_opened_count + 1
        factor = min(2 ** (openings - 1), MAX_COOLDOWN_FACTOR)
        return "open", now + cooldown * factor, openings
    return "closed", 0.0, 0


def should_disable(status: EndpointStatus, *, now: float, after_failures: int, after_seconds: float) -> bool:
    """Auto-disable: N consecutive failures (this one included) spanning at least T."""
    failures = status.consecutive_failures + 1
    first = status.first_failure_at if status.first_failure_at is not None else now
    return failures >= after_failures and now - first >= after_seconds
