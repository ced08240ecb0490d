"""What AWS bills for the calls a handler makes: counted with botocore event hooks, sized from moto's items.

Every client any code creates while the meter is installed gets two hooks: `provide-client-params`
(the call's own parameters, and each DynamoDB write's item before it changes) and `after-call` (the item
after, the SQS payload size, the call counted). Item sizes are moto's own `Item.size()` (attribute names
plus values, as DynamoDB sizes them). Billing rules applied (DynamoDB, SQS developer guides):
- write units: ceil(item KB) per item written, the larger of the old and new item for an update, x2 in
  a transaction (ConditionCheck included); plus, per GSI the item is (or was) projected into, ceil(KB of
  the projected entry), twice when the change moves the item's index key (a delete and a put);
- read units: ceil(4 KB) of the items read (before any filter or projection expression), per GetItem or
  once per Query/Scan page (its ScannedCount times the mean size of those items, as the index projects
  them for a Query on an index); 0.5 for eventually
  consistent reads, x2 in a transaction;
- stream records are counted but priced at $0: Lambda's reads of a DynamoDB stream are free;
- SQS: one request per 64 KB of payload (send, batch send) and one per other call.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

ACCOUNT, REGION = "123456789012", "us-east-1"
KB, SQS_CHUNK = 1024, 64 * 1024
DDB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@dataclass
class Write:
    """One item written, with what it costs and what it would cost with keys-only indexes."""

    table: str
    kind: str  # PK prefix / SK prefix, e.g. BOOKING/EVENT (an outbox event)
    units: float  # the table's write units
    index_units: float  # every GSI entry written (ALL projection, as today)
    index_units_keys_only: float  # the same entries with only the table and index keys
    stage: str


@dataclass
class StageUse:
    calls: Counter[str] = field(default_factory=Counter)
    write_units: float = 0.0
    read_units: float = 0.0
    stream_records: int = 0
    sqs_requests: int = 0
    lambda_invocations: int = 0
    lambda_gb_seconds: float = 0.0
    api_requests: int = 0
    log_bytes: int = 0
    items_read: int = 0  # by Query and Scan, before their filters
    items_fetched: int = 0  # by GetItem, BatchGetItem and TransactGetItems


class CostMeter:
    def __init__(self) -> None:
        self.active = False
        self.stage = "request"
        self.stages: dict[str, StageUse] = defaultdict(StageUse)
        self.writes: list[Write] = []
        self._local = threading.local()

    # --- installing -------------------------------------------------------------------------------------

    def install(self) -> None:
        """Hook every botocore client created from now on, and moto's reads (to size what they read)."""
        import botocore.session
        from moto.dynamodb.models.table import Table

        meter = self
        create_client = botocore.session.Session.create_client

        def hooked(session: Any, *args: Any, **kwargs: Any) -> Any:
            created = create_client(session, *args, **kwargs)
            created.meta.events.register("provide-client-params.*.*", meter._before)
            created.meta.events.register("after-call.*.*", meter._after)
            return created

        botocore.session.Session.create_client = hooked  # type: ignore[method-assign]
        query, scan = Table.query, Table.scan

        def unfiltered(method: Any, table: Any, args: Any, kwargs: Any, projection: str) -> Any:
            bound = inspect.signature(method).bind(table, *args, **kwargs)
            bound.arguments.update({"filter_expression": None, projection: None})
            return method(*bound.args, **bound.kwargs)

        def sized_query(table: Any, *args: Any, **kwargs: Any) -> Any:
            found = query(table, *args, **kwargs)
            full = unfiltered(query, table, args, kwargs, "projection_expressions")
            # An index read is billed by the size of its entries (what the index projects)
            name = inspect.signature(query).bind(table, *args, **kwargs).arguments.get("index_name")
            index = next((i for i in table.global_indexes if i.name == name), None) if name else None
            sizes = [(index.project(item) if index else item).size() for item in full[0]]
            meter._read_sizes().append(sum(sizes) / max(1, len(sizes)))
            return found

        def sized_scan(table: Any, *args: Any, **kwargs: Any) -> Any:
            found = scan(table, *args, **kwargs)
            full = unfiltered(scan, table, args, kwargs, "projection_expression")
            meter._read_sizes().append(sum(item.size() for item in full[0]) / max(1, len(full[0])))
            return found

        Table.query, Table.scan = sized_query, sized_scan  # type: ignore[method-assign]

    @contextlib.contextmanager
    def measuring(self, stage: str) -> Iterator[StageUse]:
        previous, self.active, self.stage = self.stage, True, stage
        try:
            yield self.stages[stage]
        finally:
            self.active, self.stage = False, previous

    def _read_sizes(self) -> list[float]:
        if not hasattr(self._local, "reads"):
            self._local.reads = []
        return self._local.reads  # type: ignore[no-any-return]

    # --- the hooks --------------------------------------------------------------------------------------

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self.active:
            return
        context["cost_params"] = params
        self._local.reads = []
        if model.service_model.service_name == "dynamodb" and model.name in DDB_WRITES:
            # copies: moto updates its items in place
            context["cost_before"] = [copy.deepcopy(_stored(t, key)) for t, key, _ in _targets(model.name, params)]

    def _after(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if not self.active or "cost_params" not in context:
            return
        use, service, operation = self.stages[self.stage], model.service_model.service_name, model.name
        params = context["cost_params"]
        use.calls[f"{service}.{operation}"] += 1
        if service == "dynamodb":
            if operation in DDB_WRITES:
                self._count_writes(use, operation, params, context["cost_before"])
            else:
                self._count_reads(use, operation, params, parsed)
        elif service == "sqs":
            use.sqs_requests += _sqs_requests(operation, params, parsed)

    def _count_writes(self, use: StageUse, operation: str, params: dict[str, Any], before: list[Any]) -> None:
        factor = 2 if operation == "TransactWriteItems" else 1
        for (name, key, action), old in zip(_targets(operation, params), before, strict=True):
            if action == "ConditionCheck":
                units = factor * _units(old.size() if old else 0, KB)
                use.write_units += units
                self.writes.append(Write(name, _kind(key) + " (check)", units, 0.0, 0.0, self.stage))
                continue
            new = _stored(name, key)
            if old is None and new is None:
                continue  # a delete of nothing (or a failed condition)
            table = _table(name)
            size = max(old.size() if old else 0, new.size() if new else 0)
            index_units = keys_only = 0.0
            for index in table.global_indexes:
                entries = _index_changes(index, old, new)
                for entry in entries:
                    index_units += _units(index.project(entry).size(), KB)
                    keys_only += _units(_keys_only_size(table, index, entry), KB)
            units = factor * _units(size, KB)
            use.write_units += units + index_units
            if table.stream_shard is not None:
                use.stream_records += 1
            self.writes.append(Write(name, _kind(key), units, index_units, keys_only, self.stage))

    def _count_reads(self, use: StageUse, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        mean_sizes = self._read_sizes()  # of the items a Query/Scan read, from moto (mean item size)
        if operation in ("GetItem", "BatchGetItem", "TransactGetItems"):
            for name, key, consistent in _read_targets(operation, params):
                item = _stored(name, key)
                use.items_fetched += 1
                scale = 2.0 if operation == "TransactGetItems" else (1.0 if consistent else 0.5)
                use.read_units += scale * max(1, _units(item.size() if item else 0, 4 * KB))
        elif operation in ("Query", "Scan"):
            # DynamoDB bills the items it evaluated (ScannedCount), filtered out or not
            scanned = int(parsed.get("ScannedCount", parsed.get("Count", 0)))
            use.items_read += scanned
            scale = 1.0 if params.get("ConsistentRead") else 0.5
            use.read_units += scale * max(1, _units(round(scanned * (mean_sizes[-1] if mean_sizes else 0)), 4 * KB))

    # --- what the harness reports -----------------------------------------------------------------------

    def lambda_ran(self, memory_mb: int, seconds: float) -> None:
        use = self.stages[self.stage]
        use.lambda_invocations += 1
        use.lambda_gb_seconds += memory_mb / 1024 * math.ceil(seconds * 1000) / 1000  # billed per 1 ms

    def api_request(self) -> None:
        self.stages[self.stage].api_requests += 1

    def logged(self, count: int) -> None:
        if self.active:
            self.stages[self.stage].log_bytes += count


# --- moto lookups -----------------------------------------------------------------------------------------


def _table(name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][REGION].get_table(name)


def _stored(name: str, key: dict[str, Any]) -> Any:
    """The item stored under `key` now (moto's live table: a transaction may have swapped it)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = _table(name)
    hashed = DynamoType(key[table.hash_key_attr])
    if table.range_key_attr is None:
        return table.items.get(hashed)
    return table.items.get(hashed, {}).get(DynamoType(key[table.range_key_attr]))


def _key_of(name: str, item: dict[str, Any]) -> dict[str, Any]:
    table = _table(name)
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {attribute: item[attribute] for attribute in names}


def _targets(operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(table, key, action) of every item a write operation touches."""
    if operation == "PutItem":
        return [(params["TableName"], _key_of(params["TableName"], params["Item"]), "Put")]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(params["TableName"], params["Key"], operation[:-4])]
    targets = []
    if operation == "TransactWriteItems":
        for entry in params["TransactItems"]:
            ((action, body),) = entry.items()
            key = body["Key"] if "Key" in body else _key_of(body["TableName"], body["Item"])
            targets.append((body["TableName"], key, action))
    else:  # BatchWriteItem
        for name, requests in params["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    targets.append((name, _key_of(name, request["PutRequest"]["Item"]), "Put"))
                else:
                    targets.append((name, request["DeleteRequest"]["Key"], "Delete"))
    return targets


def _read_targets(operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
    if operation == "GetItem":
        return [(params["TableName"], params["Key"], bool(params.get("ConsistentRead")))]
    if operation == "TransactGetItems":
        return [(e["Get"]["TableName"], e["Get"]["Key"], True) for e in params["TransactItems"]]
    return [
        (name, key, bool(request.get("ConsistentRead")))
        for name, request in params["RequestItems"].items()
        for key in request["Keys"]
    ]


def _index_changes(index: Any, old: Any, new: Any) -> list[Any]:
    """The index entries a change writes: none if the item is in neither image (or nothing it projects
    changed), one for an insert, update or removal, two when the index key moves."""

    def keyed(item: Any) -> tuple[Any, ...] | None:
        if item is None or any(name not in item.attrs for name in index.schema_key_attrs):
            return None
        return tuple(item.attrs[name].value for name in index.schema_key_attrs)

    before, after = keyed(old), keyed(new)
    if before is None and after is None:
        return []
    if before is not None and after is not None:
        if before != after:
            return [old, new]
        return [new] if index.project(old).to_json() != index.project(new).to_json() else []
    return [new if after is not None else old]


def _keys_only_size(table: Any, index: Any, item: Any) -> int:
    from moto.dynamodb.models.utilities import bytesize

    names = {table.hash_key_attr, table.range_key_attr, *index.schema_key_attrs} - {None}
    return sum(bytesize(name) + item.attrs[name].size() for name in names if name in item.attrs)


def _kind(key: dict[str, Any]) -> str:
    values = [str(next(iter(value.values()))) for value in key.values()]
    return "/".join(re.match(r"[A-Za-z_]*", value).group() or "(time)" for value in values)  # type: ignore[union-attr]


def _units(size: int, unit: int) -> int:
    return math.ceil(size / unit) if size else 0


def _sqs_requests(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> int:
    def payload(message: dict[str, Any]) -> int:
        body = len(str(message.get("MessageBody") or message.get("Body") or "").encode())
        attributes = message.get("MessageAttributes") or {}
        return body + sum(len(name) + len(str(value.get("StringValue", ""))) for name, value in attributes.items())

    if operation == "SendMessage":
        return max(1, math.ceil(payload(params) / SQS_CHUNK))
    if operation == "SendMessageBatch":
        return max(1, math.ceil(sum(payload(entry) for entry in params["Entries"]) / SQS_CHUNK))
    if operation == "ReceiveMessage":
        return max(1, math.ceil(sum(payload(message) for message in parsed.get("Messages", [])) / SQS_CHUNK))
    return 1
