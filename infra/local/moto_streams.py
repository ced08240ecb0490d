"""DynamoDB Streams shard iterators as AWS hands them out: a position in a token, nothing kept.

moto 5.2.1 builds a `ShardIterator` object per GetShardIterator and one more per GetRecords (its
NextShardIterator), each with a 632-character id, and keeps every one in `shard_iterators` for good; a
local stream poller polls about four times a second, so they pile up by the tens of thousands even when
nothing is written. Each also holds the shard object it was made from, so after moto replaced a table
object (its own transaction rollback does) an iterator goes on reading a stream nobody writes to.

AWS's iterator is an opaque token that expires 15 minutes after it was returned. Here it is the
stream's ARN and label followed by the shard id, the next sequence number to read and when the token
was handed out, so the backend stores nothing per iterator, and every GetRecords reads the table's live
shard by position. Answers as AWS's: a token older than ITERATOR_LIFETIME_SECONDS is
ExpiredIteratorException, one that is not ours is ValidationException, one for a stream that is gone (or
a shard id the stream does not have) ResourceNotFoundException, a position before the trim horizon
TrimmedDataAccessException (moto_retention.horizon_checked, also at GetShardIterator for AT/AFTER).
Installed by moto_dynamodb.install(); reads hold its lock, so a trim never shifts the records under one.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodbstreams.models import DynamoDBStreamsBackend

ITERATOR_LIFETIME_SECONDS = 15 * 60  # AWS: a shard iterator expires 15 minutes after it is returned
_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
_clock = time.monotonic  # the tokens live as long as this process (moto's state does too)


def _error(code: str, message: str) -> JsonRESTError:
    return JsonRESTError(code, message)


class ShardPosition:
    """What GetShardIterator answers with: moto's responses read `.arn`; `.get` reads as moto's does."""

    def __init__(self, backend: DynamoDBStreamsBackend, table: Table, shard: StreamShard, sequence: int) -> None:
        self._backend = backend
        token = json.dumps([shard.id, sequence, round(_clock(), 3)], separators=(",", ":"))
        encoded = base64.urlsafe_b64encode(token.encode()).decode("ascii")
        self.arn = f"{table.table_arn}/stream/{table.latest_stream_label}|1|{encoded}"

    def get(self, limit: int = 1000) -> dict[str, Any]:
        return get_records(self._backend, self.arn, limit)


def _live_shard(
    backend: DynamoDBStreamsBackend, arn: str, label: str | None, shard_id: str
) -> tuple[Table, StreamShard]:
    try:
        table = backend._get_table_from_arn(arn)
    except (IndexError, JsonRESTError):
        raise _error("ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found") from None
    shard = table.stream_shard
    if shard is None or (label is not None and label != table.latest_stream_label):
        raise _error("ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found")
    if shard.id != shard_id:
        raise _error("ResourceNotFoundException", f"Requested resource not found: Shard: {shard_id} not found")
    return table, shard


def get_shard_iterator(
    self: DynamoDBStreamsBackend,
    arn: str,
    shard_id: str,
    shard_iterator_type: str,
    sequence_number: int | str | None = None,
) -> ShardPosition:
    from infra.local import moto_dynamodb  # its lock: the horizon and the records move together

    if shard_iterator_type not in _TYPES:
        raise _error("ValidationException", f"Invalid ShardIteratorType: {shard_iterator_type}")
    label = arn.split("/stream/", 1)[1] if "/stream/" in arn else None
    with moto_dynamodb._lock:
        table, shard = _live_shard(self, arn, label, shard_id)
        horizon, end = shard.starting_sequence_number, shard.starting_sequence_number + len(shard.items)
        if shard_iterator_type == "TRIM_HORIZON":
            sequence = horizon
        elif shard_iterator_type == "LATEST":
            sequence = end
        else:
            if sequence_number is None:
                raise _error("ValidationException", f"{shard_iterator_type} needs a SequenceNumber")
            try:
                sequence = int(sequence_number) + (shard_iterator_type == "AFTER_SEQUENCE_NUMBER")
            except ValueError:
                raise _error("ValidationException", f"Invalid SequenceNumber: {sequence_number}") from None
            if sequence < horizon:
                from infra.local.moto_retention import TrimmedDataAccess

                raise TrimmedDataAccess()
        return ShardPosition(self, table, shard, sequence)


def get_records(self: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> dict[str, Any]:
    from infra.local import moto_dynamodb

    stream_arn, shard_id, sequence, issued = _decode(iterator_arn)
    if _clock() - issued > ITERATOR_LIFETIME_SECONDS:
        raise _error("ExpiredIteratorException", "Iterator expired")
    label = stream_arn.split("/stream/", 1)[1]
    with moto_dynamodb._lock:  # a trim between reading the horizon and slicing would skip records
        table, shard = _live_shard(self, stream_arn, label, shard_id)
        records = shard.get(sequence, int(limit or 1000))  # TrimmedDataAccessException before the horizon
        following = int(records[-1]["dynamodb"]["SequenceNumber"]) + 1 if records else sequence
        return {"NextShardIterator": ShardPosition(self, table, shard, following).arn, "Records": records}


def _decode(iterator_arn: str) -> tuple[str, str, int, float]:
    """(stream ARN with label, shard id, next sequence number, when it was handed out)."""
    try:
        stream_arn, version, encoded = iterator_arn.rsplit("|", 2)
        shard_id, sequence, issued = json.loads(base64.urlsafe_b64decode(encoded.encode("ascii")))
        if version != "1" or "/stream/" not in stream_arn:
            raise ValueError(version)
        return stream_arn, str(shard_id), int(sequence), float(issued)
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise _error("ValidationException", "Invalid ShardIterator") from None
