"""moto's storage, the same state in less memory.

Every instance of a moto model (`BaseModel`: a DynamoDB item, each version of it, each stream record,
each shard iterator, each SQS message, deleted or not) is appended to its class's `instances_tracked`
list for good, for the moto server's dashboard (`/moto-api/data.json`), so nothing moto ever built is
freed. Here that list holds its instances weakly: the dashboard shows the live ones, and what AWS has
deleted (a deleted message, an overwritten item, an expired iterator, a trimmed stream record) goes.

Items: attribute names and short string values are shared between items.

moto parses every request's JSON afresh, so each stored item holds its own copy of every attribute name
("PK", "GSI1SK", "website_id"...) and of every short value repeated across items ("confirmed", "EUR",
a website id, a date). Interning them at the point moto builds its DynamoType values shares one string
per distinct text; the values and their types are unchanged (strings are immutable), so nothing moto
or a client sees differs. Long strings (ids, JSON payloads) are mostly distinct and stay as they are.
"""

from __future__ import annotations

import functools
import sys
import weakref
from collections.abc import Callable
from typing import Any

from moto.core.common_models import BaseModel
from moto.dynamodb.models.dynamo_type import DynamoType, Item

SHORT_STRING = 24  # characters: names, statuses, currencies, dates, website ids; not ids or payloads
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


def uninstall() -> None:
    if _originals:
        BaseModel.__new__ = _originals.pop("BaseModel.__new__")  # type: ignore[method-assign]
        DynamoType.__init__ = _originals.pop("DynamoType.__init__")  # type: ignore[method-assign]
        Item.__init__ = _originals.pop("Item.__init__")  # type: ignore[method-assign]


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
        for name, value in attrs:  # dict's own setitem: moto's re-checks the item's size on each insert
            dict.__setitem__(self.attrs, sys.intern(name) if type(name) is str else name, value)

    return compact
