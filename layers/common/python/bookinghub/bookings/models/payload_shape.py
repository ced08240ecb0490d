"""The seed 002 sync payload's shape against the booking's flat columns, both ways.

`BookingSyncRequest.booking_fields` flattens a payload into columns; `sync_payload` puts columns back
into the payload's shape (the inbound sync log of an applied change is read from its event's columns).
Kept apart from models/sync.py so that a reader of logs does not build the payload models (and import
their email validator).
"""

from __future__ import annotations

from typing import Any

# payload field -> column, inside `customer` and `transport`
CUSTOMER_COLUMNS = {
    "name": "customer_name",
    "email": "customer_email",
    "phone": "customer_phone",
    "country_code": "customer_country_code",
    "special_requests": "special_requests",  # the seed's column is not prefixed
}
TRANSPORT_COLUMNS = {
    "type": "transport_type",
    "hotel_name": "hotel_name",
    "room_number": "room_number",
    "non_players": "non_players",
    "private_passengers": "private_passengers",
    "cost": "transport_cost",
}
# top-level payload fields stored under another column name
RENAMED_COLUMNS = {"reason": "cancellation_reason", "created_at": "source_created_at"}

_NESTED = {"customer": CUSTOMER_COLUMNS, "transport": TRANSPORT_COLUMNS}
_FIELD_OF_COLUMN = {column: field for field, column in RENAMED_COLUMNS.items()}


def sync_payload(event_type: str, source_booking_id: str, columns: dict[str, Any]) -> dict[str, Any]:
    """The payload of a sync that set `columns`, in the seed's request shape (nested customer and
    transport, the seed's field names). Columns without a payload field (hub-only) are left out."""
    payload: dict[str, Any] = {"event": event_type, "source_booking_id": source_booking_id}
    nested_columns = {column for fields in _NESTED.values() for column in fields.values()}
    for column, value in columns.items():
        if column not in nested_columns:
            payload[_FIELD_OF_COLUMN.get(column, column)] = value
    for name, fields in _NESTED.items():
        part = {field: columns[column] for field, column in fields.items() if column in columns}
        if part:
            payload[name] = part
    return payload
