"""Counting the DynamoDB requests the hub makes (a botocore event hook on its own cached client)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

WRITES = ("PutItem", "BatchWriteItem", "UpdateItem", "DeleteItem", "TransactWriteItems")


@dataclass
class Request:
    operation: str
    params: dict[str, Any]

    def partition_keys(self) -> list[str]:
        """The partition keys this request writes (or reads, for GetItem/BatchGetItem)."""
        found: list[str] = []
        if "Item" in self.params:
            found.append(self.params["Item"]["PK"]["S"])
        if "Key" in self.params:
            found.append(self.params["Key"]["PK"]["S"])
        for requests_ in self.params.get("RequestItems", {}).values():
            entries = requests_ if isinstance(requests_, list) else [{"Get": k} for k in requests_.get("Keys", [])]
            for entry in entries:
                body = entry.get("PutRequest", {}).get("Item") or entry.get("DeleteRequest", {}).get("Key")
                body = body or entry.get("Get")
                if body:
                    found.append(body["PK"]["S"])
        for action in self.params.get("TransactItems", []):
            for body in action.values():
                found.append((body.get("Item") or body.get("Key"))["PK"]["S"])
        return found


class DynamoMeter:
    """Every DynamoDB request the hub's own client makes while attached."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests.append(Request(model.name, json.loads(json.dumps(params, default=str))))

    def __enter__(self) -> DynamoMeter:
        from bookinghub.aws.clients import client

        client("dynamodb").meta.events.register("provide-client-params.dynamodb.*", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        from bookinghub.aws.clients import client

        client("dynamodb").meta.events.unregister("provide-client-params.dynamodb.*", self._record)

    def operations(self) -> list[str]:
        return [r.operation for r in self.requests]

    def writes_to(self, *prefixes: str) -> list[Request]:
        """Write requests touching a partition key that starts with one of `prefixes`."""
        return [
            r
            for r in self.requests
            if r.operation in WRITES and any(k.startswith(prefixes) for k in r.partition_keys())
        ]
