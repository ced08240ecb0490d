"""The one DynamoDB Query loop: every page of a Query, item by item, as plain Python values.

Lazy (a page is read only when the one before it is used up), so a caller that stops early (a page of an
admin list, `islice`) reads no more than it needs; `limit` stops after that many items.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item


def query_items(request: dict[str, Any], *, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The items of a Query request (`Query`'s own parameters; `Limit` is the page size)."""
    return islice(_all_pages(dict(request)), limit)


def _all_pages(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    dynamodb = client("dynamodb")
    while True:
        response = dynamodb.query(**request)
        for raw in response["Items"]:
            yield from_item(raw)
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
