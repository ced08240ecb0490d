"""The per-column merge rule (bookings.logic.field_order): which columns of a change still apply."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bookinghub.bookings.logic.field_order import UNORDERED, _digits, merge_fields, order_key, stored_field_key
from bookinghub.core.clock import to_iso

V1, V2, V3 = (order_key(v, "") for v in (1, 2, 3))
# Created at v1, then cancelled at v3 (status and its reason carry v3's key)
STORED: dict[str, Any] = {
    "order_key": V1,
    "status": "cancelled",
    "order_key#status": V3,
    "cancellation_reason": "flight change",
    "order_key#cancellation_reason": V3,
    "guest_count": 2,
    "time_slot": "10:00",
}


def test_an_older_change_still_sets_the_columns_no_newer_change_set() -> None:
    merge = merge_fields(STORED, {"status": "confirmed", "guest_count": 3, "time_slot": "14:00"}, V2)

    assert merge.applied == {"guest_count": 3, "time_slot": "14:00"}
    assert merge.stale == ("status",)
    assert merge.same == ()


def test_a_newer_change_sets_every_column() -> None:
    merge = merge_fields(STORED, {"status": "confirmed", "guest_count": 4}, order_key(4, ""))

    assert merge.applied == {"status": "confirmed", "guest_count": 4}
    assert merge.stale == ()


def test_a_column_without_its_own_key_takes_the_bookings_key() -> None:
    """Bookings stored before per-column keys carry only `order_key`: it stands for every column."""
    legacy = {"order_key": V2, "guest_count": 2, "status": "confirmed"}

    assert stored_field_key(legacy, "guest_count") == V2
    assert merge_fields(legacy, {"guest_count": 5}, V1).stale == ("guest_count",)
    assert merge_fields(legacy, {"guest_count": 5}, V3).applied == {"guest_count": 5}


def test_a_booking_without_any_key_ranks_below_every_ordered_change() -> None:
    assert stored_field_key({}, "guest_count") == UNORDERED
    assert merge_fields({"guest_count": 2}, {"guest_count": 5}, V1).applied == {"guest_count": 5}


def test_same_key_and_value_is_the_same_change_again_and_a_different_value_wins() -> None:
    merge = merge_fields(STORED, {"status": "cancelled", "cancellation_reason": "other reason"}, V3)

    assert merge.same == ("status",)
    assert merge.applied == {"cancellation_reason": "other reason"}
    assert merge.stale == ()


def test_a_change_without_order_applies_in_arrival_order() -> None:
    merge = merge_fields(STORED, {"status": "confirmed", "guest_count": 3}, None)

    assert merge.applied == {"status": "confirmed", "guest_count": 3}
    assert (merge.stale, merge.same) == ((), ())


def test_stale_and_same_columns_are_sorted_names() -> None:
    merge = merge_fields(STORED, {"status": "confirmed", "cancellation_reason": "x"}, V2)

    assert merge.stale == ("cancellation_reason", "status")
    assert merge.applied == {}


def test_a_change_never_writes_the_hubs_own_attributes_as_columns() -> None:
    """The bookings dal's column filter: the hub's attributes and per-column order keys are dropped whatever
    the path (none present: a copy of every column; any present: only the columns)."""
    from bookinghub.bookings.dal.bookings import _RESERVED, _columns, field_key_attribute

    columns = {"customer_name": "Ann", "guest_count": 2, "status": "confirmed"}
    plain = _columns(columns)
    assert plain == columns
    assert plain is not columns
    for intruder in [*sorted(_RESERVED), field_key_attribute("status")]:
        assert _columns({**columns, intruder: "x"}) == columns
    assert _columns({**columns, "odd#name": 1}) == {**columns, "odd#name": 1}  # a "#" alone is no order key


@settings(max_examples=300)
@given(st.one_of(st.text(), st.datetimes(timezones=st.just(UTC)).map(to_iso)))
def test_an_order_keys_digits_are_the_texts_ascii_digits(moment: str) -> None:
    # The fast path (to_iso's punctuation deleted) and the regex agree on any text
    assert _digits(moment) == re.sub(r"[^0-9]", "", moment)
