"""The local DynamoDB's transactions (infra/local/moto_dynamodb.py) under the hub's own code: their cost
does not grow with the table (moto itself deep-copies every touched table per TransactWriteItems; the
adapter copies at most the items it updates), and a sync whose response was lost is retried by botocore
and answered as what it did."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import boto3
import pytest
from moto.dynamodb.models.table import Table

from infra import topology
from infra.local import moto_dynamodb
from infra.local.resources import LocalResources
from tests.integration.conftest import outbox_events, post_sync, seed_body, sync_logs

ITEMS = 5_000


def _transact(ddb: Any, table: str, n: int, *, fail: bool = False) -> None:
    booking = {"PK": {"S": f"B#{n}"}, "SK": {"S": "BOOKING"}}
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": table,
                "Key": booking,
                "UpdateExpression": "SET v = if_not_exists(v, :zero) + :one",
                "ConditionExpression": "attribute_exists(PK)" if fail else "attribute_not_exists(PK) OR v > :zero",
                "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        {"Put": {"TableName": table, "Item": {"PK": {"S": f"E#{n}"}, "SK": {"S": "EVENT"}}}},
    ]
    try:
        ddb.transact_write_items(TransactItems=actions)
    except ddb.exceptions.TransactionCanceledException:
        if not fail:
            raise


def _timed(ddb: Any, table: str, start: int, count: int = 20) -> tuple[float, int]:
    """Median seconds of `count` transactions (half of them cancelled), and the Table copies made."""
    table_copies = 0
    original = copy.deepcopy

    def counting(value: Any, *args: Any) -> Any:
        nonlocal table_copies
        table_copies += isinstance(value, Table)
        return original(value, *args)

    seconds = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(copy, "deepcopy", counting)
        for n in range(start, start + count):
            began = time.perf_counter()
            _transact(ddb, table, n, fail=n % 2 == 1)
            seconds.append(time.perf_counter() - began)
    return sorted(seconds)[count // 2], table_copies


def test_a_transaction_on_5000_items_copies_no_table(aws: LocalResources, capsys: pytest.CaptureFixture[str]) -> None:
    assert moto_dynamodb.installed()
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    table = aws.env[topology.BOOKINGS.env_var]  # streamed, with indexes: what the hub's transactions touch
    empty_seconds, empty_copies = _timed(ddb, table, 0)

    from moto.dynamodb.models import dynamodb_backends

    live = dynamodb_backends["123456789012"]["us-east-1"].get_table(table)
    for n in range(ITEMS):  # straight into moto: 5,000 PutItem calls would take the test's time
        live.put_item({"PK": {"S": f"X#{n}"}, "SK": {"S": "BOOKING"}, "data": {"S": "x" * 200}})
    full_seconds, full_copies = _timed(ddb, table, 1_000)

    assert (empty_copies, full_copies) == (0, 0)
    assert live is dynamodb_backends["123456789012"]["us-east-1"].get_table(table)  # never swapped
    with capsys.disabled():
        ms = (empty_seconds * 1000, full_seconds * 1000)
        print(f"\ntransaction median: {ms[0]:.1f} ms empty, {ms[1]:.1f} ms at {ITEMS} items")
    assert full_seconds < max(10 * empty_seconds, 0.05)  # loose: moto's copy made it ~100x slower here


def test_a_sync_whose_response_was_lost_answers_created_after_botocore_s_retry(
    test_website: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The booking's write commits, its response times out, botocore retries it: the retry's condition
    fails on the write's own stamp, so the website hears `created`, not `unchanged`."""
    from botocore.exceptions import ReadTimeoutError
    from moto.core.models import botocore_stubber

    from bookinghub.aws.clients import client

    lost: list[str] = []

    def commit_then_lose_the_response(request: Any, **kwargs: Any) -> Any:
        if lost:
            return None  # moto's own stubber answers the retry
        response = botocore_stubber(request=request, **kwargs)  # moto commits the write...
        assert response is not None
        assert response.status_code == 200
        lost.append(json.loads(request.body)["Item"]["event_id"]["S"])
        raise ReadTimeoutError(endpoint_url=request.url)  # ...and its answer never arrives

    events = client("dynamodb").meta.events
    events.register_first("before-send.dynamodb.PutItem", commit_then_lose_the_response)
    try:
        status, body = post_sync(seed_body())
    finally:
        events.unregister("before-send.dynamodb.PutItem", commit_then_lose_the_response)

    assert len(lost) == 1
    assert (status, body["outcome"]) == (200, "created")
    assert [e["event_type"] for e in outbox_events(body["booking_id"])] == ["booking.created"]  # written once
    assert [log["event_type"] for log in sync_logs()] == ["booking.created"]  # and logged once
