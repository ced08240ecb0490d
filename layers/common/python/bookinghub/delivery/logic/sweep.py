"""Every minute: deliveries whose due time has passed go back on the queue (long waits, and the
fallback for a lost message timer or an attempt whose consumer died mid-flight)."""

from __future__ import annotations

import time

from bookinghub.core.observability import logger, metrics
from bookinghub.delivery.dal import deliveries as store
from bookinghub.delivery.dal.queue import AttemptMessage, send
from bookinghub.delivery.logic.clock import iso
from bookinghub.delivery.settings import get_delivery_settings

BATCH = 500


def sweep(*, now: float | None = None, limit: int = BATCH) -> int:
    """Re-queue what is due; returns how many. Each message names the attempt it is for, so one that
    races a message still in flight makes no second attempt."""
    now = time.time() if now is None else now
    due = store.due_before(iso(now), limit=limit)
    if not due:
        return 0
    lease = get_delivery_settings().lease_seconds
    queued = []
    for delivery in due:
        # Pushed first: if the send then fails, the next sweep after the lease tries again
        if store.push_lease(delivery.id, attempts=delivery.attempts, lease_until=iso(now + lease)) is not None:
            queued.append(AttemptMessage(delivery.id, delivery.attempts, endpoint_id=delivery.endpoint_id))
    send(queued)
    metrics.add_metric(name="DeliveriesRequeued", unit="Count", value=len(queued))
    logger.info("due deliveries re-queued", extra={"count": len(queued)})
    return len(queued)
