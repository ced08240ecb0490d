"""Registry, normalised models and the mock provider (seed 004)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bookinghub.pms.errors import MappingError, UnknownProvider
from bookinghub.pms.models import BookingSource, BookingStatus, CleaningStatus, FetchOptions, RoomStatus
from bookinghub.pms.providers.base import HotelContext
from bookinghub.pms.providers.mock import MockProvider
from bookinghub.pms.providers.registry import PROVIDERS, get_provider, require_known

SEED_BODY = {
    "booking": {
        "id": "test-booking-001",
        "status": "confirmed",
        "guest": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+1-555-9999"},
        "stay": {"checkIn": "2025-12-20", "checkOut": "2025-12-23", "room": "305"},
        "totals": {"amount": 750.00, "currency": "USD"},
        "channel": "OTA",
    }
}


def hotel(provider: str = "mock", slug: str = "demo-hotel") -> HotelContext:
    return HotelContext(slug=slug, organisation_id="demo-org", provider=provider)


def test_registry_knows_each_provider_and_builds_it_lazily() -> None:
    assert set(PROVIDERS) == {"mock", "cloudbeds", "beds24"}
    for key in PROVIDERS:
        assert get_provider(hotel(key)).key == key


def test_unknown_provider_is_a_404_with_its_code() -> None:
    with pytest.raises(UnknownProvider) as caught:
        require_known("opera")
    assert (caught.value.code, caught.value.status) == ("UNKNOWN_PROVIDER", 404)
    with pytest.raises(UnknownProvider):
        get_provider(hotel("nope"))


def test_mock_is_deterministic_per_hotel() -> None:
    first = list(MockProvider(hotel()).fetch_bookings(FetchOptions(limit=100)))
    again = list(MockProvider(hotel()).fetch_bookings(FetchOptions(limit=100)))
    other = list(MockProvider(hotel(slug="other-hotel")).fetch_bookings(FetchOptions(limit=100)))
    assert first == again
    assert len(first) == 30
    assert first != other


def test_mock_honours_since_and_limit() -> None:
    provider = MockProvider(hotel())
    assert len(list(provider.fetch_bookings(FetchOptions(limit=5)))) == 5
    since = datetime(2025, 12, 5, tzinfo=UTC)
    recent = list(provider.fetch_bookings(FetchOptions(since=since, limit=100)))
    assert 0 < len(recent) < 30
    assert all(datetime.fromisoformat(r["modifiedAt"]) >= since for r in recent)


def test_every_mock_record_normalises() -> None:
    provider = MockProvider(hotel())
    bookings = [provider.normalize_booking(r) for r in provider.fetch_bookings(FetchOptions(limit=100))]
    rooms = [provider.normalize_room(r) for r in provider.fetch_rooms(FetchOptions(limit=100))]
    guests = [provider.normalize_guest(r) for r in provider.fetch_guests(FetchOptions(limit=100))]
    assert {b.status for b in bookings} <= set(BookingStatus)
    assert all(b.check_out > b.check_in and b.total_amount_cents > 0 for b in bookings)
    assert {r.status for r in rooms} <= set(RoomStatus)
    assert {r.cleaning_status for r in rooms} <= set(CleaningStatus)
    assert len(guests) == 20
    assert all(g.email for g in guests)


def test_the_seed_webhook_body_normalises_to_cents() -> None:
    booking = MockProvider(hotel()).booking_from_webhook(SEED_BODY)
    assert booking is not None
    assert booking.external_id == "test-booking-001"
    assert booking.status is BookingStatus.CONFIRMED
    assert booking.source is BookingSource.OTA
    assert (booking.guest.first_name, booking.guest.last_name) == ("Jane", "Doe")
    assert (booking.check_in, booking.check_out, booking.room) == (date(2025, 12, 20), date(2025, 12, 23), "305")
    assert (booking.total_amount_cents, booking.currency) == (75000, "USD")


def test_cents_are_exact_decimal_arithmetic() -> None:
    body = {"booking": {**SEED_BODY["booking"], "totals": {"amount": 0.29, "currency": "usd"}}}
    booking = MockProvider(hotel()).booking_from_webhook(body)
    assert booking is not None
    assert (booking.total_amount_cents, booking.currency) == (29, "USD")


@pytest.mark.parametrize(
    "change",
    [
        {"status": "maybe"},
        {"totals": {"amount": -1, "currency": "USD"}},
        {"totals": {"amount": "abc", "currency": "USD"}},
        {"totals": {"amount": 1, "currency": "dollars"}},
        {"stay": {"checkIn": "2025-13-01", "checkOut": "2025-12-23"}},
    ],
)
def test_a_record_that_does_not_map_is_a_mapping_error(change: dict[str, object]) -> None:
    with pytest.raises(MappingError):
        MockProvider(hotel()).normalize_booking({**SEED_BODY["booking"], **change})


def test_mock_webhook_reference_is_stable_for_a_redelivery() -> None:
    provider = MockProvider(hotel())
    first, again = provider.webhook_reference(SEED_BODY), provider.webhook_reference(SEED_BODY)
    changed = provider.webhook_reference({"booking": {**SEED_BODY["booking"], "status": "cancelled"}})
    assert first == again
    assert first.external_id == "test-booking-001"
    assert changed.event_key != first.event_key
