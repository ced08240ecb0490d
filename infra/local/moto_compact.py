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

SQS: every queue keeps the receipt handles of every message it ever deleted (185 characters each, one
or more per message), so that deleting one again succeeds quietly. A second delete of a handle is a
consumer's retry (botocore's, after a lost answer) within the message's visibility timeout; here a
queue remembers deleted handles for its visibility timeout, and at least RECEIPT_WINDOW_SECONDS.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from moto.core.common_models import BaseModel
from moto.dynamodb.models.dynamo_type import DynamoType, Item
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


def uninstall() -> None:
    if _originals:
        BaseModel.__new__ = _originals.pop("BaseModel.__new__")  # type: ignore[method-assign]
        DynamoType.__init__ = _originals.pop("DynamoType.__init__")  # type: ignore[method-assign]
        Item.__init__ = _originals.pop("Item.__init__")  # type: ignore[method-assign]
        Queue.delete_message = _originals.pop("Queue.delete_message")  # type: ignore[method-assign]


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
