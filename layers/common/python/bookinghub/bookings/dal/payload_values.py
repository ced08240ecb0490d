"""A sync payload's booking columns as DynamoDB attribute values, in one pass over the payload.

`BookingSyncRequest.booking_fields()` flattens a payload into the booking's columns, and the codec would
then make a second pass over them for a new booking's item; a creation's columns are only ever written,
so they are built here directly as attribute values: `column_values(request) ==
to_item(request.booking_fields())`, key for key (tests/unit/test_payload_values.py checks it over
generated payloads). The names and flattening are the model's own (its PLAIN_COLUMNS and
payload_shape's maps); only the values' form is this module's.
"""

from __future__ import annotations

from typing import Any

from bookinghub.aws.codec import to_attr, to_item
from bookinghub.bookings.models.payload_shape import CUSTOMER_COLUMNS, RENAMED_COLUMNS, TRANSPORT_COLUMNS
from bookinghub.bookings.models.sync import PLAIN_COLUMNS, BookingSyncRequest
from bookinghub.core.clock import iso_date, to_iso

_REASON, _CREATED = RENAMED_COLUMNS["reason"], RENAMED_COLUMNS["created_at"]
_NESTED = (("customer", tuple(CUSTOMER_COLUMNS.items())), ("transport", tuple(TRANSPORT_COLUMNS.items())))


def column_values(request: BookingSyncRequest) -> dict[str, Any]:
    """to_item(request.booking_fields()), built from the payload's values themselves."""
    values = request.__dict__  # (a model's fields are its __dict__, as booking_fields reads them)
    item: dict[str, Any] = {}
    # The payload's values are text and integers; anything else goes through the codec
    for name in PLAIN_COLUMNS:
        if (value := values[name]) is not None:
            kind = type(value)
            item[name] = {"S": value} if kind is str else {"N": str(value)} if kind is int else to_attr(value)
    if (reason := values["reason"]) is not None:
        item[_REASON] = {"S": reason}
    if (day := values["activity_date"]) is not None:
        item["activity_date"] = {"S": iso_date(day)}
    if (status := request.effective_status()) is not None:
        item["status"] = {"S": status}
    if (created := values["created_at"]) is not None:
        item[_CREATED] = {"S": to_iso(created)}
    _add_nested(values, item)
    if (addons := values["addons"]) is not None:
        item["addons"] = {"L": [{"M": to_item(addon.__dict__)} for addon in addons]}
    return item


def _add_nested(values: dict[str, Any], item: dict[str, Any]) -> None:
    """The customer's and the transport's columns, under their column names, in their fields' order."""
    for part_name, columns in _NESTED:
        if (part := values[part_name]) is not None:
            nested = part.__dict__
            for name, column in columns:
                if (value := nested[name]) is not None:
                    kind = type(value)
                    item[column] = {"S": value} if kind is str else {"N": str(value)} if kind is int else to_attr(value)


def text_of(values: dict[str, Any], column: str) -> str | None:
    """A text column's value out of `column_values`' attribute values (None: not there)."""
    value = values.get(column)
    return None if value is None else value["S"]
