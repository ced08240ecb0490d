"""aws/query.py: the one Query loop follows LastEvaluatedKey, converts items, reads lazily, stops at limit."""

from __future__ import annotations

from typing import Any

import pytest

from bookinghub.aws import query
from bookinghub.aws.codec import to_item


class PagedTable:
    """A stand-in DynamoDB client answering a Query in pages of `page_size`, recording each request."""

    def __init__(self, count: int, page_size: int) -> None:
        self.items = [to_item({"PK": "P", "SK": f"{n:03d}", "n": n}) for n in range(count)]
        self.page_size = page_size
        self.requests: list[dict[str, Any]] = []

    def query(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        start = int(request.get("ExclusiveStartKey", {}).get("SK", {}).get("S", "-1")) + 1
        page = self.items[start : start + self.page_size]
        response: dict[str, Any] = {"Items": page}
        if start + self.page_size < len(self.items):
            response["LastEvaluatedKey"] = {"PK": page[-1]["PK"], "SK": page[-1]["SK"]}
        return response


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> PagedTable:
    fake = PagedTable(count=7, page_size=3)
    monkeypatch.setattr(query, "client", lambda service: fake)
    return fake


def test_every_page_is_read_and_items_are_plain_values(table: PagedTable) -> None:
    items = list(query.query_items({"TableName": "T", "KeyConditionExpression": "PK = :pk"}))
    assert [item["n"] for item in items] == list(range(7))
    assert items[0] == {"PK": "P", "SK": "000", "n": 0}
    assert len(table.requests) == 3
    assert "ExclusiveStartKey" not in table.requests[0]
    assert table.requests[2]["ExclusiveStartKey"] == {"PK": {"S": "P"}, "SK": {"S": "005"}}


def test_limit_stops_reading_pages_that_are_not_needed(table: PagedTable) -> None:
    assert [item["n"] for item in query.query_items({"TableName": "T"}, limit=4)] == [0, 1, 2, 3]
    assert len(table.requests) == 2


def test_pages_are_read_only_as_items_are_used(table: PagedTable) -> None:
    request = {"TableName": "T"}
    items = query.query_items(request)
    assert table.requests == []
    next(items)
    assert len(table.requests) == 1
    assert request == {"TableName": "T"}  # the caller's request is never changed


def test_an_empty_answer_yields_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query, "client", lambda service: PagedTable(count=0, page_size=3))
    assert list(query.query_items({"TableName": "T"})) == []
