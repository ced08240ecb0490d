"""What the local runtime does for AWS and moto does not (infra/local/moto_retention.py, housekeeping.py):
streams trimmed behind the local poller, items expired by their TTL, against in-process moto."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local import moto_dynamodb, moto_retention
from infra.local.housekeeping import Housekeeping
from infra.local.streams import StreamPoller, filter_pattern
from infra.topology import StreamTrigger
from tests.unit.local_tables import create_pk_sk_table

TABLE = "bookings"
ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture
def ddb() -> Iterator[Any]:
    moto_dynamodb.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_pk_sk_table(client, TABLE, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        client.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
        )
        yield client


class BackendStreams:
    """The dynamodbstreams calls the poller makes, served by moto's backend (in-process mock_aws does
    not route the dynamodbstreams endpoint); errors as botocore raises them."""

    def __init__(self) -> None:
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        self.backend = dynamodbstreams_backends[ACCOUNT][REGION]

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": self.backend.describe_stream(StreamArn)}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, **kwargs: Any) -> dict[str, Any]:
        iterator = self.backend.get_shard_iterator(
            StreamArn,
            ShardId,
            kwargs["ShardIteratorType"],
            int(kwargs.get("SequenceNumber") or 0) or None,  # type: ignore[arg-type]  # as moto's responses pass it
        )
        return {"ShardIterator": iterator.arn}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        return self.backend.get_records(ShardIterator, Limit)


def put(client: Any, sk: str, **number: int) -> None:
    item = {"PK": {"S": "BOOKING#1"}, "SK": {"S": sk}, **{k: {"N": str(v)} for k, v in number.items()}}
    client.put_item(TableName=TABLE, Item=item)


def shard() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    stream_shard = dynamodb_backends[ACCOUNT][REGION].tables[TABLE].stream_shard
    assert stream_shard is not None
    return stream_shard


def poller(client: Any, delivered: list[str]) -> StreamPoller:
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    made = StreamPoller(
        streams=BackendStreams(),
        stream_arn=arn,
        consumer=lambda event: delivered.extend(r["dynamodb"]["NewImage"]["SK"]["S"] for r in event["Records"]),
        name="outbox_relay",
        region=REGION,
        pattern=filter_pattern(StreamTrigger(table="Bookings", sk_prefixes=("EVENT#",))),
        batch_size=3,
    )
    made.open_shards("TRIM_HORIZON")
    return made


def keeper(*pollers: StreamPoller, tail: int = 2) -> Housekeeping:
    return Housekeeping(account_id=ACCOUNT, region=REGION, pollers=pollers, tail_records=tail)


def test_a_trimmed_stream_delivers_every_record_once_and_in_order(ddb: Any) -> None:
    delivered: list[str] = []
    relay = poller(ddb, delivered)
    housekeeping = keeper(relay, tail=2)
    written = []
    for round_ in range(5):
        for n in range(4):
            written.append(f"EVENT#{round_}-{n}")
            put(ddb, written[-1])
        put(ddb, f"BOOKING#{round_}")  # filtered out, still in the stream
        while relay.poll_once():
            housekeeping.run_once()  # trims between polls, as the runtime's loop may
        housekeeping.run_once()
        assert len(shard().items) == 2  # what was read, less the tail

    assert delivered == written
    assert shard().starting_sequence_number > 1100000000017454423009  # the horizon moved, numbers kept


def test_records_the_poller_has_not_processed_are_never_trimmed(ddb: Any) -> None:
    delivered: list[str] = []
    relay = poller(ddb, delivered)
    for n in range(5):
        put(ddb, f"EVENT#{n}")

    assert keeper(relay, tail=0).run_once() == (0, 0)  # nothing read yet
    assert len(shard().items) == 5

    relay._fetch()  # 5 records fetched, none delivered yet (batches of 3)
    put(ddb, "EVENT#5")
    assert keeper(relay, tail=0).run_once() == (0, 0)  # fetched is not processed
    relay.poll_once()  # the first batch of 3
    assert keeper(relay, tail=0).run_once() == (3, 0)
    assert [r.record["dynamodb"]["NewImage"]["SK"]["S"] for r in shard().items] == [f"EVENT#{n}" for n in (3, 4, 5)]
    while relay.poll_once():
        pass
    assert delivered == [f"EVENT#{n}" for n in range(6)]
    assert keeper(relay, tail=0).run_once() == (3, 0)


def test_a_poller_that_has_not_read_holds_the_trim_for_every_poller(ddb: Any) -> None:
    fast, slow = poller(ddb, []), poller(ddb, [])
    for n in range(4):
        put(ddb, f"EVENT#{n}")
    while fast.poll_once():
        pass

    assert keeper(fast, slow, tail=0).run_once()[0] == 0
    while slow.poll_once():
        pass
    assert keeper(fast, slow, tail=0).run_once()[0] == 4


def test_read_records_past_aws_retention_go_even_within_the_tail(ddb: Any) -> None:
    relay = poller(ddb, [])
    for n in range(3):
        put(ddb, f"EVENT#{n}")
    relay._fetch()
    sequence = int(shard().items[-1].record["dynamodb"]["SequenceNumber"])
    later = datetime.now(UTC) + moto_retention.STREAM_RETENTION + timedelta(seconds=1)

    assert moto_retention.trim_stream(shard(), read_through=sequence, keep=10) == 0
    assert moto_retention.trim_stream(shard(), read_through=sequence, keep=10, now=later) == 3


def test_reading_before_the_trim_horizon_is_trimmed_data_access_as_in_aws(ddb: Any) -> None:
    from moto.core.exceptions import JsonRESTError

    streams = BackendStreams()
    arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard_id = shard().id
    for n in range(3):
        put(ddb, f"EVENT#{n}")
    old = streams.get_shard_iterator(arn, shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    first = int(shard().items[0].record["dynamodb"]["SequenceNumber"])
    moto_retention.trim_stream(shard(), read_through=first + 1, keep=0)

    with pytest.raises(JsonRESTError) as trimmed:
        streams.get_records(old, 10)
    assert trimmed.value.error_type == "TrimmedDataAccessException"
    horizon = streams.get_shard_iterator(arn, shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(horizon, 10)["Records"]
    assert [r["dynamodb"]["SequenceNumber"] for r in records] == [str(first + 2)]


def test_ttl_expiry_deletes_only_expired_items_with_a_service_remove_record(ddb: Any) -> None:
    now = int(time.time())
    put(ddb, "LOG#expired", expires_at=now - 10)
    put(ddb, "LOG#later", expires_at=now + 3600)
    put(ddb, "LOG#forever")  # no TTL attribute
    put(ddb, "LOG#ancient", expires_at=now - 6 * 365 * 86400)  # AWS ignores TTLs over five years past
    ddb.put_item(TableName=TABLE, Item={"PK": {"S": "BOOKING#1"}, "SK": {"S": "LOG#text"}, "expires_at": {"S": "1"}})
    streamed = len(shard().items)

    assert keeper(tail=100).run_once() == (0, 1)

    left = sorted(i["SK"]["S"] for i in ddb.scan(TableName=TABLE)["Items"])
    assert left == ["LOG#ancient", "LOG#forever", "LOG#later", "LOG#text"]
    (removed,) = [r.to_json() for r in shard().items[streamed:]]
    assert removed["eventName"] == "REMOVE"
    assert removed["dynamodb"]["Keys"] == {"PK": {"S": "BOOKING#1"}, "SK": {"S": "LOG#expired"}}
    assert removed["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    assert keeper(tail=100).run_once() == (0, 0)  # once


def test_a_ttl_removal_reaches_no_stream_consumer_and_shows_aws_identity(ddb: Any) -> None:
    from infra.local.streams import matches_filter, stream_record

    put(ddb, "EVENT#old", expires_at=int(time.time()) - 1)
    keeper(tail=100).run_once()
    removal = stream_record(shard().items[-1].to_json(), "arn", REGION)

    assert removal["eventName"] == "REMOVE"
    assert removal["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert not matches_filter(removal, filter_pattern(StreamTrigger(table="Bookings", sk_prefixes=("EVENT#",))))


def test_a_table_without_ttl_keeps_its_items(ddb: Any) -> None:
    ddb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires_at"})
    put(ddb, "LOG#expired", expires_at=int(time.time()) - 10)

    assert keeper(tail=100).run_once() == (0, 0)
    assert len(ddb.scan(TableName=TABLE)["Items"]) == 1


def test_stored_items_share_names_and_short_values_and_read_back_unchanged(ddb: Any) -> None:
    from moto.dynamodb.models import dynamodb_backends

    sent = []
    for n in range(2):
        item = {
            "PK": {"S": f"BOOKING#{n}"},
            "SK": {"S": "BOOKING"},
            "status": {"S": "confirmed"},
            "customer": {"M": {"email": {"S": f"guest{n}@example.com"}, "country": {"S": "NL"}}},
            "payload": {"S": "x" * 100 + str(n)},
            "guests": {"N": "2"},
            "tags": {"L": [{"S": "a"}, {"N": "1"}]},
        }
        ddb.put_item(TableName=TABLE, Item=item)
        sent.append(item)

    assert sorted(ddb.scan(TableName=TABLE)["Items"], key=lambda i: i["PK"]["S"]) == sent
    stored = [i for group in dynamodb_backends[ACCOUNT][REGION].tables[TABLE].items.values() for i in group.values()]
    names = [next(k for k in i.attrs if k == "status") for i in stored]
    assert names[0] is names[1]  # one string for every item's attribute name
    assert stored[0].attrs["status"].value is stored[1].attrs["status"].value
    assert stored[0].attrs["payload"].value is not stored[1].attrs["payload"].value
    countries = [i.attrs["customer"].value["country"].value for i in stored]
    assert countries[0] is countries[1]


def test_what_aws_deleted_is_freed_and_moto_tracks_only_live_instances(ddb: Any) -> None:
    import gc
    import weakref

    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import Item
    from moto.sqs.models import Message

    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="events")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="delivered-and-deleted")
    sqs.send_message(QueueUrl=url, MessageBody="still-queued")
    (received,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received["ReceiptHandle"])
    table = dynamodb_backends[ACCOUNT][REGION].tables[TABLE]
    versions = []
    for version in range(3):  # each put replaces the item: the old versions are gone in AWS
        put(ddb, "BOOKING", version=version)
        (group,) = table.items.values()
        (stored,) = group.values()
        versions.append(weakref.ref(stored))
    record = weakref.ref(shard().items[0])
    del shard().items[:1]  # as a trim does
    gc.collect()

    tracked_messages: Any = Message.instances_tracked  # type: ignore[attr-defined]  # what moto's dashboard lists
    bodies = {m.body for m in tracked_messages}
    assert received["Body"] == "delivered-and-deleted"
    assert bodies == {"still-queued"}
    tracked_items: Any = Item.instances_tracked  # type: ignore[attr-defined]
    assert list(tracked_items) == []  # items are not listed for the dashboard: a Scan shows them
    assert [v() is None for v in versions] == [True, True, False]  # only the live version is kept
    assert record() is None  # a trimmed stream record is freed


def test_deleted_receipt_handles_are_kept_for_a_retry_then_forgotten(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.sqs.models import sqs_backends

    from infra.local import moto_compact

    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="events", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    handles = []
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
        (received,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=received["ReceiptHandle"])
        handles.append(received["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handles[0])  # a retried delete succeeds, as in AWS
    queue = sqs_backends[ACCOUNT][REGION].queues["events"]
    assert len(queue.deleted_messages) == 3

    later = time.monotonic() + moto_compact.RECEIPT_WINDOW_SECONDS + 1
    monkeypatch.setattr(moto_compact, "_clock", lambda: later)
    sqs.send_message(QueueUrl=url, MessageBody="last")
    (received,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received["ReceiptHandle"])

    assert list(queue.deleted_messages) == [received["ReceiptHandle"]]  # the older ones are forgotten
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=handles[0])
