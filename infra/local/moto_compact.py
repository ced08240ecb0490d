"""moto's storage, the same state in less memory.

Every instance of a moto model (`BaseModel`: a DynamoDB item, each version of it, each stream record,
each shard iterator, each SQS message, deleted or not) is appended to its class's `instances_tracked`
list for good, for the moto server's dashboard (`/moto-api/data.json`), so nothing moto ever built is
freed. Here that list holds its instances weakly: the dashboard shows the live ones, and what AWS has
deleted (a deleted message, an overwritten item, an expired iterator, a trimmed stream record) goes.
DynamoDB items, the most numerous, are not listed at all (a weak entry costs ~200 bytes an item, and a
Scan shows them).

Items: attribute names and short string values are shared between items.

moto parses every request's JSON afresh, so each stored item holds its own copy of every attribute name
("PK", "GSI1SK", "website_id"...) and of every short value repeated across items ("confirmed", "EUR",
a website id, a date). Interning them at the point moto builds its DynamoType values shares one string
per distinct text; the values and their types are unchanged (strings are immutable), so nothing moto
or a client sees differs. Long strings (ids, JSON payloads) are mostly distinct and stay as they are.

Items: a short scalar value (S, N, BOOL, NULL, at the top or nested in a map or list) is one DynamoType
object shared by every item that holds it. moto wraps every attribute value in a DynamoType of its own
(~100 bytes, more than most values), and most short values repeat ("1", a website id, "confirmed",
True). moto changes a stored scalar only by putting a new DynamoType in its place (SET, ADD on a number:
moto/dynamodb/parsing/executors.py); what it changes in place are maps, lists and sets, which are never
shared. The shared objects are held weakly: a value no item holds any more goes. An item's key
attributes (PK, SK) are the very DynamoTypes moto keeps as the item's key and the table's index into
its items, instead of a second copy each.

Items at rest are packed (`pack_items`, from the housekeeping loop): an item nobody has touched since the
last pass holds its attributes as one zlib-compressed marshal blob (~250 bytes for a 45-attribute
booking instead of ~3 KB of dict and DynamoType objects), and `Item.attrs` unpacks it on the first access,
under moto_dynamodb's lock, into the very dict moto would have had (same names, order, types and values;
the key attributes are the item's key objects again). So every moto path (get, put, update with nested
paths, conditions, queries, scans, transactions, stream images) works on unpacked attributes as before,
and what changes in place (update, ADD, list_append) is the unpacked dict, which the next pass packs.
What moto reads of every item of a table without wanting the item stays readable packed: the table's
index key attributes (a GSI query compares them on every item: `_indexed_query` picks the matching items
first, so only those unpack) and its TTL attribute (moto_retention.expire_items), kept as their
DynamoTypes beside the blob. The blob is compressed with a dictionary learned once from the first items
packed (their attribute names and common values), which is what makes a small item small.

SQS: every queue keeps the receipt handles of every message it ever deleted (185 characters each, one
or more per message), so that deleting one again succeeds quietly. A second delete of a handle is a
consumer's retry (botocore's, after a lost answer) within the message's visibility timeout; here a
queue remembers deleted handles for its visibility timeout, and at least RECEIPT_WINDOW_SECONDS.
"""

from __future__ import annotations

import functools
import marshal
import sys
import threading
import time
import weakref
import zlib
from collections.abc import Callable
from typing import Any

from moto.core.common_models import BaseModel
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.sqs.models import Queue

SHORT_STRING = 24  # characters: names, statuses, currencies, dates, website ids; not ids or payloads
_SCALARS = frozenset({"S", "N", "BOOL", "NULL"})  # never changed in place by moto (maps, lists, sets are)
# one table per type, keyed by the value itself (the DynamoType's own string: a key costs no more)
_shared: dict[str, weakref.WeakValueDictionary[Any, DynamoType]] = {k: weakref.WeakValueDictionary() for k in _SCALARS}
_shared_lock = threading.Lock()  # items are built inside moto's lock and outside it (request parsing)
RECEIPT_WINDOW_SECONDS = 300.0  # a retried DeleteMessage comes within seconds; the local visibility can be 1 s
_clock = time.monotonic
_originals: dict[str, Callable[..., Any]] = {}


class WeakInstances:
    """What `instances_tracked` needs of its list (append, iterate), holding the instances weakly."""

    def __init__(self, existing: Any = ()) -> None:
        self._live: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
        self._strong: list[Any] = []  # an instance that cannot be referenced weakly (__slots__)
        for instance in existing:
            self.append(instance)

    def append(self, instance: Any) -> None:
        try:
            self._live[id(instance)] = instance  # the entry goes when the instance does, before its id is reused
        except TypeError:
            self._strong.append(instance)

    def __iter__(self) -> Any:
        return iter([*self._live.values(), *self._strong])

    def __len__(self) -> int:
        return len(self._live) + len(self._strong)


def _tracked_weakly(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
    instance = super(BaseModel, cls).__new__(cls)
    tracked = cls.__dict__.get("instances_tracked")
    if not isinstance(tracked, WeakInstances):  # a new class, or moto's reset put a list back
        tracked = WeakInstances(tracked or ())
        cls.instances_tracked = tracked  # type: ignore[attr-defined]
    if not issubclass(cls, Item):  # items: ~200 bytes of weak entry each, and Scan shows them anyway
        tracked.append(instance)
    return instance


def install() -> None:
    if _originals:
        return
    _originals["BaseModel.__new__"] = BaseModel.__new__
    BaseModel.__new__ = _tracked_weakly  # type: ignore[method-assign,assignment]
    _originals["DynamoType.__init__"] = DynamoType.__init__
    _originals["Item.__init__"] = Item.__init__
    DynamoType.__init__ = _compact_value(DynamoType.__init__)  # type: ignore[method-assign]
    Item.__init__ = _compact_item(Item.__init__)  # type: ignore[method-assign]
    _originals["Queue.delete_message"] = Queue.delete_message
    Queue.delete_message = _forgetting(Queue.delete_message)  # type: ignore[method-assign,assignment]
    _originals["Table.query"] = Table.query
    Table.query = _indexed_query(Table.query)  # type: ignore[method-assign]
    # an item made by __new__ alone (moto's deepcopy) has neither until its attrs are set
    Item._attrs = Item._packed = None  # type: ignore[attr-defined]
    Item.attrs = property(_unpacked, _set_attrs)  # type: ignore[assignment,method-assign]


def uninstall() -> None:
    if _originals:
        BaseModel.__new__ = _originals.pop("BaseModel.__new__")  # type: ignore[method-assign]
        DynamoType.__init__ = _originals.pop("DynamoType.__init__")  # type: ignore[method-assign]
        Item.__init__ = _originals.pop("Item.__init__")  # type: ignore[method-assign]
        Queue.delete_message = _originals.pop("Queue.delete_message")  # type: ignore[method-assign]
        Table.query = _originals.pop("Table.query")  # type: ignore[method-assign]
        # Item.attrs stays the property: items made meanwhile keep their attributes in `_attrs`, and a
        # packed one unpacks on access as before; nothing is packed any more (pack_items)


def _compact_value(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def compact(self: DynamoType, type_as_dict: Any) -> None:
        init(self, type_as_dict)
        value = self.value
        if self.type == "S" and type(value) is str and len(value) <= SHORT_STRING:
            self.value = sys.intern(value)
        elif self.type == "M" and type(value) is dict:
            self.value = {sys.intern(k) if type(k) is str else k: v for k, v in value.items()}

    return compact


def _compact_item(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def compact(self: Item, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        attrs = list(self.attrs.items())
        dict.clear(self.attrs)
        keys = [k for k in (self.hash_key, self.range_key) if type(k) is DynamoType]
        with _shared_lock:
            for name, value in attrs:  # dict's own setitem: moto's re-checks the item's size on each insert
                value = next((k for k in keys if _same(value, k)), None) or _one_of(value)
                dict.__setitem__(self.attrs, sys.intern(name) if type(name) is str else name, value)

    return compact


def _same(value: Any, key: DynamoType) -> bool:
    """`value` is the item's key attribute, built from the very string moto built the key from."""
    return type(value) is DynamoType and value.type == key.type and value.value is key.value


def _one_of(value: Any) -> Any:
    """The shared DynamoType equal to a short scalar `value` (it, the first time); a map's or a list's
    elements replaced likewise, in place (the map or list itself stays the item's own)."""
    if type(value) is not DynamoType:
        return value
    kind, inner = value.type, value.value
    if kind in _SCALARS:
        if type(inner) is str and len(inner) > SHORT_STRING:
            return value
        try:
            return _shared[kind].setdefault(inner, value)
        except TypeError:  # an unhashable value a client sent as a scalar: moto's own business
            return value
    if kind == "M" and type(inner) is dict:
        for key, element in list(inner.items()):
            inner[key] = _one_of(element)
    elif kind == "L" and type(inner) is list:
        inner[:] = [_one_of(element) for element in inner]
    return value


class RecentReceipts:
    """What moto's `Queue.deleted_messages` set needs (`in`, `update`), each handle kept until pruned."""

    def __init__(self, existing: Any = ()) -> None:
        self._at: dict[str, float] = {}  # handle -> when it was deleted, oldest first
        self.update(existing)

    def __contains__(self, handle: object) -> bool:
        return handle in self._at

    def __len__(self) -> int:
        return len(self._at)

    def __iter__(self) -> Any:
        return iter(list(self._at))

    def update(self, handles: Any) -> None:
        now = _clock()
        for handle in handles:
            if handle is not None:
                self._at.pop(handle, None)  # to the end: the order stays by time
                self._at[handle] = now

    def prune(self, seconds: float) -> None:
        cutoff = _clock() - seconds
        while self._at:
            oldest = next(iter(self._at))
            if self._at.get(oldest, cutoff) >= cutoff:
                return
            self._at.pop(oldest, None)  # another thread may have taken it already


def _forgetting(delete: Callable[[Queue, str], None]) -> Callable[[Queue, str], None]:
    @functools.wraps(delete)
    def run(self: Queue, receipt_handle: str) -> None:
        receipts: Any = self.deleted_messages
        if not isinstance(receipts, RecentReceipts):
            receipts = self.deleted_messages = RecentReceipts(receipts)  # type: ignore[assignment]
        delete(self, receipt_handle)
        visibility = float(getattr(self, "visibility_timeout", 0) or 0)
        receipts.prune(max(RECEIPT_WINDOW_SECONDS, visibility))

    return run


# --- items at rest, packed ------------------------------------------------------------------------------

# What the compression dictionary is learned from: the same ~340 bytes a booking item as with zlib's
# whole 32 KB window, at a third of the cost per item (zlib reads the dictionary for every blob)
ZDICT_SAMPLE_BYTES = 8 * 1024
_RAW, _ZLIB, _ZLIB_ZDICT = 0, 1, 2  # how a packed item's blob is stored
_HASH_KEY, _RANGE_KEY, _VIEWED = 0, 1, 2  # markers in a packed item for what is kept outside the blob
_zdict: bytes | None = None  # learned once (every blob packed with it needs it for good)
_lock_holder: list[Any] = []  # moto_dynamodb's lock, set at the first pack (that module imports this one)


# An item's attributes at rest, one tuple: (blob, how it is stored (_RAW...), the names kept beside the
# blob (a frozenset shared by a table's items), then name, DynamoType, name, DynamoType... of those present)
_Packed = tuple[Any, ...]
_VIEW_AT = 3


def _lock() -> Any:
    if not _lock_holder:
        from infra.local import moto_dynamodb

        _lock_holder.append(moto_dynamodb._lock)
    return _lock_holder[0]


# Plain attributes of the item (not its __dict__: reading that makes CPython build a dict per item)
def _unpacked(self: Any) -> Any:
    attrs = self._attrs
    if attrs is not None:
        return attrs
    with _lock():  # one unpack, never interleaved with a pass packing it or a write to it
        attrs = self._attrs
        if attrs is None:
            if self._packed is None:
                raise AttributeError("attrs")
            attrs = self._attrs = _unpack(self, self._packed)
            self._packed = None
        return attrs


def _set_attrs(self: Any, attrs: Any) -> None:
    self._attrs, self._packed = attrs, None


def peek(item: Any, name: str) -> DynamoType | None:
    """`item.attrs.get(name)`, without unpacking the item when `name` is kept beside its blob."""
    packed = item._packed
    if packed is not None and name in packed[2]:
        for at in range(_VIEW_AT, len(packed), 2):
            if packed[at] == name:
                return packed[at + 1]  # type: ignore[no-any-return]
        return None
    return item.attrs.get(name)  # type: ignore[no-any-return]


def attributes(item: Any) -> Any:
    """`item.attrs` for a look (a bench's, a dashboard's), leaving a packed item packed."""
    packed = item._packed
    return _unpack(item, packed) if packed is not None and item._attrs is None else item.attrs


def viewed_names(table: Table) -> frozenset[str]:
    """What moto (and expire_items) read of every item of `table`: its index keys and its TTL attribute."""
    names = {key["AttributeName"] for index in table.all_indexes() for key in index.schema}
    if table.ttl.get("TimeToLiveStatus") == "ENABLED" and table.ttl.get("AttributeName"):
        names.add(table.ttl["AttributeName"])
    return frozenset(names)


def pack_items(table: Table, *, chunk: int = 100) -> int:
    """Pack every unpacked item of `table`; returns how many were packed. Under moto_dynamodb's lock, a
    chunk of items at a time, each item's attributes become an uncompressed blob; they are compressed
    outside the lock and swapped in under it for each item nobody unpacked meanwhile (the lock is held
    for the encoding only: ~50 us an item, not the compression's ~100 us)."""
    if not _originals:
        return 0
    viewed, packed = viewed_names(table), 0
    with _lock():
        groups = list(table.items.values())
    hot: list[Any] = [
        item
        for group in groups
        for item in (group.values() if isinstance(group, dict) else (group,))
        if item._attrs is not None
    ]
    for start in range(0, len(hot), chunk):
        staged: list[tuple[Any, _Packed]] = []
        with _lock():  # a write between chunks unpacks (or replaces) its item: packed next pass
            for item in hot[start : start + chunk]:
                raw = _encode_item(item, viewed) if item._attrs is not None else None
                if raw is not None:
                    item._packed = (raw[0], _RAW, viewed, *raw[1])
                    item._attrs = None
                    staged.append((item, item._packed))
        _learn([raw[0] for _, raw in staged])
        compressed = [(*_compress(raw[0]), *raw[2:]) for _, raw in staged]
        with _lock():
            for (item, raw), smaller in zip(staged, compressed, strict=True):
                if item._packed is raw:  # still as staged: not unpacked (and maybe changed) meanwhile
                    item._packed = smaller
        packed += len(staged)
    return packed


def _encode_item(item: Any, viewed: frozenset[str]) -> tuple[bytes, list[Any]] | None:
    """(marshal blob, [name, value, ...] kept beside it) of `item`'s attributes, in order; None if a
    value cannot be packed."""
    rows: list[Any] = []
    view: list[Any] = []
    try:
        for name, value in item._attrs.items():
            if value is item.hash_key:
                rows.append((name, _HASH_KEY))
            elif value is item.range_key:
                rows.append((name, _RANGE_KEY))
            elif name in viewed and type(value) is DynamoType:
                view += (name, value)
                rows.append((name, _VIEWED))
            else:
                rows.append((name, _encode(value)))
        return marshal.dumps(rows), view
    except (ValueError, TypeError, AttributeError):  # a value marshal cannot hold: the item stays as it is
        return None


def _encode(value: DynamoType) -> tuple[str, Any]:
    if type(value) is not DynamoType:
        raise TypeError(type(value).__name__)
    kind, inner = value.type, value.value
    if kind == "M" and type(inner) is dict:
        return kind, {name: _encode(element) for name, element in inner.items()}
    if kind == "L" and type(inner) is list:
        return kind, [_encode(element) for element in inner]
    return kind, inner


def _unpack(item: Item, packed: _Packed) -> LimitedSizeDict:
    blob, how = packed[0], packed[1]
    if how == _ZLIB_ZDICT:
        raw = zlib.decompressobj(zdict=_zdict).decompress(blob)  # type: ignore[arg-type]
    else:
        raw = zlib.decompress(blob) if how == _ZLIB else blob
    view = dict(zip(packed[_VIEW_AT::2], packed[_VIEW_AT + 1 :: 2], strict=True))
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(attrs)
    value: DynamoType | None
    for name, encoded in marshal.loads(raw):  # noqa: S302  (blobs this module made, never a client's bytes)
        if encoded == _HASH_KEY and type(encoded) is int:
            value = item.hash_key
        elif encoded == _RANGE_KEY and type(encoded) is int:
            value = item.range_key
        elif encoded == _VIEWED and type(encoded) is int:
            value = view[name]
        else:
            value = _decode(encoded)
        dict.__setitem__(attrs, name, value)  # moto's own setitem re-checks the item's size on each insert
    return attrs


def _decode(encoded: tuple[str, Any]) -> DynamoType:
    kind, inner = encoded
    value = object.__new__(DynamoType)
    value.type = kind
    if kind == "M":
        value.value = {name: _decode(element) for name, element in inner.items()}
    elif kind == "L":
        value.value = [_decode(element) for element in inner]
    else:
        value.value = inner
    return value


def _learn(blobs: list[bytes]) -> None:
    """The compression dictionary, once there is a window's worth of packed items to learn it from."""
    global _zdict
    if _zdict is None and sum(map(len, blobs)) >= ZDICT_SAMPLE_BYTES:
        _zdict = b"".join(blobs)[-ZDICT_SAMPLE_BYTES:]


def _compress(blob: bytes) -> tuple[bytes, int]:
    if _zdict is None:
        return zlib.compress(blob, 1), _ZLIB
    compressor = zlib.compressobj(1, zdict=_zdict)
    return compressor.compress(blob) + compressor.flush(), _ZLIB_ZDICT


def _indexed_query(query: Callable[..., Any]) -> Callable[..., Any]:
    """moto's Table.query; for an index, over only the items whose index hash keys match (read packed),
    instead of every item of the table (moto reads each one's attributes: each would unpack)."""

    @functools.wraps(query)
    def run(self: Table, *args: Any, **kwargs: Any) -> Any:
        index_name = args[7] if len(args) > 7 else kwargs.get("index_name")
        conditions = kwargs.get("hash_key_conditions") or []
        if not index_name or not conditions:
            return query(self, *args, **kwargs)
        with _lock():
            every = Table.all_items(self)
            matching = [
                item
                for item in every
                if isinstance(item, Item) and all(_equal(peek(item, name), value) for name, value in conditions)
            ]
            # this call's candidates, under the lock (every other reader of all_items holds it too)
            self.all_items = lambda: matching  # type: ignore[method-assign]
            try:
                return query(self, *args, **kwargs)
            finally:
                del self.all_items

    return run


def _equal(value: DynamoType | None, expected: DynamoType) -> bool:
    return value is not None and value == expected
