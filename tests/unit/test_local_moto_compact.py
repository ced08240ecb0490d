"""Shared short scalar values in the local DynamoDB (infra/local/moto_compact.py): items hold one
DynamoType per distinct short value, and every way moto changes an item leaves the other items as sent."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local import moto_compact, moto_dynamodb
from tests.unit.local_tables import create_pk_sk_table

TABLE, ACCOUNT, REGION = "bookings", "123456789012", "us-east-1"


@pytest.fixture
def ddb() -> Iterator[Any]:
    moto_dynamodb.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_pk_sk_table(client, TABLE)
        yield client


def booking(n: int) -> dict[str, Any]:
    return {
        "PK": {"S": f"BOOKING#{n}"},
        "SK": {"S": "BOOKING"},
        "status": {"S": "confirmed"},
        "guests": {"N": "2"},
        "paid": {"BOOL": True},
        "note": {"NULL": True},
        "customer": {"M": {"country": {"S": "NL"}, "email": {"S": f"guest{n}@example.com"}}},
        "tags": {"L": [{"S": "a"}, {"N": "1"}]},
        "labels": {"SS": ["x"]},
        "payload": {"S": "x" * 100 + str(n)},
    }


def stored(n: int) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    groups = dynamodb_backends[ACCOUNT][REGION].tables[TABLE].items.values()
    return next(i for group in groups for i in group.values() if i.attrs["PK"].value == f"BOOKING#{n}")


def read(ddb: Any, n: int) -> dict[str, Any]:
    return ddb.get_item(TableName=TABLE, Key={"PK": {"S": f"BOOKING#{n}"}, "SK": {"S": "BOOKING"}})["Item"]


def test_items_hold_one_object_per_short_scalar_and_read_back_as_sent(ddb: Any) -> None:
    for n in range(2):
        ddb.put_item(TableName=TABLE, Item=booking(n))
    first, second = stored(0).attrs, stored(1).attrs
    for name in ("status", "guests", "paid", "note"):
        assert first[name] is second[name], name
    assert first["customer"].value["country"] is second["customer"].value["country"]
    assert first["tags"].value[1] is second["tags"].value[1]
    # what moto changes in place stays each item's own; long values are not looked up
    for name in ("customer", "tags", "labels", "payload"):
        assert first[name] is not second[name], name
    assert [read(ddb, n) for n in range(2)] == [booking(n) for n in range(2)]


def test_changing_one_item_leaves_the_others_as_they_were(ddb: Any) -> None:
    for n in range(2):
        ddb.put_item(TableName=TABLE, Item=booking(n))
    ddb.update_item(
        TableName=TABLE,
        Key={"PK": {"S": "BOOKING#0"}, "SK": {"S": "BOOKING"}},
        UpdateExpression=("SET #s = :s, customer.country = :c, tags[0] = :t ADD guests :one, labels :y REMOVE note"),
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":s": {"S": "cancelled"},
            ":c": {"S": "BE"},
            ":t": {"S": "b"},
            ":one": {"N": "1"},
            ":y": {"SS": ["y"]},
        },
    )
    ddb.update_item(  # a second update: AWS refuses two overlapping paths (tags[0], tags) in one
        TableName=TABLE,
        Key={"PK": {"S": "BOOKING#0"}, "SK": {"S": "BOOKING"}},
        UpdateExpression="SET tags = list_append(tags, :more)",
        ExpressionAttributeValues={":more": {"L": [{"S": "c"}]}},
    )
    changed = read(ddb, 0)
    assert changed["status"] == {"S": "cancelled"}
    assert changed["guests"] == {"N": "3"}
    assert changed["customer"]["M"]["country"] == {"S": "BE"}
    assert changed["tags"] == {"L": [{"S": "b"}, {"N": "1"}, {"S": "c"}]}
    assert sorted(changed["labels"]["SS"]) == ["x", "y"]
    assert "note" not in changed
    assert read(ddb, 1) == booking(1)  # the other item, which shared those values, is unchanged


def test_conditions_queries_and_transactions_see_the_shared_values(ddb: Any) -> None:
    for n in range(3):
        ddb.put_item(TableName=TABLE, Item=booking(n))
    found = ddb.scan(
        TableName=TABLE,
        FilterExpression="#s = :s AND guests = :g AND customer.country = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "confirmed"}, ":g": {"N": "2"}, ":c": {"S": "NL"}},
    )["Items"]
    assert len(found) == 3
    key = {"PK": {"S": "BOOKING#1"}, "SK": {"S": "BOOKING"}}
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {**booking(1), "status": {"S": "shared-then-cancelled"}}}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"PK": {"S": "BOOKING#2"}, "SK": {"S": "BOOKING"}},
                        "ConditionExpression": "#s = :s",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":s": {"S": "cancelled"}},
                    }
                },
            ]
        )
    assert read(ddb, 1) == booking(1)
    ddb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": key,
                    "UpdateExpression": "SET #s = :s",
                    "ConditionExpression": "#s = :old",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":s": {"S": "cancelled"}, ":old": {"S": "confirmed"}},
                }
            }
        ]
    )
    assert read(ddb, 1)["status"] == {"S": "cancelled"}
    assert [read(ddb, n)["status"] for n in (0, 2)] == [{"S": "confirmed"}] * 2


def test_a_value_no_item_holds_any_more_is_forgotten(ddb: Any) -> None:
    item = {**booking(0), "status": {"S": "only-here"}}
    ddb.put_item(TableName=TABLE, Item=item)
    assert "only-here" in moto_compact._shared["S"]
    ddb.delete_item(TableName=TABLE, Key={"PK": {"S": "BOOKING#0"}, "SK": {"S": "BOOKING"}})
    gc.collect()
    assert "only-here" not in moto_compact._shared["S"]


def test_an_items_key_attributes_are_its_key_objects_and_read_back_as_sent(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item=booking(0))
    item = stored(0)
    assert item.attrs["PK"] is item.hash_key
    assert item.attrs["SK"] is item.range_key
    ddb.update_item(  # a key is never changed in place: an update writes other attributes only
        TableName=TABLE,
        Key={"PK": {"S": "BOOKING#0"}, "SK": {"S": "BOOKING"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "cancelled"}},
    )
    assert read(ddb, 0) == {**booking(0), "status": {"S": "cancelled"}}
    found = ddb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
        ExpressionAttributeValues={":pk": {"S": "BOOKING#0"}, ":sk": {"S": "BOOK"}},
    )["Items"]
    assert [i["PK"] for i in found] == [{"S": "BOOKING#0"}]
