"""booking.created end to end: what is stored, the outbox event, the sync log, and redeliveries."""

from __future__ import annotations

import json
from typing import Any

from bookinghub.aws import keys
from bookinghub.bookings.dal.bookings import booking_record, get_booking
from bookinghub.bookings.dal.logs import event_from_outbox_item, list_sync_logs
from tests.integration.conftest import (
    SYNC_KEY_OTHER,
    booking_item,
    outbox_events,
    post_sync,
    seed_body,
    snapshot_tables,
    sync_logs,
)

# Seed 002's `bookings` columns (CREATE TABLE bookings), except admin_notes, which only the hub's
# admins set. `id` is the hub's booking id; created_at/updated_at are the hub's own timestamps.
SEED_COLUMNS = {
    "id": None,
    "website_id": "test-website",
    "source_booking_id": "uuid-from-source-database",
    "booking_ref": "HW-000023",
    "package_name": "World A+",
    "package_price": 3490,
    "activity_date": "2026-03-01",
    "time_slot": "10:00",
    "guest_count": 2,
    "total_amount": 8500,
    "discount_amount": 0,
    "currency": "THB",
    "status": "confirmed",
    "customer_name": "John Doe",
    "customer_email": "john@example.com",
    "customer_phone": "1234567890",
    "customer_country_code": "+66",
    "special_requests": "Vegetarian lunch please",
    "transport_type": "hotel_pickup",
    "hotel_name": "Marriott Phuket",
    "room_number": "1205",
    "non_players": 1,
    "private_passengers": 0,
    "transport_cost": 0,
    "addons": [
        {"name": "Photo Package", "quantity": 1, "unit_price": 500},
        {"name": "Souvenir T-Shirt", "quantity": 2, "unit_price": 350},
    ],
    "stripe_payment_intent_id": "pi_xxxxxxxxxxxxx",
    "source_created_at": "2026-02-20T10:30:00.000000Z",
    "created_at": None,
    "updated_at": None,
}


def size_of(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (moto's own sizing)."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    from bookinghub.aws.codec import to_item

    attrs = to_item(item)
    return int(Item(hash_key=DynamoType(attrs["PK"]), range_key=DynamoType(attrs["SK"]), attrs=attrs).size())


def test_seed_booking_is_stored_with_every_seed_column(test_website: Any) -> None:
    status, body = post_sync(seed_body())

    assert status == 200
    applied = body.pop("applied_fields")
    assert body == {
        "success": True,
        "booking_id": keys.booking_id_for("test-website", "uuid-from-source-database"),
        "message": "Booking synced successfully",
        "outcome": "created",
        "stale_fields": [],
    }
    item = booking_item(body["booking_id"])
    assert item is not None
    assert size_of(item) < 1024  # one write unit, and one per index entry
    stored = booking_record(item)
    assert applied == sorted(applied)
    assert set(applied) <= set(stored)
    assert "guest_count" in applied
    missing = sorted(set(SEED_COLUMNS) - set(stored))
    assert missing == []
    assert {k: stored[k] for k, v in SEED_COLUMNS.items() if v is not None} == {
        k: v for k, v in SEED_COLUMNS.items() if v is not None
    }
    assert stored["id"] == body["booking_id"]
    assert stored["organisation_id"] == "demo-org"
    # indexed for the dashboard: its listing partition (website and status) by date, its folded name
    assert (item["website_id"], item["organisation_id"]) == ("test-website", "demo-org")
    assert (item["list_key"], item["search_name"]) == ("test-website#confirmed", "john doe")
    assert item["date_key"] == f"2026-03-01#{body['booking_id']}"
    assert "email_key" not in item  # the email is lower-case already: no copy
    assert not any(name.startswith("GSI") for name in item)  # the other domains' indexes: not a booking's
    assert "id" not in item  # the key's


def test_creation_writes_one_outbox_event_and_one_masked_sync_log(test_website: Any) -> None:
    _, body = post_sync(seed_body())
    booking_id = body["booking_id"]

    [event] = outbox_events(booking_id)
    assert event["SK"].startswith("EVENT#")
    assert event["event_type"] == "booking.created"
    assert event["origin"] == "website:test-website"
    assert event["website_id"] == "test-website"
    assert event["source_booking_id"] == "uuid-from-source-database"
    data = json.loads(event["data"])
    assert data["customer_email"] == "john@example.com"
    assert set(event_from_outbox_item(event).changed_fields) == set(data)

    [log] = sync_logs()
    assert log["direction"] == "inbound"
    assert log["event_type"] == "booking.created"
    assert log["status"] == "success"
    assert log["booking_id"] == booking_id
    assert log["website_id"] == "test-website"
    assert "error_message" not in log
    assert log["id"] == event["event_id"]  # the change's timeline item is its sync log
    assert [entry.id for entry in list_sync_logs(booking_id)] == [log["id"]]
    payload = log["payload"]
    assert payload["customer"]["email"] == "j***@example.com"
    assert payload["customer"]["phone"] == "***90"
    assert payload["booking_ref"] == "HW-000023"
    assert "john@example.com" not in json.dumps(payload)
    assert "1234567890" not in json.dumps(payload)


def test_identical_redelivery_returns_same_id_and_writes_nothing(test_website: Any) -> None:
    _, first = post_sync(seed_body())
    before = snapshot_tables()

    status, again = post_sync(seed_body())

    assert status == 200
    assert again["booking_id"] == first["booking_id"]
    assert again["outcome"] == "unchanged"
    assert snapshot_tables() == before


def test_canonically_equal_redelivery_is_also_unchanged(test_website: Any) -> None:
    """Whitespace, key order and an equivalent time zone do not make a different payload."""
    _, first = post_sync(seed_body())
    before = snapshot_tables()
    body = dict(reversed(list(seed_body(created_at="2026-02-20T17:30:00+07:00").items())))

    status, again = post_sync(json.dumps(body, indent=4))

    assert (status, again["outcome"], again["booking_id"]) == (200, "unchanged", first["booking_id"])
    assert snapshot_tables() == before


def test_created_again_with_different_content_is_duplicate_and_changes_nothing(test_website: Any) -> None:
    post_sync(seed_body())
    before = snapshot_tables()

    status, body = post_sync(seed_body(guest_count=3))

    assert status == 409
    assert body == {
        "success": False,
        "error": "Booking already exists (use an update event)",
        "code": "DUPLICATE_BOOKING",
    }
    assert snapshot_tables() == before


def test_created_redelivered_after_an_update_is_still_unchanged(test_website: Any) -> None:
    post_sync(seed_body())
    post_sync({"event": "booking.updated", "source_booking_id": "uuid-from-source-database", "guest_count": 4})
    before = snapshot_tables()

    status, body = post_sync(seed_body())

    assert (status, body["outcome"]) == (200, "unchanged")
    assert snapshot_tables() == before


def test_two_websites_may_use_the_same_source_booking_id(other_website: Any) -> None:
    _, ours = post_sync(seed_body())
    _, theirs = post_sync(seed_body(booking_ref="OW-1", guest_count=5), api_key=SYNC_KEY_OTHER)

    assert ours["outcome"] == theirs["outcome"] == "created"
    assert ours["booking_id"] != theirs["booking_id"]
    mine, other = get_booking(ours["booking_id"]), get_booking(theirs["booking_id"])
    assert mine is not None
    assert other is not None
    assert (mine["website_id"], mine["guest_count"], mine["booking_ref"]) == ("test-website", 2, "HW-000023")
    assert (other["website_id"], other["guest_count"], other["booking_ref"]) == ("other-website", 5, "OW-1")


def test_seed_defaults_apply_when_the_created_payload_omits_them(test_website: Any) -> None:
    body = seed_body(discount_amount=None, currency=None, status=None, transport=None, addons=None)

    _, answer = post_sync(body)

    stored = get_booking(answer["booking_id"])
    assert stored is not None
    expected = {"discount_amount": 0, "currency": "THB", "status": "confirmed", "addons": []}
    expected |= {"non_players": 0, "private_passengers": 0, "transport_cost": 0}
    assert {k: stored[k] for k in expected} == expected
    assert "transport_type" not in stored


def test_acknowledge_path_is_one_key_lookup_and_one_write_then_the_write_alone(test_website: Any) -> None:
    from bookinghub.aws.clients import client

    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    ddb = client("dynamodb")
    ddb.meta.events.register("before-call.dynamodb.*", record)
    try:
        post_sync(seed_body())
        post_sync(seed_body())  # the redelivery: the key as read just now, and a write whose condition fails
    finally:
        ddb.meta.events.unregister("before-call.dynamodb.*", record)

    # No transaction: the booking write carries its event, whose timeline item (the relay's) is the sync log
    assert calls == ["GetItem", "PutItem", "PutItem"]
