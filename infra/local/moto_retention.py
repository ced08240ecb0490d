"""What AWS forgets and moto keeps: stream records past their retention, items past their TTL.

moto keeps every stream record of a table for good and never expires an item by its TTL attribute, so
the local stack's memory grows with everything ever written (~5x its JSON size). The local runtime calls
these from its housekeeping loop (infra/local/housekeeping.py), under moto_dynamodb's lock:

- `trim_stream`: drops a shard's oldest records, as AWS trims a stream after 24 hours. Locally a record
  goes once every local stream poller has read it and it is not among the newest `keep` records; a
  record no poller has read is never dropped. Sequence numbers stay as they were; reading before the
  new trim horizon answers TrimmedDataAccessException, as in AWS.
- `expire_items`: deletes the items whose TTL attribute (a Number of epoch seconds) is in the past, as
  AWS's TTL process does some time after expiry (not one more than five years past, as AWS), through
  moto's own delete: the table's stream gets the REMOVE record AWS emits, marked with AWS's service
  identity (userIdentity type "Service").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import StreamShard, Table

from infra.local import moto_dynamodb
from infra.local.moto_compact import peek

STREAM_RETENTION = timedelta(hours=24)  # AWS: a stream record is readable for 24 hours
# AWS's mark on a TTL deletion's stream record (Lambda's event shows it as type/principalId)
TTL_MAX_AGE_SECONDS = 5 * 365 * 86400  # AWS ignores a TTL more than five years in the past
TTL_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


class TrimmedDataAccess(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("TrimmedDataAccessException", "The requested records are beyond the trim horizon")


def horizon_checked(get: Callable[[StreamShard, int, int], list[dict[str, Any]]]) -> Callable[..., Any]:
    """moto's StreamShard.get, answering TrimmedDataAccessException for a position before the horizon
    (moto asserts instead: a 500)."""

    def checked(self: StreamShard, start: int, quantity: int) -> list[dict[str, Any]]:
        if start < self.starting_sequence_number:
            raise TrimmedDataAccess()
        return get(self, start, quantity)

    return checked


def trim_stream(shard: StreamShard, *, read_through: int | None, keep: int, now: datetime | None = None) -> int:
    """Drop the records older than AWS's retention or read by every poller (sequence number <=
    `read_through`, None: nothing read), keeping the newest `keep` of the read ones and every unread
    one. Returns how many were dropped."""
    moment = now or datetime.now(UTC)
    with moto_dynamodb._lock:
        records, start = shard.items, shard.starting_sequence_number
        read = 0 if read_through is None else max(0, min(len(records), read_through - start + 1))
        drop = max(0, read - keep)
        for record in records[drop:read]:  # read, within the tail, yet past AWS's retention
            created = record.record["dynamodb"]["ApproximateCreationDateTime"]
            if _aware(created) > moment - STREAM_RETENTION:
                break
            drop += 1
        if drop:
            del records[:drop]
            shard.starting_sequence_number = start + drop  # moto numbers records from its start: keep them
        return drop


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # moto's utcnow() is naive UTC


def expire_items(backend: DynamoDBBackend, table: Table, now: float | None = None) -> int:
    """Delete `table`'s items whose TTL attribute is past (`now`, epoch seconds); returns how many."""
    if table.ttl.get("TimeToLiveStatus") != "ENABLED":
        return 0
    attribute, moment = table.ttl["AttributeName"], time.time() if now is None else now
    expired = 0
    with moto_dynamodb._lock:  # find and delete at once: no write can renew an item in between
        for item in _items(table):
            value = peek(item, attribute)  # a packed item's TTL attribute, read without unpacking it
            if value is None or value.type != "N" or not _expired(value.value, moment):
                continue
            key = {table.hash_key_attr: item.hash_key.to_json()}
            if table.range_key_attr is not None and item.range_key is not None:
                key[table.range_key_attr] = item.range_key.to_json()
            streamed = len(table.stream_shard.items) if table.stream_shard is not None else 0
            backend.delete_item(table.name, key)
            if table.stream_shard is not None and len(table.stream_shard.items) > streamed:
                table.stream_shard.items[-1].record["userIdentity"] = dict(TTL_IDENTITY)
            expired += 1
    return expired


def _items(table: Table) -> list[Item]:
    """Every item, unsorted (moto's all_items sorts them all)."""
    if table.range_key_attr is None:
        return list(table.items.values())  # type: ignore[arg-type]
    return [item for group in table.items.values() for item in group.values()]


def _expired(value: str, moment: float) -> bool:
    """AWS: a Number of epoch seconds in the past, but not more than five years past (those are kept)."""
    try:
        seconds = Decimal(value)
    except InvalidOperation:
        return False
    return Decimal(str(moment)) - TTL_MAX_AGE_SECONDS <= seconds < Decimal(str(moment))
