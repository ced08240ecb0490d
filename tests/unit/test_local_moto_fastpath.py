"""The local DynamoDB's cheaper moto (infra/local/moto_fastpath.py): every answer, item and error is the
one moto gives without it, for conditions, SET/REMOVE/ADD/DELETE, nested paths, list_append,
if_not_exists, begins_with, reused placeholders with other values and names, reads and transactions;
and it refuses a moto it was not checked against."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.parsing import validators
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node  # type: ignore[attr-defined]
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.responses import DynamoResult

from infra.local import moto_dynamodb, moto_fastpath

ACCOUNT, REGION = "123456789012", "us-east-1"
ROOT = Path(__file__).resolve().parents[2]
KEY = {"PK": {"S": "ITEM#1"}, "SK": {"S": "A"}}
LIST, STATUS, G = {"#l": "list"}, {"#s": "status"}, {":g": {"S": "g"}}
VOLATILE = {"CreationDateTime", "LatestStreamLabel", "LatestStreamArn", "TableId", "TableArn", "IndexArn"}


@pytest.fixture(autouse=True)
def installed() -> Iterator[None]:
    moto_dynamodb.install()
    moto_fastpath.install()
    yield
    moto_fastpath.install()  # as the other tests expect it


def _client() -> Any:
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "G")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return client


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in VOLATILE and k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _call(client: Any, operation: str, **kwargs: Any) -> Any:
    try:
        return _clean(getattr(client, operation)(**kwargs))
    except ClientError as error:
        return {"error": error.response["Error"], "item": error.response.get("Item")}


def _update(client: Any, expression: str, values: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    if values is not None:
        kwargs["ExpressionAttributeValues"] = values
    kwargs.setdefault("ReturnValues", "ALL_NEW")
    return _call(client, "update_item", TableName="t", Key=KEY, UpdateExpression=expression, **kwargs)


def _scenario(client: Any) -> list[Any]:
    n = {"N": "1"}
    out = [
        _call(
            client,
            "put_item",
            TableName="t",
            Item={
                **KEY,
                "G": {"S": "g"},
                "status": {"S": "pending"},
                "attempts": {"N": "0"},
                "doc": {"M": {"a": {"M": {"b": {"N": "1"}}}, "list": {"L": [{"S": "x"}, {"S": "y"}]}}},
                "tags": {"SS": ["a", "b"]},
                "blob": {"B": b"\x00\x01"},
                "gone": {"S": "soon"},
            },
        ),
        # conditions: a pass, a failure (with the item back), begins_with, attribute_exists
        _update(
            client,
            "SET attempts = :next",
            {":next": {"N": "1"}, ":pending": {"S": "pending"}, ":expected": {"N": "0"}},
            ConditionExpression="#status = :pending AND attempts = :expected",
            ExpressionAttributeNames={"#status": "status"},
        ),
        _update(
            client,
            "SET attempts = :next",
            {":next": {"N": "9"}, ":pending": {"S": "pending"}, ":expected": {"N": "0"}},
            ConditionExpression="#status = :pending AND attempts = :expected",
            ExpressionAttributeNames={"#status": "status"},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ),
        _update(
            client,
            "SET marker = :v",
            {":v": {"S": "prefixed"}, ":p": {"S": "pend"}},
            ConditionExpression="begins_with(#s, :p) AND attribute_exists(doc.a.b)",
            ExpressionAttributeNames={"#s": "status"},
        ),
        _update(
            client,
            "SET marker = :v",
            {":v": {"S": "never"}, ":p": {"S": "done"}},
            ConditionExpression="begins_with(#s, :p)",
            ExpressionAttributeNames={"#s": "status"},
        ),
        # the same expressions again with other values and names: nothing of the first call sticks
        _update(client, "SET #f = :v", {":v": {"S": "first"}}, ExpressionAttributeNames={"#f": "one"}),
        _update(client, "SET #f = :v", {":v": {"S": "second"}}, ExpressionAttributeNames={"#f": "one"}),
        _update(client, "SET #f = :v", {":v": {"N": "3"}}, ExpressionAttributeNames={"#f": "two"}),
        # nested paths, list indexes, list_append, if_not_exists, arithmetic
        _update(client, "SET doc.a.b = doc.a.b + :one, doc.a.c = :v", {":one": n, ":v": {"S": "new"}}),
        _update(client, "SET doc.#l[0] = :v REMOVE doc.#l[1]", {":v": {"S": "z"}}, ExpressionAttributeNames=LIST),
        _update(
            client,
            "SET doc.#l = list_append(doc.#l, :more)",
            {":more": {"L": [n]}},
            ExpressionAttributeNames=LIST,
        ),
        _update(
            client,
            "SET doc.#l = list_append(:more, doc.#l)",
            {":more": {"L": [{"S": "head"}]}},
            ExpressionAttributeNames=LIST,
        ),
        _update(client, "SET tally = if_not_exists(tally, :zero) + :one", {":zero": {"N": "0"}, ":one": n}),
        _update(client, "SET tally = if_not_exists(tally, :zero) + :one", {":zero": {"N": "0"}, ":one": {"N": "5"}}),
        # ADD, DELETE, REMOVE, and the ReturnValues modes
        _update(client, "ADD hits :one, tags :more", {":one": n, ":more": {"SS": ["c"]}}, ReturnValues="UPDATED_NEW"),
        _update(client, "DELETE tags :less", {":less": {"SS": ["a"]}}, ReturnValues="UPDATED_OLD"),
        _update(client, "REMOVE gone, marker", ReturnValues="ALL_OLD"),
        _update(client, "SET attempts = :n", {":n": {"N": "2"}}, ReturnValues="NONE"),
        # errors: every time, not only the first
        _update(client, "SET = :v", {":v": n}),
        _update(client, "SET = :v", {":v": n}),
        _update(client, "SET nowhere.deeper = :v", {":v": n}),
        _update(client, "SET a = :v", {":v": n, ":unused": n}),
        _update(client, "SET PK = :v", {":v": {"S": "key"}}),
        # an update that creates its item
        _call(
            client,
            "update_item",
            TableName="t",
            Key={"PK": {"S": "ITEM#2"}, "SK": {"S": "A"}},
            UpdateExpression="SET G = :g, n = if_not_exists(n, :z)",
            ExpressionAttributeValues={":g": {"S": "g"}, ":z": {"N": "0"}},
            ReturnValues="ALL_NEW",
        ),
        # reads
        _call(client, "get_item", TableName="t", Key=KEY, ConsistentRead=True),
        _call(
            client,
            "get_item",
            TableName="t",
            Key=KEY,
            ProjectionExpression="doc.a, #s",
            ExpressionAttributeNames={"#s": "status"},
        ),
        _call(client, "get_item", TableName="t", Key={"PK": {"S": "none"}, "SK": {"S": "A"}}),
        _call(
            client,
            "batch_get_item",
            RequestItems={"t": {"Keys": [KEY, {"PK": {"S": "ITEM#2"}, "SK": {"S": "A"}}], "ConsistentRead": True}},
        ),
        _call(
            client,
            "query",
            TableName="t",
            IndexName="GSI1",
            KeyConditionExpression="G = :g",
            ExpressionAttributeValues={":g": {"S": "g"}},
        ),
        _call(client, "scan", TableName="t", FilterExpression="attribute_exists(tally)", Limit=5),
        # transactions and writes
        _call(
            client,
            "transact_write_items",
            TransactItems=[
                {
                    "Update": {
                        "TableName": "t",
                        "Key": KEY,
                        "UpdateExpression": "SET attempts = attempts + :one",
                        "ConditionExpression": "attempts = :two",
                        "ExpressionAttributeValues": {":one": n, ":two": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": "t", "Item": {"PK": {"S": "ITEM#3"}, "SK": {"S": "A"}, "v": n}}},
            ],
        ),
        _call(client, "transact_get_items", TransactItems=[{"Get": {"TableName": "t", "Key": KEY}}]),
        _call(
            client,
            "batch_write_item",
            RequestItems={"t": [{"PutRequest": {"Item": {"PK": {"S": "ITEM#4"}, "SK": {"S": "A"}}}}]},
        ),
        _call(
            client, "delete_item", TableName="t", Key={"PK": {"S": "ITEM#3"}, "SK": {"S": "A"}}, ReturnValues="ALL_OLD"
        ),
        _call(client, "describe_table", TableName="t"),
        _call(client, "list_tables"),
    ]
    table = dynamodb_backends[ACCOUNT][REGION].get_table("t")  # the stream records moto wrote
    assert table.stream_shard is not None
    records = [r.record for r in table.stream_shard.items]
    out.append([(r["eventName"], r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage")) for r in records])
    return out


def _run() -> list[Any]:
    with mock_aws():
        return _scenario(_client())


def test_answers_items_and_errors_are_moto_s_own() -> None:
    fast = _run()
    moto_fastpath.uninstall()
    assert not moto_fastpath.installed()
    plain = _run()
    assert fast == plain
    errors = [entry["error"]["Code"] for entry in fast if isinstance(entry, dict) and "error" in entry]
    assert errors.count("ValidationException") == 5  # the bad expressions fail each time
    assert "ConditionalCheckFailedException" in errors


def test_a_reused_expression_binds_its_own_values() -> None:
    results = _run()
    first, second, other = (r["Attributes"] for r in results[5:8])
    assert first["one"] == {"S": "first"}
    assert second["one"] == {"S": "second"}
    assert other["two"] == {"N": "3"}
    assert other["one"] == {"S": "second"}
    assert results[12]["Attributes"]["tally"] == {"N": "1"}
    assert results[13]["Attributes"]["tally"] == {"N": "6"}


def test_each_parse_is_a_fresh_tree() -> None:
    expression = "SET a = :v, b.c = list_append(b.c, :w)"
    first = UpdateExpressionParser.make(expression)
    first.children.clear()  # a caller changing its tree changes nobody else's
    second = UpdateExpressionParser.make(expression)
    assert second.children
    assert second is not first
    assert second.find_clauses.__func__ is moto_fastpath._find_clauses  # type: ignore[attr-defined]


def test_uninstall_puts_moto_back() -> None:
    moto_fastpath.uninstall()
    assert "make" in UpdateExpressionParser.__dict__
    assert UpdateExpressionParser.make.__func__ is not moto_fastpath._make  # type: ignore[attr-defined]
    assert validators.deepcopy is not moto_fastpath._copy
    assert DepthFirstTraverser.process is not moto_fastpath._process
    assert Node.find_clauses is not moto_fastpath._find_clauses
    assert "execute_result" not in DynamoResult.__dict__


def test_pinned_to_the_required_moto() -> None:
    """A moto upgrade fails here: check the patched functions against the new moto, then move the pin."""
    pin = re.search(r"^moto\[[^\]]*\]==([\d.]+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert pin is not None
    assert pin.group(1) == moto_fastpath.PINNED_MOTO == moto.__version__
    assert moto_fastpath.installed()


def test_refuses_another_moto() -> None:
    moto_fastpath.uninstall()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(moto, "__version__", "9.9.9")
        with pytest.raises(moto_fastpath.MotoVersionMismatch):
            moto_fastpath.install()
        assert not moto_fastpath.installed()
        assert UpdateExpressionParser.make.__func__ is not moto_fastpath._make  # type: ignore[attr-defined]
