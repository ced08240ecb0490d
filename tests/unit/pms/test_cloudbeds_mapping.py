"""Cloudbeds normalisation, on payloads shaped like Cloudbeds API v1.3's answers (the sandbox's data)."""

from __future__ import annotations

from datetime import date

import pytest

from bookinghub.core.errors import InvalidPayload
from bookinghub.pms.errors import MappingError
from bookinghub.pms.models import BookingSource, BookingStatus, CleaningStatus, RoomStatus
from bookinghub.pms.providers.base import HotelContext
from bookinghub.pms.providers.cloudbeds import STATUSES, CloudbedsProvider
from infra.local.sandbox import cloudbeds_data as recorded

PROVIDER = CloudbedsProvider(
    HotelContext(
        slug="cb-hotel",
        organisation_id="demo-org",
        provider="cloudbeds",
        credentials={"api_key": recorded.DEMO_API_KEY},
        settings={"property_id": recorded.DEMO_PROPERTY_ID},
    )
)


def test_all_six_statuses_are_mapped_one_to_one() -> None:
    assert set(STATUSES) == {"not_confirmed", "confirmed", "canceled", "checked_in", "checked_out", "no_show"}
    assert len(set(STATUSES.values())) == 6
    seen = {PROVIDER.normalize_booking(recorded.reservation(i)).status for i in range(6)}
    assert seen == set(BookingStatus)


def test_total_and_currency_come_from_rate_details_not_balance() -> None:
    raw = recorded.reservation(3)
    booking = PROVIDER.normalize_booking(raw)
    assert booking.total_amount_cents == round(raw["total"] * 100) != round(raw["balance"] * 100)
    assert booking.currency == "THB"
    assert booking.external_id == raw["reservationID"]
    assert booking.check_in == date.fromisoformat(raw["reservationCheckIn"])
    assert booking.room == raw["rooms"][0]["roomName"]
    assert booking.guest.email == next(iter(raw["guestList"].values()))["guestEmail"]
    assert booking.source is BookingSource.OTA
    assert booking.channel == "Booking.com"


def test_a_direct_booking_is_direct() -> None:
    assert PROVIDER.normalize_booking(recorded.reservation(2)).source is BookingSource.DIRECT


@pytest.mark.parametrize(
    "change",
    [{"status": "cancelled"}, {"status": "in_progress"}, {"total": None}, {"propertyCurrency": None}, {"total": "x"}],
)
def test_unmappable_reservations_are_mapping_errors(change: dict[str, object]) -> None:
    with pytest.raises(MappingError):
        PROVIDER.normalize_booking({**recorded.reservation(1), **change})


def test_rooms_join_housekeeping() -> None:
    rooms = recorded.rooms()
    keeping = {h["roomID"]: h for h in recorded.housekeeping(rooms)}
    mapped = [PROVIDER.normalize_room({"room": r, "housekeeping": keeping[r["roomID"]]}) for r in rooms]
    assert mapped[0].status is RoomStatus.OCCUPIED
    assert mapped[0].cleaning_status is CleaningStatus.DIRTY
    assert mapped[1].status is RoomStatus.AVAILABLE
    assert mapped[1].cleaning_status is CleaningStatus.CLEAN
    assert next(m for m in mapped if m.room_number == "124").status is RoomStatus.BLOCKED
    assert PROVIDER.normalize_room({"room": rooms[1], "housekeeping": None}).cleaning_status is CleaningStatus.UNKNOWN


def test_guests_from_the_list_and_from_get_guest() -> None:
    listed = PROVIDER.normalize_guest(recorded.guest(2))
    fetched = PROVIDER.normalize_guest({"guestID": "7", "firstName": "A", "lastName": "B", "email": "a@b.example"})
    assert (listed.first_name, listed.external_id) == ("Anna", "700002")
    assert (fetched.first_name, fetched.email) == ("A", "a@b.example")
    with pytest.raises(MappingError):
        PROVIDER.normalize_guest({"firstName": "no id"})


def test_webhook_reference_needs_a_reservation_event() -> None:
    ref = PROVIDER.webhook_reference({"event": "reservation/created", "reservationID": "CB1", "timestamp": 1.5})
    assert (ref.external_id, ref.event_key) == ("CB1", "reservation/created:CB1:1.5")
    with pytest.raises(InvalidPayload):
        PROVIDER.webhook_reference({"event": "guest/created", "reservationID": "CB1"})
    with pytest.raises(InvalidPayload):
        PROVIDER.webhook_reference({"event": "reservation/created"})
