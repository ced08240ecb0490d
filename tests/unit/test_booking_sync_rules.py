"""services/booking_sync.py rules that need no AWS: change order keys and why a condition failed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bookinghub.bookings.logic.sync import UNORDERED, _existing, _explain_condition, order_key_for
from bookinghub.bookings.models.sync import BookingSyncRequest, parse_sync_request
from bookinghub.core.errors import BookingNotFound, DuplicateBooking
from tests.conftest import load_event


def _request(**body: Any) -> BookingSyncRequest:
    return parse_sync_request(json.dumps({"source_booking_id": "s-1", **body}).encode())


def _created(**changes: Any) -> BookingSyncRequest:
    body = load_event("sync_bookings/seed_booking_created.body") | changes
    return parse_sync_request(json.dumps({k: v for k, v in body.items() if v is not None}).encode())


# --- order_key_for ---------------------------------------------------------------------------------


def test_update_without_version_or_time_has_no_order() -> None:
    assert order_key_for(_request(event="booking.updated", guest_count=3)) is None
    # created_at orders only a creation: on an update it is the booking's birth, not the change's time
    assert order_key_for(_request(event="booking.updated", created_at="2026-02-20T10:30:00Z")) is None


@pytest.mark.parametrize(
    "request_",
    [
        _created(),
        _created(version=4),
        _created(updated_at="2026-02-21T18:00:00.5+07:00"),
        _request(event="booking.updated", version=2, created_at="2026-02-20T10:30:00Z"),
    ],
)
def test_the_columns_creation_time_gives_the_same_order_key(request_: BookingSyncRequest) -> None:
    # apply_sync hands over the creation time its columns already hold (source_created_at), not computed twice
    created_iso = request_.booking_fields().get("source_created_at")
    assert order_key_for(request_, created_iso=created_iso) == order_key_for(request_)


def test_created_is_ordered_by_its_creation_time() -> None:
    assert order_key_for(_created()) == "00|20260220103"  # version 0, then the time's digits (trailing zeros dropped)
    assert order_key_for(_created(created_at=None)) is None


def test_updated_at_wins_over_created_at_and_time_zones_do_not_matter() -> None:
    key = order_key_for(_created(updated_at="2026-02-20T18:00:00+07:00"))
    assert key == "00|2026022011"


def test_version_orders_first_and_numerically() -> None:
    v2 = order_key_for(_request(event="booking.updated", version=2, updated_at="2026-02-21T00:00:00Z"))
    v10 = order_key_for(_request(event="booking.updated", version=10, updated_at="2026-02-20T00:00:00Z"))
    untimed_v10 = order_key_for(_request(event="booking.updated", version=10))
    assert v2 is not None
    assert v10 is not None
    assert untimed_v10 is not None
    assert v2 < v10
    assert untimed_v10 < v10  # same version: the timed one is later
    assert v2 > UNORDERED  # what an unordered creation stores ranks below every ordered change


def test_times_order_like_instants() -> None:
    keys = [
        order_key_for(_request(event="booking.updated", updated_at=moment))
        for moment in ("2026-02-20T09:59:59.999Z", "2026-02-20T10:00:00Z", "2026-02-20T10:00:00.000001Z")
    ]
    assert keys == sorted(keys)  # type: ignore[type-var]
    assert len(set(keys)) == 3


# --- _explain_condition ----------------------------------------------------------------------------

STORED = {
    "last_payload_hash": "hash-last",
    "created_payload_hash": "hash-created",
    "order_key": "00|202602201200",
}


def test_partial_update_of_unknown_booking_is_not_found_and_names_what_is_missing() -> None:
    with pytest.raises(BookingNotFound) as raised:
        _existing(_request(event="booking.cancelled"), None)
    assert {d["field"] for d in raised.value.details or []} >= {"booking_ref", "customer", "activity_date"}


@pytest.mark.parametrize("payload_hash", ["hash-last", "hash-created"])
def test_payload_already_applied_is_unchanged(payload_hash: str) -> None:
    assert _explain_condition(_created(), STORED, payload_hash) == "unchanged"
    assert _explain_condition(_request(event="booking.updated"), STORED, payload_hash) == "unchanged"


def test_different_created_for_a_created_booking_is_duplicate() -> None:
    with pytest.raises(DuplicateBooking):
        _explain_condition(_created(), STORED, "hash-new")


def test_created_for_a_booking_an_update_created_is_stale() -> None:
    from_update = {k: v for k, v in STORED.items() if k != "created_payload_hash"}

    assert _explain_condition(_created(), from_update, "hash-new") == "ignored_stale"


def test_an_update_that_is_no_redelivery_is_judged_per_column() -> None:
    # Which of its columns are older is logic.field_order's answer (tests/unit/test_booking_field_order.py)
    assert _explain_condition(_request(event="booking.updated"), STORED, "hash-new") is None
