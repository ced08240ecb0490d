"""Per-field ordering of inbound changes: which fields of a change are newer than what is stored.

Each booking column keeps the order key of the change that last set it (attribute `order_key#<column>`),
so a partial change is judged only on the columns it carries: an older change still sets a column that no
newer change touched. A column without its own key takes the booking's `order_key`: the key of the change
that created the booking, or, on bookings stored before per-field keys, the key of the last whole change.

Why per column and not per group of columns (dates, guests...): sources send partial changes, so two
changes of one group may carry different columns of it (one the date, a later one the time slot); a group
key would drop the older one's column even though no newer change set it, and the end state would depend
on the arrival order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bookinghub.bookings.dal.bookings import field_key_attribute

# The order key of a change that carries no ordering information: below every ordered change.
UNORDERED = "00|"
_NON_DIGITS = re.compile(r"[^0-9]")


def order_key(version: int, moment: str) -> str:
    """Sortable text, short (one is stored per column): the version, length-prefixed so 10 sorts above 9,
    then the change time (UTC ISO, as core.clock.to_iso writes it) as its digits without trailing zeros
    (fixed-width digits stripped of trailing zeros keep their order)."""
    digits = str(version)
    return f"{len(digits) - 1:x}{digits}|{_digits(moment).rstrip('0')}"


# The characters of to_iso's text other than its digits
_ISO_PUNCTUATION = str.maketrans("", "", "-:.TZ")


def _digits(moment: str) -> str:
    """The ASCII digits of `moment`, in order. Deleting to_iso's five other characters costs a third of a
    regex pass (most of a sync's order key); any other text takes the regex."""
    digits = moment.translate(_ISO_PUNCTUATION)
    if digits.isascii() and digits.isdigit():
        return digits
    return _NON_DIGITS.sub("", moment)


def stored_field_key(stored: dict[str, Any], column: str) -> str:
    """The order key of the change that last set `column` (the booking's own key if none did since)."""
    key = stored.get(field_key_attribute(column)) or stored.get("order_key") or UNORDERED
    return str(key)


@dataclass(frozen=True)
class FieldMerge:
    applied: dict[str, Any]  # columns to write
    stale: tuple[str, ...]  # columns a newer change already set
    same: tuple[str, ...]  # columns this very change (same order key, same value) already set


def merge_fields(stored: dict[str, Any], fields: dict[str, Any], order_key: str | None) -> FieldMerge:
    """Split a change's columns by the stored per-column order keys.

    A column applies when the change's key is newer than the column's key, or equal with a different
    value (two changes with one key: the later arrival wins, as it always has). An equal key and value is
    the same change seen again: nothing to write. A change without an order key (`None`) has no order of
    its own and applies in arrival order.
    """
    if order_key is None:
        return FieldMerge(applied=dict(fields), stale=(), same=())
    applied: dict[str, Any] = {}
    stale: list[str] = []
    same: list[str] = []
    for column, value in fields.items():
        current = stored_field_key(stored, column)
        if current > order_key:
            stale.append(column)
        elif current == order_key and stored.get(column) == value:
            same.append(column)
        else:
            applied[column] = value
    return FieldMerge(applied=applied, stale=tuple(sorted(stale)), same=tuple(sorted(same)))
