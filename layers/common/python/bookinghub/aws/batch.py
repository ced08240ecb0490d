"""Batched DynamoDB reads and writes, with DynamoDB's unprocessed leftovers retried.

A sync of thousands of bookings cannot afford a call per item: BatchGetItem reads 100 keys and
BatchWriteItem writes 25 items per call. Both may return part of the work as "unprocessed" under
throttling; it is retried with a short exponential backoff, and an error is raised if it stays so.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_item

GET_BATCH = 100
WRITE_BATCH = 25
MAX_ROUNDS = 8


class BatchIncomplete(Exception):
    """DynamoDB kept returning unprocessed keys or items: the caller should fail and be retried."""


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _backoff(round_number: int) -> None:
    time.sleep(random.uniform(0, min(1.0, 0.05 * 2**round_number)))


def batch_get(table: str, keys: Iterable[dict[str, Any]], *, consistent: bool = True) -> list[dict[str, Any]]:
    """The items that exist among `keys` (plain Python key dicts), in no particular order."""
    unique = list({tuple(sorted(k.items())): k for k in keys}.values())
    found: list[dict[str, Any]] = []
    for chunk in _chunks(unique, GET_BATCH):
        request: dict[str, Any] = {table: {"Keys": [to_item(k) for k in chunk], "ConsistentRead": consistent}}
        for round_number in range(MAX_ROUNDS):
            response = client("dynamodb").batch_get_item(RequestItems=request)
            found.extend(from_item(raw) for raw in response.get("Responses", {}).get(table, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            _backoff(round_number)
        else:
            raise BatchIncomplete(f"BatchGetItem left keys unprocessed on {table}")
    return found


def batch_write(table: str, items: Sequence[dict[str, Any]]) -> int:
    """Put every item (plain Python dicts, keyed PK/SK); returns the number of calls made.

    A batch may not name one key twice, so a later item for the same key replaces an earlier one.
    """
    latest = list({(item["PK"], item["SK"]): item for item in items}.values())
    calls = 0
    for chunk in _chunks(latest, WRITE_BATCH):
        requests: list[dict[str, Any]] = [{"PutRequest": {"Item": to_item(item)}} for item in chunk]
        for round_number in range(MAX_ROUNDS):
            response = client("dynamodb").batch_write_item(RequestItems={table: requests})
            calls += 1
            requests = (response.get("UnprocessedItems") or {}).get(table, [])
            if not requests:
                break
            _backoff(round_number)
        else:
            raise BatchIncomplete(f"BatchWriteItem left items unprocessed on {table}")
    return calls
