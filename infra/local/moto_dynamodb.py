"""DynamoDB transactions with AWS's semantics in moto, at a cost that does not grow with the table.

moto 5.2.1's `DynamoDBBackend.transact_write_items` deep-copies every touched table, applies the actions
one by one (each emitting its stream record) and, when a condition fails, swaps the copies in. So a
cancelled transaction leaves stream records of writes that never happened on a table object nobody reads
any more, anything holding the old object (a shard iterator) stops seeing new records, and every
transaction costs a copy of the whole table. `install()` replaces it with AWS's order of work:

1. validate the request (one operation per action, one action per item, the table and the key exist):
   a ValidationException / ResourceNotFoundException, nothing written;
2. check every condition against the live items: any failure cancels the transaction with a reason per
   action ("None" for the others; the item when ReturnValuesOnConditionCheckFailure is ALL_OLD), and
   nothing is written or streamed;
3. apply the writes through moto's own put/update/delete, so stream records and indexes are moto's. A
   write moto rejects here (an update expression that does not fit the item, an item too large) undoes
   the ones before it, item by item and stream record by stream record, and cancels with
   ValidationError, as AWS does.

All of it, and moto's single-item writes and reads, run under one lock: a transaction is isolated from
the other requests of the threaded moto server, as AWS serializes a transaction with GetItem and with
other writes to its items. Used by the local runtime (`make run`) and by the in-process tests.

ClientRequestToken: botocore puts one on every TransactWriteItems and sends the same on its retries; AWS
applies a token's transaction once within 10 minutes and answers a repeat as the success it was (so a
retry after a lost response finds its own write done, not a failed condition). moto ignores the token;
here a repeat of a succeeded token is answered as success without writing again, and the same token
with other parameters is IdempotentParameterMismatchException, as in AWS.

Streams: moto keeps every shard iterator it hands out, one more per GetRecords, for good (a stream
poller leaked ~2 KB per poll); `install()` puts AWS's stateless, 15-minute tokens in their place
(moto_streams.py). A position before a trimmed stream's horizon answers TrimmedDataAccessException
(moto_retention.py); `install()` also installs moto_compact.py's savings and moto_fastpath.py's
cheaper parsing, copies and serialising.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from moto.core.responses import ActionResult
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ERROR_TYPE_PREFIX,
    ConditionalCheckFailed,
    DynamodbException,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.models import DynamoDBStreamsBackend

_OPERATIONS = ("ConditionCheck", "Put", "Delete", "Update")
_CONDITION_FAILED = "The conditional request failed"
_lock = threading.RLock()
_originals: dict[str, Callable[..., Any]] = {}
# moto's single-item operations that must not interleave with a transaction
_SERIALIZED = (
    *("put_item", "update_item", "delete_item", "batch_write_item"),
    # reads too: moto iterates dicts a concurrent write would change under it
    *("get_item", "batch_get_item", "transact_get_items", "query", "scan"),
)

TOKEN_LIFETIME_SECONDS = 10 * 60  # AWS: a client request token is valid 10 minutes after its request completed
_clock = time.monotonic
# (account, region, token) -> (a digest of the request's other parameters, when it completed), oldest first
_tokens: dict[tuple[str, str, str], tuple[bytes, float]] = {}

F = TypeVar("F", bound=Callable[..., Any])
Reason = tuple[str, str, dict[str, Any] | None] | tuple[None, None, None]


@dataclass
class _Action:
    kind: str
    op: dict[str, Any]
    table: Table
    key: dict[str, Any]  # the key attributes as sent
    hash_key: DynamoType
    range_key: DynamoType | None


def install() -> None:
    """Patch moto's DynamoDB backend (idempotent; affects mock_aws and the moto server alike)."""
    with _lock:
        if _originals:
            return
        _originals["transact_write_items"] = DynamoDBBackend.transact_write_items
        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        for name in _SERIALIZED:
            _originals[name] = getattr(DynamoDBBackend, name)
            setattr(DynamoDBBackend, name, _serialized(_originals[name]))
        _originals["responses.transact_write_items"] = DynamoHandler.transact_write_items
        DynamoHandler.transact_write_items = _idempotent(DynamoHandler.transact_write_items)  # type: ignore[method-assign,assignment]
        from infra.local import moto_compact, moto_streams

        _originals["streams.get_shard_iterator"] = DynamoDBStreamsBackend.get_shard_iterator
        _originals["streams.get_records"] = DynamoDBStreamsBackend.get_records
        DynamoDBStreamsBackend.get_shard_iterator = moto_streams.get_shard_iterator  # type: ignore[method-assign,assignment]
        DynamoDBStreamsBackend.get_records = moto_streams.get_records  # type: ignore[method-assign]
        from infra.local.moto_retention import horizon_checked  # it builds on this module's lock

        moto_compact.install()  # items' attribute names and short values shared between items
        from infra.local import moto_fastpath

        try:
            moto_fastpath.install()  # the same answers at less CPU per call (parse cache, cheaper copies)
        except moto_fastpath.MotoVersionMismatch as mismatch:  # moto's own code runs; a unit test fails
            warnings.warn(str(mismatch), stacklevel=2)

        _originals["shard.get"] = StreamShard.get
        StreamShard.get = horizon_checked(StreamShard.get)  # type: ignore[method-assign]


def uninstall() -> None:
    """Put moto's own methods back (tests of the unpatched behaviour)."""
    with _lock:
        for name, original in _originals.items():
            owner, _, attribute = name.rpartition(".")
            classes = {
                "": DynamoDBBackend,
                "streams": DynamoDBStreamsBackend,
                "responses": DynamoHandler,
                "shard": StreamShard,
            }
            setattr(classes[owner], attribute, original)
        _originals.clear()
        _tokens.clear()
        from infra.local import moto_compact

        moto_compact.uninstall()
        from infra.local import moto_fastpath

        moto_fastpath.uninstall()


def installed() -> bool:
    return bool(_originals)


def _serialized(method: F) -> F:
    @functools.wraps(method)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    return run  # type: ignore[return-value]


class IdempotentParameterMismatch(DynamodbException):
    def __init__(self) -> None:
        message = "One or more parameter values were invalid: the client request token was used with other parameters"
        super().__init__(ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException", message)


def _idempotent(method: Callable[[DynamoHandler], ActionResult]) -> Callable[[DynamoHandler], ActionResult]:
    @functools.wraps(method)
    def run(self: DynamoHandler) -> ActionResult:
        token = self.body.get("ClientRequestToken")
        if not token:
            return method(self)
        key = (self.current_account, self.region, str(token))
        # a digest of the other parameters, not their text: a sync's transaction is ~10 KB, kept 10 minutes
        text = json.dumps({k: v for k, v in self.body.items() if k != "ClientRequestToken"}, sort_keys=True)
        parameters = hashlib.sha256(text.encode()).digest()
        with _lock:
            now = _clock()
            while _tokens and now - next(iter(_tokens.values()))[1] > TOKEN_LIFETIME_SECONDS:
                del _tokens[next(iter(_tokens))]
            if key in _tokens:
                if _tokens[key][0] != parameters:
                    raise IdempotentParameterMismatch()
                return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})  # moto's success answer
            result = method(self)  # a cancelled or invalid transaction raises: its token is not kept
            _tokens[key] = (parameters, _clock())
            return result

    return run


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _lock:
        actions = _parse(self, transact_items)
        reasons = [_check(action) for action in actions]
        if any(code is not None for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        _apply(self, actions)


def _parse(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[_Action]:
    actions: list[_Action] = []
    targets: set[tuple[str, DynamoType, DynamoType | None]] = set()
    for entry in transact_items:
        if len(entry) != 1:
            raise TransactWriteSingleOpException()
        ((kind, op),) = entry.items()
        if kind not in _OPERATIONS:
            raise MockValidationException(f"Unsupported transaction operation {kind}")
        table = backend.get_table(op["TableName"])  # ResourceNotFoundException, as in AWS
        key = op["Item"] if kind == "Put" else op["Key"]
        hash_key, range_key = backend.get_keys_value(table, key)  # a missing key attribute: ValidationException
        if kind == "Put":
            key = {name: key[name] for name in (table.hash_key_attr, table.range_key_attr) if name is not None}
        target = (table.name, hash_key, range_key)
        if target in targets:
            raise MultipleTransactionsException()
        targets.add(target)
        actions.append(_Action(kind, op, table, key, hash_key, range_key))
    return actions


def _check(action: _Action) -> Reason:
    """The action's cancellation reason against the live item: (None, None, None) when it passes."""
    op = action.op
    current = action.table.get_item(action.hash_key, action.range_key)
    try:
        condition = get_filter_expression(
            op.get("ConditionExpression"), op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        )
        passed = condition.expr(current)
    except MockValidationException:
        raise
    except Exception as error:  # an expression moto cannot evaluate on this item: as moto reports it
        return type(error).__name__, str(error), None
    if passed:
        return None, None, None
    wants_item = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    old = current.to_json()["Attributes"] if wants_item and current is not None else None
    return "ConditionalCheckFailed", _CONDITION_FAILED, old


def _apply(backend: DynamoDBBackend, actions: list[_Action]) -> None:
    # What to put back if moto rejects a write half-way: the items as they were (a copy of an item an
    # update changes in place, moto's own update does the same) and each stream's length.
    undo: list[tuple[_Action, Item | None]] = []
    stream_lengths: dict[str, int] = {}
    for index, action in enumerate(actions):
        if action.kind == "ConditionCheck":
            continue
        table, op = action.table, action.op
        if table.stream_shard is not None:
            stream_lengths.setdefault(table.name, len(table.stream_shard.items))
        current = table.get_item(action.hash_key, action.range_key)
        undo.append((action, copy.deepcopy(current) if action.kind == "Update" else current))
        try:
            if action.kind == "Put":
                backend.put_item(table.name, op["Item"])
            elif action.kind == "Delete":
                backend.delete_item(table.name, action.key)
            else:
                backend.update_item(
                    table.name,
                    action.key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=op.get("ExpressionAttributeNames"),  # type: ignore[arg-type]
                    expression_attribute_values=op.get("ExpressionAttributeValues"),  # type: ignore[arg-type]
                )
        except (ConditionalCheckFailed, MockValidationException) as error:
            _undo(undo, stream_lengths)
            code = "ConditionalCheckFailed" if isinstance(error, ConditionalCheckFailed) else "ValidationError"
            reasons: list[Reason] = [(None, None, None)] * len(actions)
            reasons[index] = (code, error.message, None)
            raise TransactionCanceledException(reasons) from error
        except BaseException:
            _undo(undo, stream_lengths)
            raise


def _undo(undo: list[tuple[_Action, Item | None]], stream_lengths: dict[str, int]) -> None:
    for action, item in reversed(undo):
        items = action.table.items
        if action.range_key is not None:
            if item is None:
                items[action.hash_key].pop(action.range_key, None)
            else:
                items[action.hash_key][action.range_key] = item
        elif item is None:
            items.pop(action.hash_key, None)
        else:
            items[action.hash_key] = item  # type: ignore[assignment]  # moto's own typing of Table.items
    tables = {action.table.name: action.table for action, _ in undo}
    for name, length in stream_lengths.items():
        shard = tables[name].stream_shard
        if shard is not None and len(shard.items) >= length:  # moto empties it after a Lambda mapping sent it
            del shard.items[length:]


if __name__ == "__main__":
    # moto's standalone server with these transactions: `python -m infra.local.moto_dynamodb -p 5000`
    # (the benchmarks run moto in a process of their own, as DynamoDB is remote from a Lambda)
    import sys

    from moto.server import main

    install()
    main(sys.argv[1:])
