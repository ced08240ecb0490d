"""Items at rest, packed (infra/local/moto_compact.py: pack_items, Item.attrs): the same calls answer the
same whether every item was packed before each call or never, for every operation the hub makes."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local import moto_compact, moto_dynamodb, moto_retention
from infra.local.housekeeping import Housekeeping

TABLE, ACCOUNT, REGION = "bookings", "123456789012", "us-east-1"
Key = dict[str, dict[str, str]]


def create(client: Any, name: str) -> None:
    """The hub's shape of table: PK/SK, a GSI, a stream of old and new images, TTL on `expires_at`."""
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": a, "KeyType": t} for a, t in (("PK", "HASH"), ("SK", "RANGE"))],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "GSI1PK", "GSI1SK")],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "KeySchema": [{"AttributeName": a, "KeyType": t} for a, t in (("GSI1PK", "HASH"), ("GSI1SK", "RANGE"))],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})


@pytest.fixture
def ddb() -> Iterator[Any]:
    moto_dynamodb.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create(client, TABLE)
        yield client


def table(name: str = TABLE) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][REGION].tables[name]


def stored(name: str = TABLE) -> list[Any]:
    return moto_retention._items(table(name))


def key(n: int, sk: str = "BOOKING") -> Key:
    return {"PK": {"S": f"BOOKING#{n}"}, "SK": {"S": sk}}


def booking(n: int) -> dict[str, Any]:
    return {
        **key(n),
        "GSI1PK": {"S": f"WEBSITE#{n % 2}"},
        "GSI1SK": {"S": f"2026-01-{10 + n:02d}"},
        "status": {"S": "confirmed"},
        "guests": {"N": "2"},
        "paid": {"BOOL": n % 2 == 0},
        "note": {"NULL": True},
        "raw": {"B": b"\x00\x01" + bytes([n])},
        "customer": {"M": {"country": {"S": "NL"}, "email": {"S": f"guest{n}@example.com"}, "tags": {"L": []}}},
        "addons": {"L": [{"M": {"name": {"S": "photo"}, "qty": {"N": "1"}}}, {"S": "x"}]},
        "labels": {"SS": ["a", "b"]},
        "scores": {"NS": ["1", "2.5"]},
        "payload": {"S": "y" * 200 + str(n)},
        "expires_at": {"N": "4102444800"},  # 2100: not expired
    }


def answer(call: Callable[[], dict[str, Any]]) -> Any:
    """What a call answered, without what differs between runs (request ids, consumed capacity)."""
    try:
        out = call()
    except ClientError as error:
        return {
            "error": error.response["Error"]["Code"],
            **{k: v for k, v in error.response.items() if k in ("Item", "CancellationReasons")},
        }
    for name in ("ResponseMetadata", "ConsumedCapacity", "ItemCollectionMetrics"):
        out.pop(name, None)
    return out


def scenario(client: Any, name: str, between: Callable[[], None]) -> list[Any]:
    """Every kind of call the hub makes, `between` each of them (a pass packing every item, or nothing)."""
    answers: list[Any] = []

    def step(call: Callable[[], dict[str, Any]]) -> None:
        between()
        answers.append(answer(call))

    for n in range(4):
        step(functools.partial(client.put_item, TableName=name, Item=booking(n)))
    step(lambda: client.put_item(TableName=name, Item={**key(9, "EVENT#1"), "kind": {"S": "created"}}))
    step(lambda: client.get_item(TableName=name, Key=key(0)))
    step(
        lambda: client.get_item(
            TableName=name,
            Key=key(1),
            ProjectionExpression="customer.email, addons[0].#n",
            ExpressionAttributeNames={"#n": "name"},
        )
    )
    step(
        lambda: client.update_item(
            TableName=name,
            Key=key(0),
            UpdateExpression=(
                "SET #s = :s, customer.country = :c, customer.tags = list_append(customer.tags, :t), "
                "addons[0].qty = :q, GSI1SK = :d ADD guests :one, labels :y REMOVE note, addons[1]"
            ),
            ConditionExpression="attribute_exists(PK) AND #s = :was AND customer.country = :nl",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":s": {"S": "cancelled"},
                ":was": {"S": "confirmed"},
                ":nl": {"S": "NL"},
                ":c": {"S": "BE"},
                ":t": {"L": [{"S": "vip"}]},
                ":q": {"N": "3"},
                ":d": {"S": "2026-02-01"},
                ":one": {"N": "1"},
                ":y": {"SS": ["z"]},
            },
            ReturnValues="ALL_NEW",
        )
    )
    step(
        lambda: client.update_item(
            TableName=name,
            Key=key(1),
            UpdateExpression="SET version = if_not_exists(version, :zero) + :one",
            ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
    )
    step(  # a failed condition, with the item it failed on
        lambda: client.put_item(
            TableName=name,
            Item=booking(2),
            ConditionExpression="attribute_not_exists(PK)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    )
    step(lambda: client.put_item(TableName=name, Item={**booking(3), "status": {"S": "moved"}}, ReturnValues="ALL_OLD"))
    step(
        lambda: client.query(
            TableName=name, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "BOOKING#0"}}
        )
    )
    step(
        lambda: client.query(
            TableName=name,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :w AND GSI1SK BETWEEN :a AND :b",
            FilterExpression="guests >= :g AND contains(labels, :l)",
            ExpressionAttributeValues={
                ":w": {"S": "WEBSITE#1"},
                ":a": {"S": "2026-01-01"},
                ":b": {"S": "2026-12-31"},
                ":g": {"N": "2"},
                ":l": {"S": "a"},
            },
        )
    )
    step(
        lambda: client.query(
            TableName=name,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :w",
            ExpressionAttributeValues={":w": {"S": "WEBSITE#0"}},
            ScanIndexForward=False,
            Limit=1,
        )
    )
    step(
        lambda: client.scan(
            TableName=name,
            FilterExpression="paid = :t OR attribute_exists(kind)",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )
    )
    step(
        lambda: client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": key(1),
                        "UpdateExpression": "SET #s = :s",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":s": {"S": "checked_in"}},
                    }
                },
                {
                    "Put": {
                        "TableName": name,
                        "Item": {**key(1, "EVENT#2"), "kind": {"S": "updated"}},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": key(2),
                        "ConditionExpression": "paid = :t",
                        "ExpressionAttributeValues": {":t": {"BOOL": True}},
                    }
                },
            ]
        )
    )
    step(  # cancelled: the second action's condition fails, nothing is written
        lambda: client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": key(2),
                        "UpdateExpression": "ADD guests :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "Put": {
                        "TableName": name,
                        "Item": {**key(1, "EVENT#2"), "kind": {"S": "again"}},
                        "ConditionExpression": "attribute_not_exists(PK)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    )
    step(
        lambda: client.transact_get_items(TransactItems=[{"Get": {"TableName": name, "Key": key(n)}} for n in range(3)])
    )
    step(lambda: client.batch_get_item(RequestItems={name: {"Keys": [key(0), key(2), key(7)]}}))
    step(
        lambda: client.delete_item(
            TableName=name,
            Key=key(2),
            ConditionExpression="guests = :two",
            ExpressionAttributeValues={":two": {"N": "2"}},
            ReturnValues="ALL_OLD",
        )
    )
    step(
        lambda: client.batch_write_item(
            RequestItems={name: [{"PutRequest": {"Item": booking(5)}}, {"DeleteRequest": {"Key": key(3)}}]}
        )
    )
    step(lambda: client.scan(TableName=name))
    answers.append(
        [
            (r.record["eventName"], r.record["dynamodb"].get("OldImage"), r.record["dynamodb"].get("NewImage"))
            for r in table(name).stream_shard.items
        ]
    )
    return json.loads(json.dumps(answers, default=repr).replace(f'"{name}"', '"T"'))  # each run its own table


def test_every_call_answers_the_same_with_every_item_packed_before_it(ddb: Any) -> None:
    create(ddb, "plain_table")
    packed: list[int] = []
    with_packing = scenario(ddb, TABLE, lambda: packed.append(moto_compact.pack_items(table())))
    assert sum(packed) >= 20  # items were packed between the calls, many times
    still: list[int] = []
    plain = scenario(
        ddb, "plain_table", lambda: still.append(sum(1 for item in stored("plain_table") if item._packed is not None))
    )
    assert not any(still)
    assert with_packing == plain
    assert with_packing[5]["Item"] == json.loads(json.dumps(booking(0), default=repr))  # what was sent
    assert with_packing[9]["error"] == "ConditionalCheckFailedException"
    assert with_packing[16]["error"] == "TransactionCanceledException"


def test_a_packed_item_is_a_fraction_of_its_size_and_unpacks_only_when_read(ddb: Any) -> None:
    from bench.memory_breakdown import deep_size

    for n in range(40):  # enough for the compression dictionary to be learned
        ddb.put_item(TableName=TABLE, Item=booking(n))
    moto_compact.pack_items(table())
    ddb.put_item(TableName=TABLE, Item=booking(41))
    shared = {id(v) for values in moto_compact._shared.values() for v in values.values()}
    unpacked = deep_size([next(i for i in stored() if i._packed is None)], set(shared))
    assert moto_compact.pack_items(table()) == 1  # only what changed since the last pass
    viewed = stored()[0]._packed[2]  # the names kept beside the blob: one set for the table's items
    packed = deep_size([stored()[0]], shared | {id(viewed), *map(id, viewed)})
    assert packed * 2 < unpacked, (packed, unpacked)
    assert {item._packed[1] for item in stored()} == {moto_compact._ZLIB_ZDICT}  # compressed, with the dictionary
    # a GSI query unpacks the items of its hash key only (moto reads them all: range and filter), and
    # TTL's pass reads packed items as they are
    ddb.query(
        TableName=TABLE,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :w AND GSI1SK = :d",
        ExpressionAttributeValues={":w": {"S": "WEBSITE#1"}, ":d": {"S": "2026-01-11"}},
    )
    website_1 = sum(n % 2 for n in [*range(40), 41])
    assert sum(item._packed is None for item in stored()) == website_1
    from moto.dynamodb.models import dynamodb_backends

    assert moto_retention.expire_items(dynamodb_backends[ACCOUNT][REGION], table()) == 0
    assert sum(item._packed is None for item in stored()) == website_1


def test_ttl_expires_packed_items_and_the_housekeeping_pass_packs(ddb: Any) -> None:
    for n in range(3):
        ddb.put_item(TableName=TABLE, Item={**booking(n), "expires_at": {"N": str(1000 + n)}})
    ddb.put_item(TableName=TABLE, Item=booking(9))
    keeper = Housekeeping(account_id=ACCOUNT, region=REGION, pollers=[])
    assert keeper.run_once(now=1001.5) == (0, 2)  # expiry reads the packed TTL attribute
    assert all(item._packed is not None for item in stored())
    assert sorted(i["PK"]["S"] for i in ddb.scan(TableName=TABLE)["Items"]) == ["BOOKING#2", "BOOKING#9"]
    removed = [r.record for r in table().stream_shard.items if r.record["eventName"] == "REMOVE"]
    assert [r["dynamodb"]["OldImage"] for r in removed] == [
        {**booking(n), "expires_at": {"N": str(1000 + n)}} for n in range(2)
    ]


def test_writes_racing_a_packing_pass_are_all_kept(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item=booking(0))
    done = threading.Event()

    def pack_all_along() -> None:
        while not done.is_set():
            moto_compact.pack_items(table())

    packer = threading.Thread(target=pack_all_along)
    packer.start()
    try:
        for _ in range(150):
            ddb.update_item(
                TableName=TABLE,
                Key=key(0),
                UpdateExpression="ADD guests :one SET customer.tags = list_append(customer.tags, :t)",
                ExpressionAttributeValues={":one": {"N": "1"}, ":t": {"L": [{"S": "t"}]}},
            )
    finally:
        done.set()
        packer.join()
    item = ddb.get_item(TableName=TABLE, Key=key(0))["Item"]
    assert item["guests"] == {"N": "152"}
    assert len(item["customer"]["M"]["tags"]["L"]) == 150
