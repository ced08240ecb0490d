"""Beds24 booking -> reservation mapping, guest identity normalisation, and guest merging (no AWS)."""

from __future__ import annotations

from typing import Any

import pytest

from bookinghub.beds24.logic.mapping import (
    attention_reasons,
    build_reservation,
    guest_candidate,
    normalise_email,
    normalise_phone,
    reservation_id_for,
)
from bookinghub.beds24.models.entities import Beds24Booking, Beds24Property, normalise_time
from bookinghub.guests.logic.matching import merge

PROPERTY = Beds24Property(
    id="demo-property",
    organisation_id="demo-org",
    name="Demo",
    beds24_property_id=12345,
    room_mapping={"501": "Deluxe Double", "502": "Family Suite"},
    time_zone="Asia/Bangkok",
    default_country="TH",
    created_at="2026-01-01T00:00:00Z",
    updated_at="2026-01-01T00:00:00Z",
)


def booking(**changes: Any) -> Beds24Booking:
    raw: dict[str, Any] = {
        "id": 9001,
        "propertyId": 12345,
        "roomId": 501,
        "unitId": 1,
        "status": "confirmed",
        "arrival": "2026-12-01",
        "departure": "2026-12-04",
        "numAdult": 2,
        "firstName": "Anna",
        "lastName": "Lee",
        "email": "Anna.Lee@Example.com ",
        "phone": "",
        "mobile": "081 234 5678",
        "country2": "TH",
        "price": "450.50",
        "modifiedTime": "2026-11-20 08:00:00",
    }
    raw.update(changes)
    return Beds24Booking.model_validate(raw)


def test_times_are_normalised_to_one_comparable_utc_format() -> None:
    assert normalise_time("2026-11-20 08:00:00") == "2026-11-20T08:00:00Z"
    assert normalise_time("2026-11-20T15:00:00+07:00") == "2026-11-20T08:00:00Z"
    assert booking().modified_time == "2026-11-20T08:00:00Z"


def test_lenient_types_and_blanks() -> None:
    parsed = booking(id="9001", phone=812345678, notes="  ")
    assert parsed.id == 9001
    assert parsed.price == 450.5
    assert parsed.phone == "812345678"
    assert parsed.notes is None


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("081 234 5678", "TH", "+66812345678"),
        ("+66 81-234-5678", None, "+66812345678"),
        ("0066812345678", None, "+66812345678"),
        ("+1 123 456 7890", "US", None),  # no US area code starts with 1
        ("+1 650 253 0000", "TH", "+16502530000"),
        ("12", "TH", None),
        ("not a phone", "TH", None),
        ("", "TH", None),
    ],
)
def test_phone_numbers_become_e164_or_nothing(raw: str, region: str | None, expected: str | None) -> None:
    assert normalise_phone(raw, region) == expected


def test_emails_match_case_insensitively() -> None:
    assert normalise_email(" Anna.Lee@Example.COM") == "anna.lee@example.com"
    assert normalise_email("no-at-sign") is None
    assert normalise_email(None) is None


def test_a_reservation_keeps_the_booking_and_its_room() -> None:
    reservation = build_reservation(booking(), PROPERTY, guest_id="g1", source="full", now="2026-11-21T00:00:00Z")
    assert reservation.id == reservation_id_for("demo-org", 9001)
    assert reservation.room == "Deluxe Double"
    assert reservation.guest_email == "anna.lee@example.com"
    assert reservation.guest_phone == "+66812345678"
    assert reservation.modified_time == "2026-11-20T08:00:00Z"
    assert not reservation.needs_attention


def test_the_content_hash_ignores_when_the_hub_saw_the_booking() -> None:
    first = build_reservation(booking(), PROPERTY, guest_id="g1", source="full", now="2026-11-21T00:00:00Z")
    again = build_reservation(booking(), PROPERTY, guest_id="g2", source="webhook", now="2026-11-22T00:00:00Z")
    changed = build_reservation(booking(numAdult=3), PROPERTY, guest_id="g1", source="full", now="x")
    assert first.content_hash == again.content_hash != changed.content_hash


def test_unknown_rooms_and_properties_need_attention_rather_than_being_dropped() -> None:
    assert attention_reasons(booking(roomId=999), PROPERTY) == ["unknown room 999"]
    assert attention_reasons(booking(propertyId=1), PROPERTY) == ["unknown property 1"]
    assert attention_reasons(booking(roomId=None, departure="2026-11-30"), PROPERTY) == [
        "no room",
        "departure before arrival",
    ]
    flagged = build_reservation(booking(roomId=999), PROPERTY, guest_id=None, source="full", now="x")
    assert flagged.needs_attention
    assert flagged.room is None


def test_guest_candidate_reads_phone_then_mobile_in_the_booking_country() -> None:
    candidate = guest_candidate(booking(phone="+44 20 7946 0018"), PROPERTY)
    assert candidate is not None
    assert candidate.email == "anna.lee@example.com"
    assert candidate.phones == ("+442079460018", "+66812345678")
    assert guest_candidate(booking(firstName="", lastName="", email="", mobile=""), PROPERTY) is None


def test_merging_prefers_the_most_recent_data_and_never_erases() -> None:
    older = guest_candidate(booking(modifiedTime="2026-01-01T00:00:00Z", firstName="A."), PROPERTY)
    newer = guest_candidate(booking(modifiedTime="2026-06-01T00:00:00Z", email="anna@new.example"), PROPERTY)
    assert older is not None
    assert newer is not None
    guest = merge(None, newer, guest_id="g", organisation_id="o", now="n1")
    assert guest.email == "anna@new.example"
    after_older = merge(guest, older, guest_id="g", organisation_id="o", now="n2")
    assert after_older.email == "anna@new.example"  # the older booking does not win ...
    assert after_older.name == "Anna Lee"
    assert "anna.lee@example.com" in after_older.emails  # ... but its email is still the guest's
    blank = guest_candidate(booking(modifiedTime="2026-09-01T00:00:00Z", mobile="", email="anna@new.example"), PROPERTY)
    assert blank is not None
    assert merge(after_older, blank, guest_id="g", organisation_id="o", now="n3").phone == "+66812345678"
