"""Every 5 minutes: reservations whose write-back to Beds24 is overdue go back on the Beds24Writes queue.

The write that queues a field for Beds24 also indexes the reservation as pending (dal/write_index.py);
the message sent after it is the fast path. When that send failed (or the message was lost), nothing
else would ever send it: the sweep finds the reservation once its due time has passed and queues it
again. The due time is pushed on before the send (if the send then fails, the next sweep after the lease
tries again) and the consumer reads what is still queued, so the fields are written once.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bookinghub.beds24.dal import write_index
from bookinghub.beds24.dal.queues import send_write
from bookinghub.core.clock import to_iso
from bookinghub.core.observability import emit_metric, logger

BATCH = 500
LEASE_SECONDS = write_index.GRACE_SECONDS  # until the sweep may queue the same reservation again


def to_iso_at(epoch: float) -> str:
    return to_iso(datetime.fromtimestamp(epoch, UTC))


def sweep(*, now: float | None = None, limit: int = BATCH) -> int:
    """Queue the overdue write-backs; returns how many."""
    now = time.time() if now is None else now
    overdue = write_index.overdue(to_iso_at(now), limit=limit)
    lease_until = to_iso_at(now + LEASE_SECONDS)
    queued = failed = 0
    for reservation_id, read_sk in overdue:
        if not write_index.push_due(reservation_id, read_sk, lease_until):
            continue  # written back meanwhile, or another sweep took it
        try:
            send_write(reservation_id)
        except Exception:  # (the next sweep after the lease tries again)
            failed += 1
            logger.exception("beds24 write-back not re-queued", extra={"reservation_id": reservation_id})
            continue
        queued += 1
    if queued:
        emit_metric("Beds24WritesRequeued", value=queued, provider="beds24", integration_type="sync_back")
    if overdue:
        logger.warning("overdue beds24 write-backs re-queued", extra={"count": queued, "failed": failed})
    return queued
