"""moto's items, the same values in less memory: attribute names and short string values shared.

moto parses every request's JSON afresh, so each stored item holds its own copy of every attribute name
("PK", "GSI1SK", "website_id"...) and of every short value repeated across items ("confirmed", "EUR",
a website id, a date). Interning them at the point moto builds its DynamoType values shares one string
per distinct text; the values and their types are unchanged (strings are immutable), so nothing moto
or a client sees differs. Long strings (ids, JSON payloads) are mostly distinct and stay as they are.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item

SHORT_STRING = 24  # characters: names, statuses, currencies, dates, website ids; not ids or payloads
_originals: dict[str, Callable[..., Any]] = {}


def install() -> None:
    if _originals:
        return
    _originals["DynamoType.__init__"] = DynamoType.__init__
    _originals["Item.__init__"] = Item.__init__
    DynamoType.__init__ = _compact_value(DynamoType.__init__)  # type: ignore[method-assign]
    Item.__init__ = _compact_item(Item.__init__)  # type: ignore[method-assign]


def uninstall() -> None:
    if _originals:
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
