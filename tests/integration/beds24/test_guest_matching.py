"""Guest matching (issue 5): email case-insensitive, phone and mobile in E.164, a new guest when nothing
matches, the most recent data wins, and lookups are key reads, never scans."""

from __future__ import annotations

from typing import Any

from infra.local.resources import LocalResources
from tests.integration.beds24.hub import deliver, drain_events, guest, reservation, sync
from tests.integration.beds24.meter import DynamoMeter
from tests.integration.beds24.sandbox import Sandbox


def apply(aws: LocalResources, beds24: Sandbox, *booking_ids: int) -> None:
    """Deliver the latest webhook of each booking, in this order, each applied before the next."""
    for booking_id in booking_ids:
        status, answer = deliver(beds24.webhooks(booking_id)[-1])
        assert (status, answer["status"]) == (200, "queued"), answer
        assert drain_events(aws) == (1, 0)


def guest_of(booking_id: int) -> str:
    stored = reservation(booking_id)
    assert stored is not None
    assert stored.get("guest_id"), stored
    return str(stored["guest_id"])


def test_emails_match_whatever_their_letter_case(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    first = beds24.create(email="Anna.Lee@Example.COM")
    second = beds24.create(email="anna.lee@example.com", roomId=503)
    apply(aws, beds24, first, second)

    assert guest_of(first) == guest_of(second)
    found = guest(guest_of(first))
    assert found.email == "anna.lee@example.com"
    assert found.emails == ["anna.lee@example.com"]
    stored = reservation(first)
    assert stored is not None
    assert stored["guest_email"] == "anna.lee@example.com"


def test_phone_and_mobile_match_once_in_e164(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    # The same Thai number: international on one booking's phone, local on another's mobile (read in the
    # property's default country, TH, as that booking names no country)
    first = beds24.create(
        firstName="Somchai", lastName="Jaidee", email="somchai@example.co.th", phone="+66 81 234 5678", country2="TH"
    )
    second = beds24.create(
        firstName="Somchai", lastName="Jaidee", email="", mobile="081-234-5678", country2="", roomId=502
    )
    third = beds24.create(  # another address, but the same mobile: still the same person
        firstName="Somchai", lastName="Jaidee", email="s.jaidee@example.com", mobile="0812345678", country2="TH"
    )
    apply(aws, beds24, first, second, third)

    assert guest_of(first) == guest_of(second) == guest_of(third)
    found = guest(guest_of(first))
    assert found.phones == ["+66812345678"]
    assert found.phone == "+66812345678"
    assert found.emails == ["somchai@example.co.th", "s.jaidee@example.com"]
    stored = reservation(second)
    assert stored is not None
    assert stored["guest_phone"] == "+66812345678"


def test_someone_new_gets_a_guest_of_their_own(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    anna = beds24.create(email="anna.lee@example.com", phone="+61 412 345 678")
    other = beds24.create(firstName="Oliver", lastName="Brown", email="oliver@example.com", phone="+44 20 7946 0958")
    nameless = beds24.create(firstName="", lastName="", email="", phone="")
    apply(aws, beds24, anna, other, nameless)

    assert guest_of(anna) != guest_of(other)
    assert guest(guest_of(other)).name == "Oliver Brown"
    stored = reservation(nameless)
    assert stored is not None
    assert stored.get("guest_id") is None


def test_the_most_recent_booking_data_wins_an_older_one_never_overwrites(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    older = beds24.create(firstName="Anna", lastName="Lee", country2="AU")
    newer = beds24.create(firstName="Anna", lastName="Lee-Smith", country2="GB", phone="+44 20 7946 0001")
    apply(aws, beds24, newer, older)  # the older booking is applied last

    found = guest(guest_of(newer))
    assert guest_of(older) == found.id
    assert (found.name, found.country) == ("Anna Lee-Smith", "GB")
    assert found.data_as_of == beds24.booking(newer)["modifiedTime"]

    beds24.modify(older, lastName="Smith", phone="")  # now the most recent, without a phone
    apply(aws, beds24, older)
    found = guest(found.id)
    assert found.name == "Anna Smith"
    assert found.phone == "+442079460001"  # an empty field never erases a known one
    assert found.data_as_of == beds24.booking(older)["modifiedTime"]


def test_one_page_of_a_full_sync_makes_one_guest_per_person(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    ids = [
        beds24.create(email="MARIA@example.es", firstName="Maria", lastName="Garcia", country2="ES"),
        beds24.create(email="maria@example.es", mobile="+34 612 345 678", firstName="Maria", lastName="Garcia"),
        beds24.create(email="", phone="0034 612 345 678", firstName="Maria", lastName="Garcia", country2="ES"),
    ]
    run = sync(aws, "full")
    assert run.status == "succeeded"
    assert run.counts.created == 3

    assert len({guest_of(i) for i in ids}) == 1
    found = guest(guest_of(ids[0]))
    assert found.emails == ["maria@example.es"]
    assert found.phones == ["+34612345678"]


def test_guests_are_found_by_key_reads_never_by_a_scan(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    first = beds24.create(email="Anna.Lee@example.com")
    second = beds24.create(email="anna.lee@EXAMPLE.com", mobile="+61 412 345 678")
    beds24.create(email="kenji.sato@example.jp", country2="JP")
    with DynamoMeter() as meter:
        apply(aws, beds24, first, second)
        run = sync(aws, "full")
    assert run.status == "succeeded"

    assert "Scan" not in meter.operations()
    guest_requests = [
        r for r in meter.requests if any(k.startswith(("GUEST#", "GUESTKEY#")) for k in r.partition_keys())
    ]
    assert guest_requests, "guest matching made no request at all"
    assert {r.operation for r in guest_requests} <= {"BatchGetItem", "BatchWriteItem"}
