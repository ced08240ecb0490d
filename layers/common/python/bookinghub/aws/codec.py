"""DynamoDB attribute values <-> Python values, for the few types the hub stores. No boto3 here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def to_attr(value: Any) -> dict[str, Any]:
    """One Python value -> DynamoDB attribute value.

    A direct type switch for the few types the hub stores; boto3's TypeSerializer handles every
    DynamoDB type generically and costs ~1 ms per booking write, the largest share of our CPU. The exact
    types first (one lookup each; a booking is mostly str and int), then their subclasses.
    """
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int:
        return {"N": str(value)}
    if kind is bool:
        return {"BOOL": value}
    if kind is dict:
        return {"M": to_item(value)}  # (its str and int values inline, None dropped)
    if kind is list:
        return {"L": [to_attr(v) for v in value]}
    return _to_attr_other(value)


def _to_attr_other(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):  # before int: bool is an int
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"N": repr(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, dict):
        return {"M": to_item(value)}
    if isinstance(value, list | tuple):
        return {"L": [to_attr(v) for v in value]}
    if isinstance(value, bytes):
        return {"B": value}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """Python dict -> DynamoDB attribute map; None values are dropped (absent attribute)."""
    # to_attr's two commonest cases inline: an item is mostly str and int values, and a call per value
    # was most of a booking write's codec time
    item: dict[str, Any] = {}
    for key, value in data.items():
        kind = type(value)
        if kind is str:
            item[key] = {"S": value}
        elif kind is int:
            item[key] = {"N": str(value)}
        elif value is not None:
            item[key] = to_attr(value)
    return item


def from_attr(attr: dict[str, Any]) -> Any:
    """One DynamoDB attribute value -> Python; numbers become int when integral, else float."""
    ((kind, value),) = attr.items()
    if kind == "S" or kind == "B":
        return value
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind in ("SS", "BS"):
        return set(value)
    if kind == "NS":
        return {from_attr({"N": v}) for v in value}
    raise TypeError(f"unknown DynamoDB type {kind}")


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in item.items()}
