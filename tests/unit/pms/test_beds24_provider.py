"""The `beds24` provider's view of Beds24 v2 bookings (through the hub's Beds24 booking model)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bookinghub.core.errors import InvalidPayload
from bookinghub.pms.errors import MappingError
from bookinghub.pms.models import BookingSource, BookingStatus
from bookinghub.pms.providers.base import HotelContext
from bookinghub.pms.providers.beds24 import STATUSES, Beds24Provider

PROVIDER = Beds24Provider(
    HotelContext(
        slug="b24-hotel",
        organisation_id="demo-org",
        provider="beds24",
        credentials={"refresh_token": "r"},
        settings={"property_id": "12345", "currency": "THB"},
    )
)


def booking(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": 40000001,
        "propertyId": 12345,
        "roomId": 501,
        "status": "confirmed",
        "arrival": "2026-03-01",
        "departure": "2026-03-04",
        "firstName": "Anna",
        "lastName": "Lee",
        "email": "Anna.Lee@example.com",
        "mobile": "+66 81 555 0101",
        "price": 4500.5,
        "channel": "booking",
        "modifiedTime": "2026-02-20T10:00:00Z",
    }
    raw.update(changes)
    return raw


def test_a_beds24_booking_normalises() -> None:
    normalized = PROVIDER.normalize_booking(booking())
    assert normalized.external_id == "40000001"
    assert normalized.status is BookingStatus.CONFIRMED
    assert normalized.source is BookingSource.OTA
    assert (normalized.check_in, normalized.check_out) == (date(2026, 3, 1), date(2026, 3, 4))
    assert (normalized.total_amount_cents, normalized.currency) == (450050, "THB")
    assert normalized.guest.phone == "+66 81 555 0101"


def test_every_beds24_status_is_mapped() -> None:
    assert {PROVIDER.normalize_booking(booking(status=s)).status for s in STATUSES} == {
        BookingStatus.CONFIRMED,
        BookingStatus.PENDING,
        BookingStatus.CANCELLED,
    }


@pytest.mark.parametrize("change", [{"status": "weird"}, {"arrival": None}, {"id": "not-a-number"}])
def test_unmappable_beds24_bookings(change: dict[str, Any]) -> None:
    with pytest.raises(MappingError):
        PROVIDER.normalize_booking(booking(**change))


def test_a_hotel_without_a_currency_cannot_map() -> None:
    provider = Beds24Provider(HotelContext(slug="x", organisation_id="o", provider="beds24", settings={}))
    with pytest.raises(MappingError, match="currency"):
        provider.normalize_booking(booking())


def test_webhook_reference() -> None:
    ref = PROVIDER.webhook_reference({"timeStamp": "2026-02-20T10:00:01Z", "booking": booking()})
    assert (ref.external_id, ref.event_key) == ("40000001", "40000001:2026-02-20T10:00:01Z")
    with pytest.raises(InvalidPayload):
        PROVIDER.webhook_reference({"booking": {"id": "x"}})
