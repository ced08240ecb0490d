"""The local runtime's DynamoDB stream under the hub's own writes (infra/local/streams.py, housekeeping.py,
moto_streams.py): the Bookings stream is trimmed only behind what every poller of it has processed, a
poller that falls behind still gets every record once and in order, shard iterators leave nothing behind
in moto, and a cancelled transaction followed by an admin edit is relayed exactly once, with the stream
trimmed all along (a tail of 0: the harshest the runtime could be)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from infra import topology
from infra.local.housekeeping import Housekeeping
from infra.local.invoke import invoke
from infra.local.resources import LocalResources
from infra.local.streams import StreamPoller, filter_pattern
from tests.integration.admin.conftest import call_admin, claims
from tests.integration.conftest import post_sync, seed_body

ACCOUNT, REGION = "123456789012", "us-east-1"
ADMIN = claims("admin")


class BackendStreams:
    """The poller's dynamodbstreams calls, served by moto's backend with the local runtime's patches (in-process
    mock_aws does not route the dynamodbstreams endpoint; tests/e2e read it over HTTP)."""

    def __init__(self) -> None:
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        self.backend = dynamodbstreams_backends[ACCOUNT][REGION]
        self.calls = 0

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": self.backend.describe_stream(StreamArn)}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        kind, sequence = kwargs["ShardIteratorType"], kwargs.get("SequenceNumber")
        return {"ShardIterator": self.backend.get_shard_iterator(StreamArn, ShardId, kind, sequence).arn}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        self.calls += 1
        return self.backend.get_records(ShardIterator, Limit)


def shard() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    from bookinghub.core.settings import get_settings

    found = dynamodb_backends[ACCOUNT][REGION].get_table(get_settings().bookings_table).stream_shard
    assert found is not None
    return found


def poller(
    aws: LocalResources, function: str, consumer: Callable[[dict[str, Any]], Any], **options: Any
) -> StreamPoller:
    """A poller of the Bookings stream with `function`'s trigger (its filter, batch size and retries)."""
    trigger = topology.function(function).stream
    assert trigger is not None
    made = StreamPoller(
        streams=BackendStreams(),
        stream_arn=aws.stream_arns[trigger.table],
        consumer=consumer,
        name=function,
        region=REGION,
        pattern=filter_pattern(trigger),
        batch_size=options.pop("batch_size", trigger.batch_size),
        max_retry_attempts=options.pop("max_retry_attempts", trigger.max_retry_attempts),
        retry_delay_seconds=0.0,
    )
    made.open_shards("TRIM_HORIZON")  # what start() does, without the thread: the test drives it
    return made


def recorder(into: list[str]) -> Callable[[dict[str, Any]], None]:
    """A consumer keeping each record's sequence number."""
    return lambda event: into.extend(r["dynamodb"]["SequenceNumber"] for r in event["Records"])


def drain(*pollers: StreamPoller, housekeeping: Housekeeping | None = None) -> None:
    for each in pollers:
        while each.poll_once():
            if housekeeping is not None:
                housekeeping.run_once()  # trims between polls, as the runtime's loop may


def keeper(*pollers: StreamPoller) -> Housekeeping:
    return Housekeeping(account_id=ACCOUNT, region=REGION, pollers=pollers, tail_records=0)


def sync_bookings(count: int, start: int = 0) -> list[str]:
    ids = []
    for n in range(start, start + count):
        status, answer = post_sync(seed_body(source_booking_id=f"retention-{n}", booking_ref=f"RT-{n}"))
        assert status == 200, answer
        ids.append(answer["booking_id"])
    return ids


def test_records_are_trimmed_only_once_every_poller_has_processed_them(aws: LocalResources, test_website: Any) -> None:
    relayed: list[str] = []
    second: list[str] = []
    relay = poller(aws, "outbox_relay", recorder(relayed), batch_size=2)
    other = poller(aws, "outbox_relay", recorder(second), batch_size=2)  # a second reader of the stream
    realtime = poller(aws, "realtime_broadcaster", recorder([]))  # its filter passes none of these
    housekeeping = keeper(relay, other, realtime)
    sync_bookings(3)
    written = len(shard().items)

    drain(relay, realtime)  # two pollers done, the third has read nothing
    assert housekeeping.run_once()[0] == 0
    assert len(shard().items) == written

    other.poll_once()  # fetched everything, delivered one batch of 2
    done = other.processed_through(shard().id)
    assert done is not None
    assert done < int(relayed[-1])
    start = shard().starting_sequence_number
    assert housekeeping.run_once()[0] == done - start + 1
    assert shard().starting_sequence_number == done + 1  # nothing it has not processed is gone
    assert [r.record["dynamodb"]["SequenceNumber"] for r in shard().items][-1] == relayed[-1]

    drain(other)
    housekeeping.run_once()
    assert shard().items == []  # every reader is done with every record: the stream forgets them
    assert second == relayed


def test_a_poller_that_falls_behind_still_gets_every_record_once_and_in_order(
    aws: LocalResources, test_website: Any
) -> None:
    relayed: list[str] = []
    behind: list[str] = []
    failures = iter(range(5))  # the slow consumer raises five times, then recovers

    def slow(event: dict[str, Any]) -> None:
        if next(failures, None) is not None:
            raise RuntimeError("consumer down")
        recorder(behind)(event)

    relay = poller(aws, "outbox_relay", recorder(relayed))
    lagging = poller(aws, "outbox_relay", slow, batch_size=3, max_retry_attempts=100)
    housekeeping = keeper(relay, lagging)
    origin = shard().starting_sequence_number
    for round_ in range(4):
        sync_bookings(2, start=10 * round_)
        drain(relay, housekeeping=housekeeping)
        lagging.poll_once()  # one batch (or a failed one) a round: it falls ever further behind
        housekeeping.run_once()
        done = lagging.processed_through(shard().id)
        assert shard().starting_sequence_number == (origin if done is None else done + 1)
    drain(lagging, housekeeping=housekeeping)
    housekeeping.run_once()

    assert behind == relayed  # every record, once, in the stream's order, for the lagging reader too
    assert len(set(relayed)) == len(relayed) >= 8
    assert shard().items == []


def test_shard_iterators_leave_nothing_behind_in_moto(aws: LocalResources, test_website: Any) -> None:
    from moto.dynamodbstreams.models import ShardIterator, dynamodbstreams_backends

    relay = poller(aws, "outbox_relay", recorder([]))
    realtime = poller(aws, "realtime_broadcaster", recorder([]))
    sync_bookings(2)
    for _ in range(200):  # 50 s of the runtime's polling, idle or not
        relay.poll_once()
        realtime.poll_once()
    sync_bookings(1, start=5)
    drain(relay, realtime)
    gc.collect()

    streams: Any = relay._streams
    assert streams.calls >= 400  # a fresh iterator and a read per poll
    assert len(dynamodbstreams_backends[ACCOUNT][REGION].shard_iterators) == 0
    tracked: Any = ShardIterator.instances_tracked  # type: ignore[attr-defined]  # moto's dashboard's list
    assert len(list(tracked)) == 0


def test_an_expired_iterator_is_refused_as_in_aws_and_the_poller_reads_on(
    aws: LocalResources, test_website: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core.exceptions import JsonRESTError

    from infra.local import moto_streams

    relayed: list[str] = []
    relay = poller(aws, "outbox_relay", recorder(relayed))
    sync_bookings(1)
    streams: Any = relay._streams
    old = streams.get_shard_iterator(aws.stream_arns["Bookings"], shard().id, ShardIteratorType="TRIM_HORIZON")
    later = time.monotonic() + moto_streams.ITERATOR_LIFETIME_SECONDS + 1
    monkeypatch.setattr(moto_streams, "_clock", lambda: later)

    with pytest.raises(JsonRESTError) as expired:
        streams.get_records(old["ShardIterator"], 10)
    assert expired.value.error_type == "ExpiredIteratorException"
    drain(relay)  # each poll takes a fresh iterator at its position
    fresh: list[str] = []
    drain(poller(aws, "outbox_relay", recorder(fresh)))
    assert relayed == fresh != []


def test_a_cancelled_transaction_then_an_edit_is_relayed_exactly_once_with_the_stream_trimmed(
    aws: LocalResources, test_website: Any
) -> None:
    from bookinghub.aws import keys
    from bookinghub.core.settings import get_settings

    relay = poller(aws, "outbox_relay", lambda event: invoke("outbox_relay", event))
    realtime = poller(aws, "realtime_broadcaster", recorder([]))
    housekeeping = keeper(relay, realtime)
    body = seed_body(source_booking_id="retention-tx", booking_ref="RT-TX")
    status, created = post_sync(body)
    assert status == 200, created
    booking_id = created["booking_id"]
    drain(relay, realtime, housekeeping=housekeeping)

    assert post_sync(body)[1]["outcome"] == "unchanged"  # a redelivery: a cancelled transaction
    assert post_sync({**body, "guest_count": body["guest_count"] + 1})[0] == 409  # another one
    drain(relay, realtime, housekeeping=housekeeping)
    path = f"/api/bookings/{booking_id}"
    status, read, headers = call_admin("GET", path, caller=ADMIN)
    assert status == 200, read
    status, edited, _ = call_admin(
        "PUT", path, caller=ADMIN, body={"time_slot": "14:00"}, headers={"If-Match": headers["ETag"]}
    )
    assert status == 200, edited
    drain(relay, realtime, housekeeping=housekeeping)
    housekeeping.run_once()

    ddb = boto3.client("dynamodb", region_name=REGION)
    timeline = ddb.query(
        TableName=get_settings().bookings_table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :event)",
        ExpressionAttributeValues={":pk": {"S": keys.booking_pk(booking_id)}, ":event": {"S": keys.EVENT_SK_PREFIX}},
    )["Items"]
    assert sorted(item["event_type"]["S"] for item in timeline) == ["booking.created", "booking.updated"]
    queue = aws.queue_urls[topology.BOOKING_EVENTS.name]
    messages = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    assert len(messages.get("Messages", [])) == 1  # the edit, for the website; the website's own create is an echo
    assert shard().items == []  # trimmed all along, and nothing was lost
