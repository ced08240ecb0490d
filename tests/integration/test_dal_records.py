"""The DALs hand back records, never storage items: no PK/SK, index keys, entity tags or search copies.

And the admin bookings search plans its own queries (which index, which partitions), so the logic
names only whose bookings and which text.
"""

from __future__ import annotations

from typing import Any

from bookinghub.bookings.dal import admin as admin_store
from bookinghub.bookings.dal.bookings import get_booking
from bookinghub.websites.dal.admin import get_website_record, organisation_websites
from tests.integration.conftest import DEMO_ORG, post_sync, seed_body

LAYOUT = {"PK", "SK", "entity", "search_name"}


def _layout_of(record: dict[str, Any]) -> set[str]:
    return {name for name in record if name in LAYOUT or name.startswith("GSI")}


def _synced(test_website: Any, **changes: Any) -> str:
    status, body = post_sync(seed_body(**changes))
    assert status == 200, body
    return str(body["booking_id"])


def test_a_booking_is_read_back_as_its_columns(test_website: Any) -> None:
    booking_id = _synced(test_website)
    booking = get_booking(booking_id)
    assert booking is not None
    assert _layout_of(booking) == set()
    assert (booking["id"], booking["customer_email"], booking["version"]) == (booking_id, "john@example.com", 1)


def test_websites_are_read_back_without_storage_keys(test_website: Any) -> None:
    website = get_website_record("test-website")
    assert website is not None
    assert _layout_of(website) == set()
    assert website["api_key_hash"]  # the rotation needs it; the logic decides it is never shown
    assert [_layout_of(item) for item in organisation_websites(DEMO_ORG)] == [set()]


def test_the_search_finds_by_email_ref_and_name_and_plans_the_next_page(test_website: Any) -> None:
    first = _synced(test_website)
    second = _synced(
        test_website,
        source_booking_id="second-source-id",
        booking_ref="HW-000024",
        activity_date="2026-03-02",
        customer={"name": "Marie Curie", "email": "marie@example.com"},
    )
    scope = admin_store.BookingScope(website_ids=("test-website",), organisation_id=DEMO_ORG)

    def search(text: str | None, **options: Any) -> admin_store.SearchPage:
        return admin_store.search_bookings(admin_store.BookingSearch(scope, text, **options), 10)

    assert [b["id"] for b in search(None).bookings] == [first, second]  # by activity date
    assert [b["id"] for b in search("MARIE@example.com").bookings] == [second]  # email, any case
    by_ref = search("HW-000024")
    assert ([b["id"] for b in by_ref.bookings], by_ref.plan) == ([second], "ref")
    by_name = search("curie")  # inside the name: scanning
    assert ([b["id"] for b in by_name.bookings], by_name.plan) == ([second], "name")
    by_prefix = search("MARIE  c")  # the start of the folded name: BookingsByName
    assert ([b["id"] for b in by_prefix.bookings], by_prefix.plan) == ([second], "prefix")
    assert all(_layout_of(b) == set() for b in search(None).bookings)

    page = admin_store.search_bookings(admin_store.BookingSearch(scope), 1)
    assert [b["id"] for b in page.bookings] == [first]
    assert page.after is not None
    assert page.after.startswith("2026-03-01#")
    rest = admin_store.search_bookings(admin_store.BookingSearch(scope, after=page.after), 1)
    assert ([b["id"] for b in rest.bookings], rest.after) == ([second], None)


def test_a_scope_of_another_organisation_finds_nothing(test_website: Any) -> None:
    _synced(test_website)
    # A website named with another organisation: its partitions are read, its entries are not theirs
    filtered = admin_store.BookingScope(website_ids=("test-website",), organisation_id="other-org")
    assert admin_store.search_bookings(admin_store.BookingSearch(filtered), 10).bookings == []
    assert admin_store.search_bookings(admin_store.BookingSearch(filtered, "john"), 10).bookings == []
