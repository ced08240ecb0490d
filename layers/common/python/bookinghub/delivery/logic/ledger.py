"""What a batch of attempts changes besides its deliveries, written once per batch.

An attempt used to write its endpoint's status item (counters, breaker, consecutive failures) and its
attempt log row on its own: two of its six AWS calls. A batch's attempts instead fold their results, in
the order they finish, into one tally per endpoint, as if each had read the status the one before it
wrote; the batch then writes one update per endpoint (counters as ADD, so concurrent consumers still
add up; the run of consecutive failures as ADD while the batch had no success, else SET to the failures
after its last success) and its log rows in BatchWriteItem calls of 25.

Guarantees are those of the per-attempt writes: the delivery item (the outcome) is written by each
attempt before its result reaches the tally; the status and the log rows follow within the batch, and
a consumer that dies before the flush loses counts exactly as one that died between two writes did.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from bookinghub.bookings.models.events import SyncLog
from bookinghub.core.observability import logger
from bookinghub.delivery.dal import attempts as attempt_store
from bookinghub.delivery.dal import endpoints as endpoint_store
from bookinghub.delivery.logic import breaker, pools
from bookinghub.delivery.logic.classify import Classification
from bookinghub.delivery.logic.clock import iso
from bookinghub.delivery.models import Attempt, EndpointStatus
from bookinghub.delivery.settings import get_delivery_settings


@dataclass
class _Tally:
    status: EndpointStatus  # as this batch's attempts have left it so far
    add: dict[str, int] = field(default_factory=dict)
    set_fields: dict[str, Any] = field(default_factory=dict)
    reset: bool = False  # a success: consecutive_failures is SET, not ADDed

    def count(self, **amounts: int) -> None:
        for name, amount in amounts.items():
            self.add[name] = self.add.get(name, 0) + amount


class Ledger:
    """Thread-safe: a batch's attempts run in parallel and report here as they finish."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tallies: dict[str, _Tally] = {}
        self._attempts: list[Attempt] = []
        self._sync_logs: list[SyncLog] = []

    def _tally(self, endpoint_id: str, status: EndpointStatus) -> _Tally:
        return self._tallies.setdefault(endpoint_id, _Tally(status))

    def status(self, endpoint_id: str, loaded: EndpointStatus) -> EndpointStatus:
        """The endpoint's status as the batch has changed it (what the next attempt should see)."""
        with self._lock:
            tally = self._tallies.get(endpoint_id)
            return tally.status if tally else loaded

    def succeeded(self, endpoint_id: str, loaded: EndpointStatus, now: float, *, settled: bool = True) -> None:
        """A 2xx: the endpoint's run of failures ends; the delivery counts only if this attempt settled it."""
        with self._lock:
            tally = self._tally(endpoint_id, loaded)
            fields = {
                "consecutive_failures": 0,
                "circuit": "closed",
                "circuit_open_until": 0.0,
                "circuit_opened_count": 0,
                "last_success_at": iso(now),
                "first_failure_at": None,
            }
            tally.status = tally.status.model_copy(update=fields)
            tally.set_fields.update(fields)
            tally.reset = True
            tally.add.pop("consecutive_failures", None)  # SET from now on (an item path is SET or ADDed)
            tally.count(sent=1, **({"succeeded": 1, "pending": -1} if settled else {}))

    def failed_attempt(
        self, endpoint_id: str, loaded: EndpointStatus, now: float, verdict: Classification
    ) -> tuple[str, str] | None:
        """Count a failed attempt: breaker, consecutive failures, and disabling or parking the endpoint.
        Returns (new state, reason) when this failure changed the endpoint's state."""
        settings = get_delivery_settings()
        with self._lock:
            tally = self._tally(endpoint_id, loaded)
            status = tally.status
            circuit, open_until, openings = breaker.after_result(
                status,
                success=False,
                now=now,
                threshold=settings.breaker_threshold,
                cooldown=settings.scaled(settings.breaker_cooldown_seconds),
            )
            fields: dict[str, Any] = {
                "circuit": circuit,
                "circuit_open_until": open_until,
                "circuit_opened_count": openings,
                "last_failure_at": iso(now),
            }
            if status.first_failure_at is None:  # the first failure of a run
                fields["first_failure_at"] = now
            change: tuple[str, str] | None = None
            if status.state == "enabled":
                if verdict.verdict == "disable":
                    change = ("disabled", verdict.reason)
                elif verdict.verdict == "park":
                    change = ("parked", verdict.reason)
                elif breaker.should_disable(
                    status,
                    now=now,
                    after_failures=settings.disable_after_failures,
                    after_seconds=settings.scaled(settings.disable_after_seconds),
                ):
                    change = ("disabled", f"{status.consecutive_failures + 1} consecutive failures")
            if change:
                fields.update(state=change[0], state_reason=change[1], state_changed_at=iso(now))
            tally.status = status.model_copy(update={**fields, "consecutive_failures": status.consecutive_failures + 1})
            tally.set_fields.update(fields)
            tally.count(sent=1)
            if tally.reset:
                tally.set_fields["consecutive_failures"] = tally.status.consecutive_failures
            else:
                tally.count(consecutive_failures=1)
        return change

    def delivery_failed(self, endpoint_id: str, loaded: EndpointStatus) -> None:
        with self._lock:
            self._tally(endpoint_id, loaded).count(failed=1, pending=-1)

    def log(self, attempt: Attempt, sync_log: SyncLog | None) -> None:
        with self._lock:
            self._attempts.append(attempt)
            if sync_log is not None:
                self._sync_logs.append(sync_log)

    def flush(self) -> None:
        """One status update per endpoint and the log rows, side by side (the rows best effort: the
        outcomes are written). A status update that fails raises once the log rows are written."""
        with self._lock:
            tallies, self._tallies = self._tallies, {}
            attempts, self._attempts = self._attempts, []
            sync_logs, self._sync_logs = self._sync_logs, []
        if not (attempts or sync_logs):
            _write_statuses(tallies)
            return
        if not tallies:
            _write_log_rows(attempts, sync_logs)
            return
        # Two tables, no order between them: the log rows go on the side pool while the status updates
        # are made here (one round trip at the end of a batch instead of two); both are done on return
        rows = pools.side_pool().submit(_write_log_rows, attempts, sync_logs)
        try:
            _write_statuses(tallies)
        finally:
            rows.result()  # _write_log_rows logs its own failure and raises nothing


def _write_statuses(tallies: dict[str, _Tally]) -> None:
    for endpoint_id, tally in tallies.items():
        fields = dict(tally.set_fields)
        remove: tuple[str, ...] = ()
        if "first_failure_at" in fields and fields["first_failure_at"] is None:
            del fields["first_failure_at"]
            remove = ("first_failure_at",)
        endpoint_store.update_status(
            endpoint_id, set_fields=fields, add={k: v for k, v in tally.add.items() if v}, remove=remove
        )


def _write_log_rows(attempts: list[Attempt], sync_logs: list[SyncLog]) -> None:
    try:
        attempt_store.put_log_rows(attempts, sync_logs)
    except Exception:  # the outcomes are already recorded on the deliveries; the log rows are best effort
        logger.exception("attempt log write failed", extra={"attempts": len(attempts)})
