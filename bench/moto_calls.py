"""CPU per DynamoDB call against in-process moto, with and without infra/local/moto_fastpath.py (issue 12).
Prints figures; asserts nothing.

The calls are a webhook delivery's (bench/dispatch.py): the claim and the outcome (conditional
UpdateItems, nothing returned), the batch's BatchGetItem of 5 deliveries (each with a ~1 KB payload),
and, for comparison, 5 outcomes as one TransactWriteItems against 5 UpdateItems. The table has the
hub's shape (PK/SK, a GSI, a stream). Rounds alternate the two modes in this one process (the local
runtime's moto, moto_dynamodb.install(), either way), so both see the same machine load; the figure is
the calling thread's CPU per call, botocore's share (~1.2-1.6 ms) included, min and median of the rounds.

Run: python bench/moto_calls.py [--calls 300] [--rounds 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]

KEY_SCHEMA = [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}]
GSI_SCHEMA = [{"AttributeName": "GSI1PK", "KeyType": "HASH"}, {"AttributeName": "GSI1SK", "KeyType": "RANGE"}]


def _key(n: int) -> dict[str, Any]:
    return {"PK": {"S": f"DELIVERY#{n}"}, "SK": {"S": "DELIVERY"}}


def _setup(client: Any, count: int) -> None:
    client.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=KEY_SCHEMA,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "GSI1PK", "GSI1SK")],
        GlobalSecondaryIndexes=[
            {"IndexName": "GSI1", "KeySchema": GSI_SCHEMA, "Projection": {"ProjectionType": "ALL"}}
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for n in range(count + 6):
        item = {
            **_key(n),
            "entity": {"S": "delivery"},
            "status": {"S": "pending"},
            "attempts": {"N": "0"},
            "payload": {"S": "x" * 900},
            "endpoint_id": {"S": "ep-1"},
            "webhook_id": {"S": f"msg_{n:026d}"},
            "GSI1PK": {"S": "DUE#3"},
            "GSI1SK": {"S": f"2026-12-02T05:00:00Z#{n}"},
        }
        client.put_item(TableName="t", Item=item)


def _calls(client: Any, count: int) -> dict[str, Callable[[int], Any]]:
    def claim(n: int) -> Any:
        return client.update_item(
            TableName="t",
            Key=_key(n),
            UpdateExpression="SET attempts = :next, next_attempt_at = :lease, GSI1PK = :shard, GSI1SK = :due, "
            "updated_at = :now",
            ConditionExpression="#status = :pending AND attempts = :expected",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":next": {"N": "1"},
                ":lease": {"S": "2026-12-02T05:01:00Z"},
                ":shard": {"S": "DUE#3"},
                ":due": {"S": f"2026-12-02T05:01:00Z#{n}"},
                ":now": {"S": "2026-12-02T05:00:00Z"},
                ":pending": {"S": "pending"},
                ":expected": {"N": "0"},
            },
            ReturnValues="NONE",
        )

    def outcome(n: int) -> dict[str, Any]:
        return {
            "TableName": "t",
            "Key": _key(n),
            "UpdateExpression": "SET #status = :succeeded, updated_at = :now, last_status_code = :code "
            "REMOVE GSI1PK, GSI1SK, next_attempt_at, last_error",
            "ConditionExpression": "#status = :pending AND attempts = :a",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":succeeded": {"S": "succeeded"},
                ":now": {"S": "2026-12-02T05:00:01Z"},
                ":code": {"N": "200"},
                ":pending": {"S": "pending"},
                ":a": {"N": "1"},
            },
        }

    def succeed(n: int) -> Any:
        return client.update_item(**outcome(n), ReturnValues="NONE")

    def batch_get(n: int) -> Any:
        keys = [_key(m) for m in range(n % count, n % count + 5)]
        return client.batch_get_item(RequestItems={"t": {"Keys": keys, "ConsistentRead": True}})

    def reopen(n: int) -> None:  # back to pending at attempt 1, so the outcomes' condition holds again
        for m in range(n, n + 5):
            client.put_item(
                TableName="t",
                Item={**_key(m), "status": {"S": "pending"}, "attempts": {"N": "1"}, "payload": {"S": "x" * 900}},
            )

    def five_updates(n: int) -> None:
        for m in range(n, n + 5):
            client.update_item(**outcome(m))

    def one_transaction(n: int) -> Any:
        return client.transact_write_items(TransactItems=[{"Update": outcome(m)} for m in range(n, n + 5)])

    return {
        "claim (UpdateItem)": claim,
        "outcome (UpdateItem)": succeed,
        "BatchGetItem of 5": batch_get,
        "5 outcomes as 5 UpdateItems": five_updates,
        "5 outcomes as 1 TransactWriteItems": one_transaction,
        "_reopen": reopen,
    }


def _round(fast: bool, count: int) -> dict[str, float]:
    import boto3
    from moto import mock_aws

    from infra.local import moto_dynamodb, moto_fastpath

    moto_dynamodb.install()
    (moto_fastpath.install if fast else moto_fastpath.uninstall)()
    figures: dict[str, float] = {}
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        _setup(client, count)
        calls = _calls(client, count)
        reopen = calls.pop("_reopen")
        calls["claim (UpdateItem)"](count + 1)  # warm: clients, models, caches
        for name, call in calls.items():
            batched = name.startswith("5 ")
            spent, runs = 0.0, 0
            for n in range(0, count, 5 if batched else 1):
                if batched:
                    reopen(n)
                started = time.thread_time()
                call(n)
                spent += time.thread_time() - started
                runs += 1
            figures[name] = spent * 1000 / runs
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    results: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    for _ in range(args.rounds):
        for fast in (False, True):
            results[fast].append(_round(fast, args.calls))
    print(f"CPU per call (ms, min / median of {args.rounds} rounds), moto's own code -> with moto_fastpath:")
    for name in results[False][0]:
        before = [r[name] for r in results[False]]
        after = [r[name] for r in results[True]]
        faster = statistics.median(before) / statistics.median(after)
        print(
            f"  {name:36} {min(before):5.2f} / {statistics.median(before):5.2f} -> "
            f"{min(after):5.2f} / {statistics.median(after):5.2f}   (x{faster:.2f})"
        )


if __name__ == "__main__":
    main()
