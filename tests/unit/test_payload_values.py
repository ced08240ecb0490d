"""bookings/dal/payload_values.py: a creation's columns as attribute values, in one pass, are exactly what
the codec writes of `booking_fields()` (the reference), for any payload the model accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookinghub.aws.codec import to_item
from bookinghub.bookings.dal import bookings as booking_store
from bookinghub.bookings.dal.payload_values import column_values, text_of
from bookinghub.bookings.models.sync import BookingSyncRequest, parse_sync_request
from tests.conftest import load_event

SEED: dict[str, Any] = load_event("sync_bookings/seed_booking_created.body")

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)
money = st.integers(min_value=0, max_value=10**12)
TOP_LEVEL: dict[str, st.SearchStrategy[Any]] = {
    "booking_ref": st.from_regex(r"[A-Z]{2}-[0-9]{1,8}", fullmatch=True),
    "package_name": text,
    "package_price": money,
    "activity_date": st.dates().map(lambda day: day.isoformat()),
    "time_slot": st.sampled_from(["10:00", "14:30"]),
    "guest_count": st.integers(min_value=1, max_value=10000),
    "total_amount": money,
    "discount_amount": money,
    "currency": st.sampled_from(["THB", "usd", " eur "]),
    "status": st.sampled_from(["pending", "confirmed", "cancelled", "refunded", "completed", "no_show"]),
    "stripe_payment_intent_id": st.from_regex(r"pi_[A-Za-z0-9_]{1,20}", fullmatch=True),
    "created_at": st.sampled_from(["2026-02-20T10:30:00Z", "2026-02-20T17:30:00.123456+07:00", "1999-01-01T00:00:00Z"]),
    "updated_at": st.sampled_from(["2026-02-21T18:00:00+07:00"]),
    "version": st.integers(min_value=0, max_value=10**12),
    "reason": text,
    "refund_amount": money,
    "customer": st.fixed_dictionaries(
        {"name": text, "email": st.sampled_from(["john@example.com", "A.B@Example.COM"])},
        optional={
            "phone": st.from_regex(r"[0-9]{4,12}", fullmatch=True),
            "country_code": st.sampled_from(["+66", "44"]),
            "special_requests": text,
        },
    ),
    "transport": st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["hotel_pickup", "self_arrange", "private"]),
            "hotel_name": text,
            "room_number": st.from_regex(r"[0-9]{1,5}", fullmatch=True),
            "non_players": st.integers(min_value=0, max_value=1000),
            "private_passengers": st.integers(min_value=0, max_value=1000),
            "cost": money,
        },
    ),
    "addons": st.lists(
        st.fixed_dictionaries(
            {"name": text, "quantity": st.integers(min_value=1, max_value=10000), "unit_price": money}
        ),
        max_size=3,
    ),
}


def _request(body: dict[str, Any]) -> BookingSyncRequest:
    return parse_sync_request(json.dumps(body).encode())


@settings(max_examples=300, deadline=None)
@given(
    event=st.sampled_from(["booking.updated", "booking.cancelled", "booking.refunded"]),
    present=st.fixed_dictionaries({}, optional=TOP_LEVEL),
)
def test_any_payloads_columns_as_values_are_the_codecs_of_its_booking_fields(
    event: str, present: dict[str, Any]
) -> None:
    if event == "booking.cancelled" and present.get("status") not in (None, "cancelled", "refunded"):
        present.pop("status")  # (the model refuses other statuses on a cancellation)
    request = _request({"event": event, "source_booking_id": "s-1", **present})
    expected = to_item(request.booking_fields())
    values = column_values(request)
    assert values == expected
    assert list(values) == list(expected)


@pytest.mark.parametrize(
    "body",
    [
        SEED,
        {**SEED, "transport": {"type": "self_arrange"}, "addons": [], "customer": {"name": "A", "email": "a@b.com"}},
        {**SEED, "reason": "moved", "refund_amount": 0, "status": "pending", "created_at": "2026-02-20T10:30:00+07:00"},
    ],
)
def test_a_creations_columns_as_values_are_the_codecs_of_its_booking_fields(body: dict[str, Any]) -> None:
    request = _request(body)
    values = column_values(request)
    assert values == to_item(request.booking_fields())
    assert text_of(values, "source_created_at") == request.booking_fields().get("source_created_at")
    assert text_of(values, "no_such_column") is None


def test_a_payloads_columns_are_never_the_bookings_own_attributes() -> None:
    # create_booking writes column_values as they are (no reserved-name filter, as _columns does for fields)
    request = _request({**SEED, "reason": "r", "refund_amount": 1, "stripe_payment_intent_id": "pi_1"})
    names = set(column_values(request))
    assert names.isdisjoint(booking_store._RESERVED)
    assert not any("#" in name for name in names)


def test_the_indexed_columns_are_every_column_index_attributes_reads() -> None:
    """create_booking with values hands index_attributes only INDEXED_COLUMNS as text: a column it also
    read would be missing there."""

    class Reads(dict[str, Any]):
        seen: set[str]

        def get(self, key: str, default: Any = None) -> Any:
            self.seen.add(key)
            return super().get(key, default)

        def __getitem__(self, key: str) -> Any:
            self.seen.add(key)
            return super().__getitem__(key)

    columns = Reads(_request(SEED).booking_fields())
    columns.seen = set()
    booking_store.index_attributes("b-1", columns, website_id="w-1")
    assert columns.seen - {"website_id"} == set(booking_store.INDEXED_COLUMNS)
