"""DynamoDB stream poller: Lambda's stream event source mapping, locally, configured as the CDK
renderer configures it (infra/cdk/functions.py: add_stream_trigger).

Reads the table's stream from moto (TRIM_HORIZON: the local tables are created empty at startup, so
that is everything written in this run and nothing is missed; the runtime's housekeeping trims only
records every poller has processed, see `processed_through`), keeps only the records the mapping's
filter pattern lets through, and invokes the consumer in order with real stream events. On partial
failure (`batchItemFailures` with the SequenceNumber) it retries from the first failed record; when the
function raises, the batch is halved (bisect on error) until the failing record is alone. After
`max_retry_attempts` retries the failing part is dropped to the on-failure destination, which locally
is a log line.

Each poll takes a fresh shard iterator after the last record read (AFTER_SEQUENCE_NUMBER), resolved from
the stream ARN, instead of following NextShardIterator: moto's own iterator holds the shard object it
was made from, so one kept across polls goes on reading a table object moto may have replaced (moto's
transaction rollback swaps in a copy) and never sees another record. By position, the poller reads
whatever stream the table has now, as Lambda's mapping reads the table's stream. (Under the local
runtime an iterator is a token that moto does not store, infra/local/moto_streams.py: a fresh one per
poll costs no memory.)
"""

from __future__ import annotations

import base64
import logging
import threading
from datetime import datetime
from typing import Any

from infra import topology
from infra.local.background import BackgroundLoop
from infra.local.lambdas import Consumer

log = logging.getLogger(__name__)


def _wire(value: Any) -> Any:
    """boto3's parsed AttributeValues back to the JSON Lambda receives (binary as base64)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_wire(v) for v in value]
    return value


def stream_record(raw: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record -> the record Lambda puts in a DynamoDB stream event."""
    data = raw["dynamodb"]
    dynamodb: dict[str, Any] = {
        k: _wire(data[k])
        for k in ("Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType")
        if k in data
    }
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    record: dict[str, Any] = {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    identity = raw.get("userIdentity")  # a TTL deletion's mark, as Lambda's event shows it
    if identity:
        record["userIdentity"] = {"type": identity.get("Type"), "principalId": identity.get("PrincipalId")}
    return record


def filter_pattern(trigger: topology.StreamTrigger) -> dict[str, Any]:
    """The mapping's filter, the very one the CDK renders (topology.stream_filter)."""
    return topology.stream_filter(trigger)


def filter_patterns(trigger: topology.StreamTrigger) -> list[dict[str, Any]]:
    """All the mapping's filters (a record passes if it matches any), as the CDK renders them."""
    return topology.stream_filters(trigger)


def matches_any(value: Any, patterns: list[dict[str, Any]]) -> bool:
    return any(matches_filter(value, pattern) for pattern in patterns)


def matches_filter(value: Any, pattern: Any) -> bool:
    """Lambda event filtering, the subset the renderers use: nested keys, value lists, {"prefix": ...},
    {"exists": true|false} on a leaf."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            matches_filter(value[k], p) if k in value else _absent_ok(p) for k, p in pattern.items()
        )
    if isinstance(pattern, list):
        return any(_matches_value(value, option) for option in pattern)
    raise ValueError(f"unsupported filter pattern {pattern!r}")


def _absent_ok(pattern: Any) -> bool:
    """Whether a pattern holds for a field that is not there: only `exists: false` (at every leaf)."""
    if isinstance(pattern, dict):
        return all(_absent_ok(p) for p in pattern.values())
    return isinstance(pattern, list) and {"exists": False} in pattern


def _matches_value(value: Any, option: Any) -> bool:
    if isinstance(option, dict):
        if set(option) == {"exists"}:
            return bool(option["exists"]) and not isinstance(value, dict | list)
        if set(option) != {"prefix"}:
            raise ValueError(f"unsupported filter operator {option!r}")
        return isinstance(value, str) and value.startswith(option["prefix"])
    return bool(value == option)


def first_failed_index(response: Any, batch: list[dict[str, Any]]) -> int | None:
    """None if the batch succeeded; else where to retry from (0 = the whole batch failed)."""
    if response is None:
        return None
    if not isinstance(response, dict):
        return 0
    failures = response.get("batchItemFailures")
    if not failures:
        return None
    positions = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(batch)}
    indexes = []
    for failure in failures if isinstance(failures, list) else [None]:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in positions:
            return 0  # an unusable identifier fails the whole batch, as in Lambda
        indexes.append(positions[identifier])
    return min(indexes)


class StreamPoller(BackgroundLoop):
    def __init__(
        self,
        *,
        streams: Any,
        stream_arn: str,
        consumer: Consumer,
        name: str,
        region: str,
        pattern: dict[str, Any] | list[dict[str, Any]] | None = None,
        batch_size: int = 100,
        max_retry_attempts: int = 10,
        starting_position: str = "TRIM_HORIZON",
        stop: threading.Event | None = None,
        retry_delay_seconds: float = 0.2,
    ) -> None:
        super().__init__(f"stream-{name}", stop)
        self._streams = streams
        self._stream_arn = stream_arn
        self._consumer = consumer
        self.name = name
        self._region = region
        # One filter or several (Lambda ORs a mapping's filters)
        self._patterns = None if pattern is None else pattern if isinstance(pattern, list) else [pattern]
        self._batch_size = batch_size
        self._limit = batch_size  # lowered while bisecting a failing batch
        self._starting_position = starting_position
        self._max_retries = max_retry_attempts
        self._retry_delay = retry_delay_seconds
        # shard id -> the last sequence number read from it (None: nothing yet, read from the start position)
        self._positions: dict[str, str | None] = {}
        self._start_iterators: dict[str, str] = {}  # shard id -> its LATEST iterator until a record is read
        self._closed_shards: set[str] = set()
        self._pending: list[dict[str, Any]] = []  # fetched, filtered in, not yet done with
        self._pending_shards: list[str] = []  # the shard each pending record came from
        # What the housekeeping thread reads (processed_through) changes with _pending and _positions
        self._state = threading.Lock()
        self._attempts = 0
        self._idle = 0.25

    def start(self) -> None:
        self.open_shards(self._starting_position)
        super().start()

    def open_shards(self, iterator_type: str) -> None:
        """Start reading every shard not seen yet at `iterator_type` (TRIM_HORIZON or LATEST)."""
        shards = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id in self._positions or shard_id in self._closed_shards:
                continue
            self._positions[shard_id] = None
            if iterator_type == "LATEST":  # "now" is a place of its own; TRIM_HORIZON is the same on every poll
                self._start_iterators[shard_id] = self._iterator(shard_id, None, iterator_type)

    @property
    def stream_arn(self) -> str:
        return self._stream_arn

    def processed_through(self, shard_id: str) -> int | None:
        """The sequence number up to which this poller is done with the shard: every record up to it was
        filtered out, delivered, or dropped to the on-failure destination after its retries, so the stream
        may forget it. A record fetched but not yet delivered is not done (None: nothing done yet)."""
        with self._state:
            if shard_id in self._closed_shards:
                return None  # a closed shard is not trimmed: no record of it may be lost by accident
            waiting = next((i for i, s in enumerate(self._pending_shards) if s == shard_id), None)
            if waiting is not None:  # pending records are in stream order: the first is the oldest
                return int(self._pending[waiting]["dynamodb"]["SequenceNumber"]) - 1
            position = self._positions.get(shard_id)
            return None if position is None else int(position)

    def _iterator(self, shard_id: str, position: str | None, start_type: str = "TRIM_HORIZON") -> str:
        kwargs: dict[str, Any] = {"ShardIteratorType": start_type}
        if position is not None:
            kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
        response = self._streams.get_shard_iterator(StreamArn=self._stream_arn, ShardId=shard_id, **kwargs)
        return str(response["ShardIterator"])

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once()
            except Exception:
                log.exception("stream poller %s: polling failed; retrying", self.name)
                busy = False
            if not busy:
                # Lambda polls a shard about 4 times a second, idle or not (real-time events reach their
                # subscribers within a second only if the local poll keeps that pace)
                self._stop.wait(self._idle)
            else:
                self._idle = 0.25

    def poll_once(self) -> bool:
        """Fetch new records, deliver one batch. Returns whether there was anything to do."""
        if len(self._pending) < self._batch_size:
            self._fetch()
        if not self._pending:
            return False
        self._deliver()
        return True

    def _fetch(self) -> None:
        closed = False
        for shard_id, position in list(self._positions.items()):
            iterator = self._start_iterators.get(shard_id) if position is None else None
            iterator = iterator or self._iterator(shard_id, position)  # the table's live shard, as of now
            response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
            records = response.get("Records", [])
            kept = [stream_record(raw, self._stream_arn, self._region) for raw in records]
            kept = [r for r in kept if self._patterns is None or matches_any(r, self._patterns)]
            with self._state:  # the records and the position move together
                self._pending.extend(kept)
                self._pending_shards.extend([shard_id] * len(kept))
                if records:
                    self._positions[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
                    self._start_iterators.pop(shard_id, None)
                if not response.get("NextShardIterator"):
                    del self._positions[shard_id]
                    self._closed_shards.add(shard_id)
                    closed = True
        if closed:  # a closed shard has children: read them from their start
            self.open_shards("TRIM_HORIZON")

    def _deliver(self) -> None:
        batch = self._pending[: self._limit]
        try:
            first_failed = first_failed_index(self._consumer({"Records": batch}), batch)
        except Exception as error:
            log.warning("stream poller %s: batch of %d failed (%s)", self.name, len(batch), error)
            if len(batch) > 1:  # bisect on error: retry each half; splitting does not use up retries
                self._limit = len(batch) // 2
                return
            first_failed = 0
        if first_failed is None:
            self._done(len(batch))
            self._attempts, self._limit = 0, self._batch_size
            return
        self._done(first_failed)  # what came before the first failure is done
        failed = batch[first_failed:]
        self._attempts += 1
        if self._attempts > self._max_retries:
            log.error(
                "stream poller %s: dropped %d record(s) after %d retries to the on-failure destination "
                "(local: this log line): sequence numbers %s..%s",
                self.name,
                len(failed),
                self._max_retries,
                failed[0]["dynamodb"]["SequenceNumber"],
                failed[-1]["dynamodb"]["SequenceNumber"],
            )
            self._done(len(failed))
            self._attempts, self._limit = 0, self._batch_size
            return
        log.warning(
            "stream poller %s: retry %d/%d from record %s",
            self.name,
            self._attempts,
            self._max_retries,
            failed[0]["dynamodb"]["SequenceNumber"],
        )
        self._stop.wait(min(2.0, self._retry_delay * 2 ** (self._attempts - 1)))

    def _done(self, count: int) -> None:
        """The first `count` pending records are processed: the stream may forget them."""
        with self._state:
            del self._pending[:count]
            del self._pending_shards[:count]
