"""Booking and event ids, built without uuid.UUID objects on the sync path, are still exactly the UUIDs."""

from __future__ import annotations

import uuid

import pytest

from bookinghub.aws.keys import BOOKING_NAMESPACE, booking_id_for
from bookinghub.bookings.dal.bookings import _event_uuid, new_event_id, stored_event_id


@pytest.mark.parametrize(
    ("website_id", "source_id"),
    [("test-website", "src-1"), ("bench-website", "bench-000001"), ("wébsite", "ß☃:1"), ("", "")],
)
def test_a_booking_id_is_the_uuid5_of_website_and_source_id(website_id: str, source_id: str) -> None:
    assert booking_id_for(website_id, source_id) == str(uuid.uuid5(BOOKING_NAMESPACE, f"{website_id}\x1f{source_id}"))


def test_an_event_id_is_a_random_version_4_uuid_in_22_characters() -> None:
    stamps = {new_event_id() for _ in range(200)}
    assert len(stamps) == 200
    for stamp in stamps:
        assert len(stamp) == 22
        event_id = uuid.UUID(_event_uuid(stamp))
        assert (event_id.version, event_id.variant) == (4, uuid.RFC_4122)
        assert stored_event_id(str(event_id)) == stamp
