"""The local runtime's DynamoDB transactions (infra/local/moto_dynamodb.py) against in-process moto:
AWS's semantics (every condition first, then every write; a cancelled transaction writes and streams
nothing) without moto's table copies."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local import moto_dynamodb

TABLE = "items"
OTHER = "others"


@pytest.fixture
def ddb() -> Iterator[Any]:
    moto_dynamodb.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for name in (TABLE, OTHER):
            client.create_table(
                TableName=name,
                BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": a, "KeyType": t} for a, t in (("PK", "HASH"), ("SK", "RANGE"))],
                AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK")],
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )
        yield client


def key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "x"}}


def put(pk: str, table: str = TABLE, **attrs: str) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {**key(pk), **{k: {"S": v} for k, v in attrs.items()}}}}


def absent(action: dict[str, Any]) -> dict[str, Any]:
    (op,) = action.values()
    op["ConditionExpression"] = "attribute_not_exists(PK)"
    op["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return action


def items(client: Any, table: str = TABLE) -> dict[str, dict[str, Any]]:
    return {item["PK"]["S"]: item for item in client.scan(TableName=table)["Items"]}


def stream(client: Any, table: str = TABLE) -> list[dict[str, Any]]:
    """Every record of the table's stream, read from TRIM_HORIZON as GetRecords serves it."""
    # moto's backend directly: in-process mock_aws does not route the dynamodbstreams endpoint
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    streams = dynamodbstreams_backends["123456789012"]["us-east-1"]
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(arn)["Shards"][0]["ShardId"]
    return list(streams.get_shard_iterator(arn, shard, "TRIM_HORIZON").get(1000)["Records"])


def cancelled(client: Any, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with pytest.raises(ClientError) as caught:
        client.transact_write_items(TransactItems=actions)
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    return list(caught.value.response["CancellationReasons"])


def test_the_adapter_is_installed_on_moto_backend(ddb: Any) -> None:
    from moto.dynamodb.models import DynamoDBBackend

    assert moto_dynamodb.installed()
    assert DynamoDBBackend.transact_write_items is moto_dynamodb.transact_write_items


def test_a_mix_of_put_update_delete_and_condition_check_applies_every_write(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item={**key("updated"), "n": {"N": "1"}})
    ddb.put_item(TableName=TABLE, Item={**key("deleted"), "v": {"S": "old"}})
    ddb.put_item(TableName=OTHER, Item={**key("guard"), "open": {"BOOL": True}})
    before = len(stream(ddb))

    ddb.transact_write_items(
        TransactItems=[
            absent(put("new", v="fresh")),
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": key("updated"),
                    "UpdateExpression": "SET n = n + :one",
                    "ConditionExpression": "n = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {"Delete": {"TableName": TABLE, "Key": key("deleted"), "ConditionExpression": "attribute_exists(PK)"}},
            {
                "ConditionCheck": {
                    "TableName": OTHER,
                    "Key": key("guard"),
                    "ConditionExpression": "#o = :yes",
                    "ExpressionAttributeNames": {"#o": "open"},
                    "ExpressionAttributeValues": {":yes": {"BOOL": True}},
                }
            },
        ]
    )

    stored = items(ddb)
    assert set(stored) == {"new", "updated"}
    assert stored["new"]["v"] == {"S": "fresh"}
    assert stored["updated"]["n"] == {"N": "2"}
    records = stream(ddb)[before:]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[1]["dynamodb"]["OldImage"]["n"] == {"N": "1"}
    assert records[1]["dynamodb"]["NewImage"]["n"] == {"N": "2"}
    assert len(stream(ddb, OTHER)) == 1  # the condition check wrote nothing


def test_a_failed_condition_cancels_with_reasons_and_writes_nothing(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item={**key("taken"), "v": {"S": "first"}})
    records_before = stream(ddb)
    other_before = stream(ddb, OTHER)

    reasons = cancelled(
        ddb,
        [
            put("a", v="1"),  # listed before the failure: must not be written either
            absent(put("taken", v="second")),
            put("b", table=OTHER, v="1"),
            absent(put("c", v="1")),
        ],
    )

    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed", "None", "None"]
    assert reasons[1]["Message"] == "The conditional request failed"
    assert reasons[1]["Item"] == {**key("taken"), "v": {"S": "first"}}  # ReturnValuesOnConditionCheckFailure
    assert set(items(ddb)) == {"taken"}
    assert items(ddb, OTHER) == {}
    assert stream(ddb) == records_before  # no record of the writes that never happened
    assert stream(ddb, OTHER) == other_before


def test_every_failed_condition_gets_its_reason_and_an_item_only_when_asked(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item={**key("one"), "v": {"S": "1"}})
    ddb.put_item(TableName=TABLE, Item={**key("two"), "v": {"S": "2"}})
    without_item = put("two", v="again")
    without_item["Put"]["ConditionExpression"] = "attribute_not_exists(PK)"

    reasons = cancelled(ddb, [absent(put("one", v="again")), without_item, absent(put("missing"))])

    assert [r["Code"] for r in reasons] == ["ConditionalCheckFailed", "ConditionalCheckFailed", "None"]
    assert reasons[0]["Item"]["v"] == {"S": "1"}
    assert "Item" not in reasons[1]
    assert set(items(ddb)) == {"one", "two"}


def test_a_repeated_transaction_applies_once_then_is_cancelled_with_the_stored_item(ddb: Any) -> None:
    actions = [absent(put("booking", v="1")), put("event-1", table=OTHER)]
    ddb.transact_write_items(TransactItems=actions)
    records = stream(ddb)

    reasons = cancelled(ddb, [absent(put("booking", v="1")), put("event-1", table=OTHER)])

    assert reasons[0]["Item"] == {**key("booking"), "v": {"S": "1"}}
    assert stream(ddb) == records
    assert len(stream(ddb, OTHER)) == 1
    ddb.put_item(TableName=TABLE, Item={**key("later")})  # the stream goes on after a cancel
    assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in stream(ddb)] == ["booking", "later"]


def test_a_write_moto_rejects_half_way_undoes_the_writes_before_it(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item={**key("text"), "n": {"S": "not a number"}, "keep": {"S": "k"}})
    ddb.put_item(TableName=TABLE, Item={**key("counter"), "n": {"N": "1"}})
    records_before = stream(ddb)
    increment = {
        "TableName": TABLE,
        "UpdateExpression": "SET n = n + :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }

    reasons = cancelled(
        ddb,
        [
            put("new"),
            {"Update": {**increment, "Key": key("counter")}},
            {"Delete": {"TableName": TABLE, "Key": key("gone")}},
            {"Update": {**increment, "Key": key("text")}},  # a string plus a number: moto refuses it
        ],
    )

    assert [r["Code"] for r in reasons] == ["None", "None", "None", "ValidationError"]
    stored = items(ddb)
    assert set(stored) == {"text", "counter"}
    assert stored["counter"]["n"] == {"N": "1"}
    assert stored["text"] == {**key("text"), "n": {"S": "not a number"}, "keep": {"S": "k"}}
    assert stream(ddb) == records_before


def test_invalid_requests_are_refused_before_anything_is_checked_or_written(ddb: Any) -> None:
    with pytest.raises(ClientError) as twice:
        ddb.transact_write_items(TransactItems=[put("same"), {"Delete": {"TableName": TABLE, "Key": key("same")}}])
    assert twice.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as no_table:
        ddb.transact_write_items(TransactItems=[put("a"), {"Delete": {"TableName": "nope", "Key": key("a")}}])
    assert no_table.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as no_key:
        ddb.transact_write_items(TransactItems=[put("a"), {"Delete": {"TableName": TABLE, "Key": {"PK": {"S": "a"}}}}])
    assert no_key.value.response["Error"]["Code"] == "ValidationException"
    assert items(ddb) == {}
    assert stream(ddb) == []


def test_table_objects_are_never_replaced(ddb: Any) -> None:
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends["123456789012"]["us-east-1"]
    table, shard = backend.tables[TABLE], backend.tables[TABLE].stream_shard
    ddb.put_item(TableName=TABLE, Item=key("taken"))
    cancelled(ddb, [absent(put("taken"))])
    ddb.transact_write_items(TransactItems=[put("ok")])

    assert backend.tables[TABLE] is table
    assert table.stream_shard is shard


def test_shard_iterators_are_tokens_that_expire_as_in_aws_and_nothing_piles_up(
    ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    from infra.local import moto_streams

    streams = dynamodbstreams_backends["123456789012"]["us-east-1"]
    arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(arn)["Shards"][0]["ShardId"]
    ddb.put_item(TableName=TABLE, Item=key("a"))
    first = streams.get_shard_iterator(arn, shard, "TRIM_HORIZON").arn
    page = streams.get_records(first, 10)
    assert [r["eventName"] for r in page["Records"]] == ["INSERT"]
    assert streams.get_records(first, 10)["Records"] == page["Records"]  # an iterator can be read again
    for _ in range(50):  # a poller's polls: moto kept two iterator objects for each
        streams.get_records(streams.get_shard_iterator(arn, shard, "LATEST").arn, 10)
    assert len(streams.shard_iterators) == 0
    ddb.put_item(TableName=TABLE, Item=key("b"))
    assert [r["eventName"] for r in streams.get_records(page["NextShardIterator"], 10)["Records"]] == ["INSERT"]

    later = time.monotonic() + moto_streams.ITERATOR_LIFETIME_SECONDS + 1
    monkeypatch.setattr(moto_streams, "_clock", lambda: later)
    with pytest.raises(JsonRESTError) as expired:
        streams.get_records(first, 10)
    assert expired.value.error_type == "ExpiredIteratorException"
    for bad in ("nonsense", first.rsplit("|", 1)[0] + "|bm90IGpzb24="):
        with pytest.raises(JsonRESTError) as invalid:
            streams.get_records(bad, 10)
        assert invalid.value.error_type == "ValidationException"
    with pytest.raises(JsonRESTError) as unknown:
        streams.get_shard_iterator(arn, "shardId-unknown", "TRIM_HORIZON")
    assert unknown.value.error_type == "ResourceNotFoundException"


def test_a_retry_with_the_same_client_request_token_finds_its_transaction_done(ddb: Any) -> None:
    """As botocore retries after a lost response: AWS answers success and writes nothing again."""
    actions = [absent(put("booking", v="1")), put("event-1", table=OTHER)]
    ddb.transact_write_items(TransactItems=actions, ClientRequestToken="token-1")
    records = stream(ddb)

    ddb.transact_write_items(TransactItems=actions, ClientRequestToken="token-1")  # no ConditionalCheckFailed

    assert stream(ddb) == records
    assert len(stream(ddb, OTHER)) == 1
    assert cancelled(ddb, actions)[0]["Code"] == "ConditionalCheckFailed"  # a new request is a new request
    with pytest.raises(ClientError) as mismatch:
        ddb.transact_write_items(TransactItems=[put("other")], ClientRequestToken="token-1")
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"


def test_a_cancelled_transaction_s_token_is_not_kept(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item=key("taken"))
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[absent(put("taken"))], ClientRequestToken="token-2")
    ddb.delete_item(TableName=TABLE, Key=key("taken"))

    ddb.transact_write_items(TransactItems=[absent(put("taken", v="now"))], ClientRequestToken="token-2")  # anew

    assert items(ddb)["taken"]["v"] == {"S": "now"}
    assert [r["eventName"] for r in stream(ddb)] == ["INSERT", "REMOVE", "INSERT"]
