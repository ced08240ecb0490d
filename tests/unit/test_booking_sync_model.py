"""models/booking_sync.py: strict parsing of the seed 002 sync body and its flattening to booking columns."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bookinghub.bookings.models.sync import parse_sync_request
from bookinghub.core.errors import InvalidPayload
from tests.conftest import load_event


def _seed(**changes: Any) -> dict[str, Any]:
    body = load_event("sync_bookings/seed_booking_created.body")
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _parse(body: dict[str, Any] | str) -> Any:
    return parse_sync_request((body if isinstance(body, str) else json.dumps(body)).encode())


def _rejected(body: dict[str, Any] | str) -> InvalidPayload:
    with pytest.raises(InvalidPayload) as raised:
        _parse(body)
    return raised.value


def _fields(error: InvalidPayload) -> set[str]:
    return {detail["field"] for detail in error.details or []}


def test_seed_body_flattens_to_the_seed_columns() -> None:
    fields = _parse(_seed()).booking_fields()

    assert fields == {
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
    }


def test_partial_update_sets_only_what_it_carries() -> None:
    body = {"event": "booking.updated", "source_booking_id": "s-1", "transport": {"hotel_name": "Hilton"}}

    assert _parse(body).booking_fields() == {"hotel_name": "Hilton"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"event": "booking.cancelled", "source_booking_id": "s-1"}, "cancelled"),
        ({"event": "booking.refunded", "source_booking_id": "s-1", "refund_amount": 500}, "refunded"),
        ({"event": "booking.cancelled", "source_booking_id": "s-1", "status": "refunded"}, "refunded"),
        ({"event": "booking.refunded", "source_booking_id": "s-1", "status": "confirmed"}, "confirmed"),  # partial
        ({"event": "booking.updated", "source_booking_id": "s-1", "status": "no_show"}, "no_show"),
    ],
)
def test_status_follows_the_event_unless_the_payload_names_one(body: dict[str, Any], status: str) -> None:
    assert _parse(body).booking_fields()["status"] == status


def test_update_without_status_does_not_touch_status() -> None:
    assert "status" not in _parse({"event": "booking.updated", "source_booking_id": "s-1"}).booking_fields()


def test_cancellation_reason_and_refund_amount_are_kept() -> None:
    body = {"event": "booking.refunded", "source_booking_id": "s-1", "reason": "weather", "refund_amount": 900}

    fields = _parse(body).booking_fields()

    assert (fields["cancellation_reason"], fields["refund_amount"]) == ("weather", 900)


def test_text_is_trimmed_currency_upper_cased_and_times_normalised_to_utc() -> None:
    request = _parse(_seed(package_name="  World A+ ", currency="thb", created_at="2026-02-20T17:30:00+07:00"))

    fields = request.booking_fields()
    assert (fields["package_name"], fields["currency"]) == ("World A+", "THB")
    assert fields["source_created_at"] == "2026-02-20T10:30:00.000000Z"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"package_price": "3490"}, "package_price"),
        ({"package_price": 3490.0}, "package_price"),
        ({"guest_count": True}, "guest_count"),
        ({"guest_count": 0}, "guest_count"),
        ({"total_amount": -5}, "total_amount"),
        ({"activity_date": 0}, "activity_date"),
        ({"activity_date": "01/03/2026"}, "activity_date"),
        ({"activity_date": "2026-03-01T00:00:00"}, "activity_date"),
        ({"created_at": "2026-02-20T10:30:00"}, "created_at"),
        ({"created_at": 1771583400}, "created_at"),
        ({"currency": "BAHT"}, "currency"),
        ({"status": "lost"}, "status"),
        ({"event": "booking.deleted"}, "event"),
        ({"source_booking_id": "has space"}, "source_booking_id"),
        ({"source_booking_id": ""}, "source_booking_id"),
        ({"stripe_payment_intent_id": "ch_123"}, "stripe_payment_intent_id"),
        ({"customer": {"name": "J", "email": "nope"}}, "customer.email"),
        ({"customer": {"name": "", "email": "j@example.com"}}, "customer.name"),
        ({"customer": {"name": "J", "email": "j@example.com", "country_code": "TH"}}, "customer.country_code"),
        ({"transport": {"type": "helicopter"}}, "transport.type"),
        ({"addons": [{"name": "Photo", "quantity": 0, "unit_price": 1}]}, "addons.0.quantity"),
        ({"addons": {"name": "Photo"}}, "addons"),
        ({"coupon": "FREE"}, "coupon"),
        ({"customer": {"name": "J", "email": "j@example.com", "vip": True}}, "customer.vip"),
        ({"version": -1}, "version"),
    ],
)
def test_mistyped_or_unknown_field_is_named(changes: dict[str, Any], field: str) -> None:
    error = _rejected(_seed(**changes))

    assert _fields(error) == {field}
    assert error.message == "Request body validation failed"


def test_several_failures_are_all_reported() -> None:
    error = _rejected(_seed(package_price="1", guest_count="2", extra=1))

    assert _fields(error) == {"package_price", "guest_count", "extra"}


def test_created_must_carry_the_full_booking() -> None:
    error = _rejected(_seed(package_name=None, customer=None, activity_date=None))

    assert _fields(error) == {"package_name", "customer", "activity_date"}


def test_partial_payloads_are_fine_on_other_events() -> None:
    assert not _parse({"event": "booking.updated", "source_booking_id": "s-1"}).is_complete
    assert _parse(_seed(event="booking.updated")).is_complete


def test_cancellation_cannot_claim_an_active_status() -> None:
    error = _rejected({"event": "booking.cancelled", "source_booking_id": "s-1", "status": "confirmed"})

    assert _fields(error) == {"status"}


def test_change_time_far_in_the_future_is_refused() -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()

    assert _parse({"event": "booking.updated", "source_booking_id": "s-1", "updated_at": soon}).updated_at
    assert _fields(_rejected({"event": "booking.updated", "source_booking_id": "s-1", "updated_at": later})) == {
        "updated_at"
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"event": "booking.created"', "Request body is not valid JSON"),
        ("", "Request body is not valid JSON"),
        ('{"booking_ref": "\\ud800"}', "Request body is not valid JSON"),
        ("[]", "Request body must be a JSON object"),
        ('"booking"', "Request body must be a JSON object"),
    ],
)
def test_body_that_is_not_a_json_object(raw: str, message: str) -> None:
    error = _rejected(raw)

    assert error.message == message
    assert _fields(error) == {"body"}


def test_invalid_utf8_is_invalid_json() -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse_sync_request(b'{"event": "booking.updated", "source_booking_id": "\xff"}')
    assert raised.value.message == "Request body is not valid JSON"


def test_details_never_echo_the_input() -> None:
    error = _rejected(_seed(customer={"name": "J", "email": "private-person"}, package_price="SECRET-99"))

    assert "private-person" not in json.dumps(error.details)
    assert "SECRET-99" not in json.dumps(error.details)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("john@example.com", "john@example.com"),  # the seed's own example
        ("ops@demo.example", "ops@demo.example"),  # RFC 2606 documentation names are addresses
        ("a.b+tag@example.org", "a.b+tag@example.org"),
        ("New.Address@EXAMPLE.com", "New.Address@example.com"),  # the domain is case-insensitive
        ("  john@example.com ", "john@example.com"),
        ("jöhn@exämple.com", "jöhn@exämple.com"),  # internationalised
    ],
)
def test_customer_email_uses_pydantics_email_validation(sent: str, stored: str) -> None:
    customer = {"name": "J", "email": sent}
    assert _parse(_seed(customer=customer)).booking_fields()["customer_email"] == stored


@pytest.mark.parametrize(
    "email",
    ["john-at-example.com", "john@@example.com", "john@localhost", "john@example", "jo hn@example.com", "a@b.test"],
)
def test_not_an_email_is_invalid_payload_on_the_field(email: str) -> None:
    error = _rejected(_seed(customer={"name": "J", "email": email}))

    assert error.code == "INVALID_PAYLOAD"
    (detail,) = error.details or []
    assert detail["field"] == "customer.email"
    assert detail["message"].startswith("value is not a valid email address")


def _fields_by_model_dump(request: Any) -> dict[str, Any]:
    """booking_fields as it was written before it read the model's values directly (one model_dump)."""
    from bookinghub.bookings.models.payload_shape import CUSTOMER_COLUMNS, RENAMED_COLUMNS, TRANSPORT_COLUMNS
    from bookinghub.bookings.models.sync import PLAIN_COLUMNS
    from bookinghub.core.clock import to_iso

    data = request.model_dump(exclude_none=True)
    fields = {name: data[name] for name in PLAIN_COLUMNS if name in data}
    if "reason" in data:
        fields[RENAMED_COLUMNS["reason"]] = data["reason"]
    if "activity_date" in data:
        fields["activity_date"] = data["activity_date"].isoformat()
    if (status := request.effective_status()) is not None:
        fields["status"] = status
    if "created_at" in data:
        fields[RENAMED_COLUMNS["created_at"]] = to_iso(data["created_at"])
    for key, value in data.get("customer", {}).items():
        fields[CUSTOMER_COLUMNS[key]] = value
    for key, value in data.get("transport", {}).items():
        fields[TRANSPORT_COLUMNS[key]] = value
    if "addons" in data:
        fields["addons"] = data["addons"]
    return fields


@pytest.mark.parametrize(
    "body",
    [
        _seed(),
        _seed(transport={"type": "self_arrange"}, addons=[], customer={"name": "A", "email": "a@example.com"}),
        {"event": "booking.cancelled", "source_booking_id": "s-1", "reason": " gone ", "refund_amount": 5},
        {"event": "booking.updated", "source_booking_id": "s-2", "version": 3, "transport": {"cost": 7}},
        {"event": "booking.refunded", "source_booking_id": "s-3", "updated_at": "2026-02-21T18:00:00+07:00"},
    ],
)
def test_booking_fields_are_the_payload_flattened_in_its_order(body: dict[str, Any]) -> None:
    request = _parse(body)
    fields = request.booking_fields()
    expected = _fields_by_model_dump(request)
    assert fields == expected
    assert list(fields) == list(expected)


def test_an_addons_fields_are_all_required() -> None:
    # booking_fields copies an add-on's values as they are: a field that could be None would be stored
    from bookinghub.bookings.models.sync import Addon

    assert all(field.is_required() for field in Addon.model_fields.values())


def test_nested_column_maps_name_every_nested_field_in_order() -> None:
    # booking_fields reads nested models through these maps: a field missing here would be dropped
    from bookinghub.bookings.models.fields import Transport
    from bookinghub.bookings.models.payload_shape import CUSTOMER_COLUMNS, TRANSPORT_COLUMNS
    from bookinghub.bookings.models.sync import Customer

    assert list(CUSTOMER_COLUMNS) == list(Customer.model_fields)
    assert list(TRANSPORT_COLUMNS) == list(Transport.model_fields)
