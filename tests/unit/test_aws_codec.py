"""The item codec's type switch: exact types on the fast path, subclasses and the rest as before."""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum, StrEnum

import pytest

from bookinghub.aws.codec import from_item, to_attr, to_item


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


def test_every_stored_type_has_its_attribute() -> None:
    assert to_attr("x") == {"S": "x"}
    assert to_attr(3) == {"N": "3"}
    assert to_attr(True) == {"BOOL": True}  # not a number, though bool is an int
    assert to_attr(Decimal("1.50")) == {"N": "1.50"}
    assert to_attr(0.25) == {"N": "0.25"}
    assert to_attr(None) == {"NULL": True}
    assert to_attr(b"\x00") == {"B": b"\x00"}
    assert to_attr((1, "a")) == {"L": [{"N": "1"}, {"S": "a"}]}
    assert to_attr({"a": 1, "gone": None, "m": {"b": [False]}}) == {
        "M": {"a": {"N": "1"}, "m": {"M": {"b": {"L": [{"BOOL": False}]}}}}
    }
    assert to_attr(Colour.RED)["S"] == Colour.RED  # a str subclass stays a string value
    assert to_attr(Level.HIGH) == {"N": "3"}
    with pytest.raises(TypeError):
        to_attr(object())


def test_an_item_round_trips() -> None:
    item = {"PK": "B#1", "n": 2, "f": 0.5, "ok": False, "tags": ["a"], "nested": {"x": 1}, "none": None}
    assert from_item(to_item(item)) == {k: v for k, v in item.items() if v is not None}


def test_an_item_is_encoded_value_by_value_as_to_attr_does() -> None:
    item = {"s": "x", "n": 7, "b": True, "sub": Colour.RED, "lvl": Level.HIGH, "l": [1], "m": {"a": "b"}, "no": None}
    assert to_item(item) == {k: to_attr(v) for k, v in item.items() if v is not None}
