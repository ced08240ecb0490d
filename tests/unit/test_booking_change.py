"""BookingChange.of: the instance the dataclass's own constructor builds, without its per-field setattr."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bookinghub.bookings.dal.bookings import BookingChange, MarkersWrite


def every_field() -> dict[str, Any]:
    return {
        "booking_id": "b-1",
        "website_id": "w-1",
        "organisation_id": "o-1",
        "source_booking_id": "s-1",
        "fields": {"status": "confirmed"},
        "payload_hash": "h",
        "order_key": "00|",
        "ordered": False,
        "now": "2026-02-20T10:30:00.000000Z",
        "event_type": "booking.created",
        "origin": "website:w-1",
        "defaults": {"currency": "THB"},
        "ties_apply": True,
        "markers": MarkersWrite(read=None, new={"status": {}}),
        "extra_items": ({"Put": {}},),
        "held": ("status",),
    }


def test_of_builds_the_constructors_instance() -> None:
    values = every_field()
    assert set(values) == {f.name for f in dataclasses.fields(BookingChange)}  # (a field added: add it here)
    fast, built = BookingChange.of(**values), BookingChange(**values)
    assert type(fast) is BookingChange
    assert fast == built
    assert repr(fast) == repr(built)
    assert vars(fast) == vars(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.booking_id = "other"  # type: ignore[misc]


def test_of_without_every_field_is_the_constructor_with_its_defaults_and_errors() -> None:
    values = every_field()
    for name in ("defaults", "ties_apply", "markers", "extra_items", "held"):
        del values[name]
    assert BookingChange.of(**values) == BookingChange(**values)
    del values["now"]
    with pytest.raises(TypeError, match="now"):
        BookingChange.of(**values)
    with pytest.raises(TypeError, match="unexpected"):
        BookingChange.of(**every_field(), unexpected=1)
