"""SQS and DynamoDB stream events as Lambda builds them, and how Lambda reads partial failures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from infra import topology
from infra.local.streams import filter_pattern, first_failed_index, matches_filter, stream_record
from infra.local.workers import failed_message_ids, sqs_record

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:bookinghub-BookingEvents"
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/bookinghub-Bookings/stream/2026-03-01T00:00:00.000"


def test_sqs_record_has_lambdas_shape() -> None:
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "rh-1",
        "MD5OfBody": "md5",
        "Body": '{"a": 1}',
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000", "SenderId": "s"},
        "MD5OfMessageAttributes": "md5attrs",
        "MessageAttributes": {
            "kind": {"StringValue": "booking.created", "DataType": "String"},
            "blob": {"BinaryValue": b"\x00\x01", "DataType": "Binary"},
        },
    }
    record = sqs_record(message, QUEUE_ARN, "us-east-1")
    assert record["messageId"] == "m-1"
    assert record["receiptHandle"] == "rh-1"
    assert record["body"] == '{"a": 1}'
    assert record["md5OfBody"] == "md5"
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "booking.created",
        "binaryValue": None,
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == QUEUE_ARN
    assert record["awsRegion"] == "us-east-1"


IDS = ["m-1", "m-2", "m-3"]


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "m-2"}]}, {"m-2"}),
        ({"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-3"}]}, {"m-1", "m-3"}),
        # Lambda fails the whole batch on an identifier it cannot use
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, set(IDS)),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, set(IDS)),
        ({"batchItemFailures": [{"itemIdentifier": "unknown"}]}, set(IDS)),
        ({"batchItemFailures": [{"id": "m-1"}]}, set(IDS)),
        ({"batchItemFailures": "m-1"}, set(IDS)),
        ("not an object", set(IDS)),
    ],
)
def test_failed_message_ids(response: Any, failed: set[str]) -> None:
    assert failed_message_ids(response, IDS) == failed


def raw_stream_record(seq: str, sk: str, event_name: str = "INSERT") -> dict[str, Any]:
    """A record as boto3's dynamodbstreams client returns it (datetimes and bytes parsed)."""
    return {
        "eventID": f"e-{seq}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 3, 1, tzinfo=UTC),
            "Keys": {"PK": {"S": "BOOKING#1"}, "SK": {"S": sk}},
            "NewImage": {"PK": {"S": "BOOKING#1"}, "SK": {"S": sk}, "blob": {"B": b"\x00\xff"}},
            "SequenceNumber": seq,
            "SizeBytes": 42,
            "StreamViewType": "NEW_IMAGE",
        },
    }


def test_stream_record_has_lambdas_shape() -> None:
    record = stream_record(raw_stream_record("100", "EVENT#1"), STREAM_ARN, "us-east-1")
    assert record["eventID"] == "e-100"
    assert record["eventName"] == "INSERT"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == STREAM_ARN
    assert record["awsRegion"] == "us-east-1"
    dynamodb = record["dynamodb"]
    assert dynamodb["Keys"] == {"PK": {"S": "BOOKING#1"}, "SK": {"S": "EVENT#1"}}
    assert dynamodb["NewImage"]["blob"] == {"B": "AP8="}  # base64, as in the JSON Lambda receives
    assert dynamodb["SequenceNumber"] == "100"
    assert dynamodb["SizeBytes"] == 42
    assert dynamodb["StreamViewType"] == "NEW_IMAGE"
    assert dynamodb["ApproximateCreationDateTime"] == int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("sk", "event_name", "prefixes", "passes"),
    [
        ("EVENT#2026#1", "INSERT", ("EVENT#",), True),
        ("EVENT#2026#1", "MODIFY", ("EVENT#",), False),  # new items only, as the CDK filter
        ("BOOKING", "INSERT", ("EVENT#",), False),
        ("XEVENT#", "INSERT", ("EVENT#",), False),
        ("LOG#1", "INSERT", ("EVENT#", "LOG#"), True),
        ("BOOKING", "INSERT", (), True),  # no prefixes: every new item
        ("BOOKING", "MODIFY", (), False),
    ],
)
def test_stream_filter_matches_the_cdk_filter(
    sk: str, event_name: str, prefixes: tuple[str, ...], passes: bool
) -> None:
    record = stream_record(raw_stream_record("1", sk, event_name), STREAM_ARN, "us-east-1")
    pattern = filter_pattern(topology.StreamTrigger(table="Bookings", sk_prefixes=prefixes))
    assert matches_filter(record, pattern) is passes


def test_stream_filter_drops_removals() -> None:
    raw = raw_stream_record("1", "EVENT#1", "REMOVE")
    del raw["dynamodb"]["NewImage"]
    pattern = filter_pattern(topology.StreamTrigger(table="Bookings", sk_prefixes=("EVENT#",)))
    assert matches_filter(stream_record(raw, STREAM_ARN, "us-east-1"), pattern) is False


@pytest.mark.parametrize(
    ("image", "pattern", "passes"),
    [
        ({"rtw": {"S": "w"}}, {"rtw": {"S": [{"exists": True}]}}, True),
        ({}, {"rtw": {"S": [{"exists": True}]}}, False),
        ({"rtw": {"SS": ["w"]}}, {"rtw": {"S": [{"exists": True}]}}, False),  # another type: another leaf
        ({}, {"relayed": {"BOOL": [{"exists": False}]}}, True),
        ({"relayed": {"BOOL": True}}, {"relayed": {"BOOL": [{"exists": False}]}}, False),
        ({"m": {"M": {"a": {"S": "x"}}}}, {"m": [{"exists": True}]}, False),  # only a leaf exists
    ],
)
def test_the_exists_operator_tests_a_leaf_as_lambda_does(
    image: dict[str, Any], pattern: dict[str, Any], passes: bool
) -> None:
    assert matches_filter({"dynamodb": {"NewImage": image}}, {"dynamodb": {"NewImage": pattern}}) is passes


def test_an_unsupported_filter_operator_is_refused_rather_than_ignored() -> None:
    with pytest.raises(ValueError, match="unsupported filter operator"):
        matches_filter({"eventName": "INSERT"}, {"eventName": [{"anything-but": "REMOVE"}]})


BATCH = [stream_record(raw_stream_record(seq, "EVENT#"), STREAM_ARN, "us-east-1") for seq in ("10", "11", "12")]


@pytest.mark.parametrize(
    ("response", "index"),
    [
        (None, None),
        ({"batchItemFailures": []}, None),
        ({"batchItemFailures": [{"itemIdentifier": "12"}]}, 2),
        ({"batchItemFailures": [{"itemIdentifier": "12"}, {"itemIdentifier": "11"}]}, 1),  # the first in order
        ({"batchItemFailures": [{"itemIdentifier": "99"}]}, 0),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, 0),
        ("nope", 0),
    ],
)
def test_stream_retry_starts_at_the_first_failed_record(response: Any, index: int | None) -> None:
    assert first_failed_index(response, BATCH) == index
