"""The local stand-in for what AWS does to stored data by itself: trim streams, expire items by TTL.

moto does neither (infra/local/moto_retention.py), so without this loop the local stack keeps every
stream record and every expired item for good, and its memory grows with all it ever wrote. Every
`interval_seconds` it:
- trims each table's stream to what its local stream pollers have not processed yet (filtered out,
  delivered, or dropped after their retries: StreamPoller.processed_through) plus the newest
  STREAM_TAIL_RECORDS processed ones, and forgets processed records past AWS's 24 hours. AWS also drops
  an unread record after 24 hours; here one is kept until every poller is done with it, since a lost
  event is worse than memory. A developer reading the stream with TRIM_HORIZON sees that tail, not the
  whole run (AWS: the last 24 hours);
- deletes the items of each table with TTL enabled whose TTL attribute is past, each with the REMOVE
  stream record AWS's TTL process emits (the stream triggers' filters pass INSERTs only, as on AWS);
- packs the items nobody touched since the last pass (infra/local/moto_compact.py: one compressed blob
  each, unpacked again on the next access);
- hands the C allocator's free memory back to the system (infra/local/allocator.py): what the pass
  dropped and what requests churned through would otherwise stay resident.

It reaches moto's backend directly: the local runtime runs moto's server in its own process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from infra.local import allocator
from infra.local.background import BackgroundLoop
from infra.local.streams import StreamPoller

log = logging.getLogger(__name__)

# Processed records kept per stream, for a developer's look at recent changes (TRIM_HORIZON): a fixed
# cost (~3 KB a Bookings record, old and new images), not one that grows with the data
STREAM_TAIL_RECORDS = 100
INTERVAL_SECONDS = 10.0


class Housekeeping(BackgroundLoop):
    def __init__(
        self,
        *,
        account_id: str,
        region: str,
        pollers: Sequence[StreamPoller],
        stop: threading.Event | None = None,
        interval_seconds: float = INTERVAL_SECONDS,
        tail_records: int = STREAM_TAIL_RECORDS,
    ) -> None:
        super().__init__("housekeeping", stop)
        self._account, self._region = account_id, region
        self._pollers = list(pollers)
        self._interval = interval_seconds
        self._tail = tail_records

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.run_once()
            except Exception:
                log.exception("housekeeping failed; retrying in %.0f s", self._interval)

    def run_once(self, now: float | None = None) -> tuple[int, int]:
        """One pass: (stream records trimmed, items expired)."""
        from moto.dynamodb.models import dynamodb_backends

        from infra.local import moto_compact, moto_retention

        backend = dynamodb_backends[self._account][self._region]
        trimmed = expired = 0
        for table in list(backend.tables.values()):
            expired += moto_retention.expire_items(backend, table, now)
            shard = table.stream_shard
            if shard is None:
                continue
            readers = [p for p in self._pollers if p.stream_arn.startswith(f"{table.table_arn}/stream/")]
            positions = [p.processed_through(shard.id) for p in readers]
            if not readers:  # nothing local waits for its records: it keeps the tail
                read: int | None = shard.starting_sequence_number + len(shard.items) - 1
            else:  # a record goes once every poller of the stream is done with it
                read = None if None in positions else min(p for p in positions if p is not None)
            trimmed += moto_retention.trim_stream(shard, read_through=read, keep=self._tail)
        for table in list(backend.tables.values()):  # after the expiry: an expired item is not packed
            moto_compact.pack_items(table)
        allocator.trim()
        return trimmed, expired
