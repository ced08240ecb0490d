"""The DynamoDB stream poller against moto's server: filter, order, retries and drops."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from infra import topology
from infra.local.streams import StreamPoller, filter_pattern
from tests.e2e.conftest import aws_client

pytestmark = pytest.mark.e2e


def make_table(dynamodb: Any) -> tuple[str, str]:
    name = f"stream-test-{uuid.uuid4().hex[:8]}"
    table = dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    return name, table["TableDescription"]["LatestStreamArn"]


def put(dynamodb: Any, table: str, sk: str) -> None:
    dynamodb.put_item(TableName=table, Item={"PK": {"S": "BOOKING#1"}, "SK": {"S": sk}, "data": {"B": b"\x00\x01"}})


def drive_until(poller: StreamPoller, done: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done():
        poller.poll_once()
    assert done(), "condition not reached in time"


TRIGGER = topology.StreamTrigger(table="test", sk_prefixes=("EVENT#",))


def poller_for(endpoint: str, arn: str, consumer: Any, max_retries: int = 10) -> StreamPoller:
    poller = StreamPoller(
        streams=aws_client("dynamodbstreams", endpoint),
        stream_arn=arn,
        consumer=consumer,
        name="test",
        region="us-east-1",
        pattern=filter_pattern(TRIGGER),
        batch_size=10,
        max_retry_attempts=max_retries,
        retry_delay_seconds=0.01,
    )
    poller.open_shards("TRIM_HORIZON")  # what start() does, without the thread: the test drives it
    return poller


def sort_keys(records: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["NewImage"]["SK"]["S"] for r in records]


def test_only_new_matching_records_reach_the_function_as_a_stream_event(moto_endpoint: str) -> None:
    dynamodb = aws_client("dynamodb", moto_endpoint)
    table, arn = make_table(dynamodb)
    put(dynamodb, table, "EVENT#0")  # before the poller started: TRIM_HORIZON still delivers it
    events: list[dict[str, Any]] = []
    poller = poller_for(moto_endpoint, arn, lambda event: events.append(event))
    for sk in ("BOOKING", "EVENT#1", "LOG#1", "EVENT#0", "EVENT#2"):  # the second EVENT#0 is a MODIFY
        put(dynamodb, table, sk)
    drive_until(poller, lambda: sum(len(e["Records"]) for e in events) >= 3)
    for _ in range(3):
        poller.poll_once()  # nothing else may arrive
    records = [r for e in events for r in e["Records"]]
    assert sort_keys(records) == ["EVENT#0", "EVENT#1", "EVENT#2"]
    record = records[1]
    assert record["eventName"] == "INSERT"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == "us-east-1"
    assert record["dynamodb"]["Keys"]["SK"] == {"S": "EVENT#1"}
    assert record["dynamodb"]["NewImage"]["data"] == {"B": "AAE="}
    assert record["dynamodb"]["StreamViewType"] == "NEW_IMAGE"
    assert record["dynamodb"]["SequenceNumber"]
    assert record["dynamodb"]["SizeBytes"] > 0


def test_partial_failure_retries_from_the_first_failed_record(moto_endpoint: str) -> None:
    dynamodb = aws_client("dynamodb", moto_endpoint)
    table, arn = make_table(dynamodb)
    batches: list[list[str]] = []
    failed_once = False

    def consumer(event: dict[str, Any]) -> dict[str, Any]:
        nonlocal failed_once
        batches.append(sort_keys(event["Records"]))
        second = event["Records"][1] if len(event["Records"]) > 1 else None
        if second is not None and not failed_once:
            failed_once = True
            return {"batchItemFailures": [{"itemIdentifier": second["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}

    poller = poller_for(moto_endpoint, arn, consumer)
    for n in (1, 2, 3):
        put(dynamodb, table, f"EVENT#{n}")
    drive_until(poller, lambda: len(batches) >= 2)
    assert batches[0] == ["EVENT#1", "EVENT#2", "EVENT#3"]
    assert batches[1] == ["EVENT#2", "EVENT#3"]  # EVENT#1 succeeded and is not sent again


def test_a_raising_function_gets_the_batch_bisected_and_only_the_poison_record_is_dropped(
    moto_endpoint: str, caplog: Any
) -> None:
    dynamodb = aws_client("dynamodb", moto_endpoint)
    table, arn = make_table(dynamodb)
    calls: list[list[str]] = []
    done: list[str] = []

    def consumer(event: dict[str, Any]) -> None:
        calls.append(sort_keys(event["Records"]))
        if "EVENT#2-poison" in calls[-1]:
            raise RuntimeError("cannot handle it")
        done.extend(calls[-1])

    poller = poller_for(moto_endpoint, arn, consumer, max_retries=1)
    for sk in ("EVENT#1", "EVENT#2-poison", "EVENT#3", "EVENT#4"):
        put(dynamodb, table, sk)
    drive_until(poller, lambda: "EVENT#4" in done)
    assert calls[:3] == [
        ["EVENT#1", "EVENT#2-poison", "EVENT#3", "EVENT#4"],
        ["EVENT#1", "EVENT#2-poison"],  # halved
        ["EVENT#1"],  # halved again: the good record goes through
    ]
    assert calls.count(["EVENT#2-poison"]) == 2  # alone: the first attempt and 1 retry
    assert done == ["EVENT#1", "EVENT#3", "EVENT#4"]
    assert "dropped 1 record(s) after 1 retries" in caplog.text


def test_a_record_failing_every_retry_is_dropped_and_the_stream_moves_on(moto_endpoint: str, caplog: Any) -> None:
    dynamodb = aws_client("dynamodb", moto_endpoint)
    table, arn = make_table(dynamodb)
    calls: list[list[str]] = []

    def consumer(event: dict[str, Any]) -> None:
        calls.append(sort_keys(event["Records"]))
        if "EVENT#poison" in calls[-1]:
            raise RuntimeError("cannot handle it")

    poller = poller_for(moto_endpoint, arn, consumer, max_retries=2)
    put(dynamodb, table, "EVENT#poison")
    drive_until(poller, lambda: len(calls) >= 3)
    put(dynamodb, table, "EVENT#next")
    drive_until(poller, lambda: ["EVENT#next"] in calls)
    assert calls.count(["EVENT#poison"]) == 3  # the first attempt and 2 retries
    assert "dropped 1 record(s) after 2 retries" in caplog.text


def test_the_poller_follows_the_table_when_moto_replaces_its_objects(moto_endpoint: str) -> None:
    """moto's own transaction rollback swaps a copy in for the table (and its stream): the poller reads
    the table's stream as it is now, not the object it first saw."""
    import copy

    from moto.dynamodb.models import dynamodb_backends

    dynamodb = aws_client("dynamodb", moto_endpoint)
    table, arn = make_table(dynamodb)
    events: list[dict[str, Any]] = []
    poller = poller_for(moto_endpoint, arn, lambda event: events.append(event))
    put(dynamodb, table, "EVENT#1")
    drive_until(poller, lambda: len(events) == 1)

    backend = dynamodb_backends["123456789012"]["us-east-1"]
    backend.tables[table] = copy.deepcopy(backend.tables[table])  # what moto does on a cancelled transaction
    put(dynamodb, table, "EVENT#2")
    put(dynamodb, table, "EVENT#3")
    drive_until(poller, lambda: sum(len(e["Records"]) for e in events) >= 3)
    for _ in range(3):
        poller.poll_once()
    assert sort_keys([r for e in events for r in e["Records"]]) == ["EVENT#1", "EVENT#2", "EVENT#3"]
