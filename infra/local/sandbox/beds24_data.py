"""Helpers behind the Beds24 sandbox (infra/local/sandbox/beds24.py): the demo property, the Beds24 booking
object, seeded and generated bookings, the GET /v2/bookings filters and the POST /v2/bookings fields (the
webhook dispatcher is in beds24_webhooks.py).

Stored bookings are plain dicts holding only what differs from BOOKING_TEMPLATE (`render` fills in the
rest), so 10,000 generated bookings stay light. Every stored booking holds the fields the filters read:
id, propertyId, roomId, status, arrival, departure, bookingTime, modifiedTime.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeGuard

from werkzeug.datastructures import MultiDict

DEMO_PROPERTY_ID = 12345
DEMO_REFRESH_TOKEN = "local-demo-beds24-refresh-token"  # noqa: S105 - a local demo value, meaningless elsewhere
DEMO_TIME_ZONE = "Asia/Bangkok"
DEMO_ROOM_TYPES: tuple[tuple[int, str, int, str], ...] = (  # (id, name, qty, Beds24 roomType)
    (501, "Deluxe Double", 4, "double"),
    (502, "Family Suite", 2, "family"),
    (503, "Garden Bungalow", 3, "bungalow"),
)
DEMO_ROOM_IDS: tuple[int, ...] = tuple(room[0] for room in DEMO_ROOM_TYPES)
FIRST_BOOKING_ID = 40000001  # Beds24 booking ids are 8-digit numbers
STATUSES = ("confirmed", "request", "new", "cancelled", "black", "inquiry")
DEFAULT_STATUSES = frozenset(STATUSES) - {"cancelled"}  # Beds24's default when no status is given
MAX_RECORDS = 20_000  # /_calls and /_webhooks keep the latest only, so a long `make run` stays bounded
# Bangkok has had no DST since 1920, so a fixed offset is exact and needs no tzdata on the machine
PROPERTY_TZ = timezone(timedelta(hours=7), DEMO_TIME_ZONE)

# The Beds24 v2 booking object, in the order Beds24 answers it (fields we never set keep these values)
BOOKING_TEMPLATE: dict[str, Any] = {
    "id": 0, "masterId": None, "propertyId": 0, "roomId": 0, "unitId": 1, "roomQty": 1, "status": "confirmed",
    "subStatus": "", "arrival": "", "departure": "", "numAdult": 1, "numChild": 0, "title": "", "firstName": "",
    "lastName": "", "email": "", "phone": "", "mobile": "", "fax": "", "company": "", "address": "", "city": "",
    "state": "", "postcode": "", "country": "", "country2": "", "arrivalTime": "", "voucher": "", "comments": "",
    "notes": "", "message": "", "groupNote": "", **{f"custom{n}": "" for n in range(1, 11)}, "flagColor": "",
    "flagText": "", "statusCode": 0, "lang": "en", "offerId": 1, "price": 0, "deposit": 0, "tax": 0,
    "commission": 0, "rateDescription": "", "channel": "direct", "apiSourceId": 0, "apiSource": "Direct",
    "apiReference": "", "referer": "", "reference": "", "allowChannelUpdate": "all", "allowAutoAction": "enable",
    "allowReview": "default", "invoiceeId": None, "bookingTime": "", "modifiedTime": "", "cancelTime": None,
}  # fmt: skip
_INT_FIELDS = {"roomId": (1, None), "unitId": (1, 99), "roomQty": (1, 99), "numAdult": (0, 99), "numChild": (0, 99),
               "offerId": (1, 99), "statusCode": (0, None)}  # fmt: skip
_NULLABLE_INT_FIELDS = {"masterId", "invoiceeId"}
_MONEY_FIELDS = {"price", "deposit", "tax", "commission"}
_READ_ONLY_FIELDS = {"propertyId", "bookingTime", "modifiedTime", "cancelTime", "apiSourceId", "apiSource"}
_STRING_FIELDS = {name for name, value in BOOKING_TEMPLATE.items() if isinstance(value, str)} - _READ_ONLY_FIELDS - {
    "arrival", "departure", "status"}  # fmt: skip
_NULLABLE_STRING_FIELDS = {"country2", "groupNote"}
_WRITABLE_FIELDS = _STRING_FIELDS | set(_INT_FIELDS) | _NULLABLE_INT_FIELDS | _MONEY_FIELDS | {
    "arrival", "departure", "status"}  # fmt: skip
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_RE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}:\d{2})Z?)?")
_DATE_FILTERS = ("arrival", "arrivalFrom", "arrivalTo", "departure", "departureFrom", "departureTo")


class BadRequest(ValueError):
    """Bad input to a Beds24 endpoint: answered 400 in the UnsuccessfulApiResponse shape."""


def iso_time(ts: float) -> str:
    """Beds24's UTC timestamp format, second resolution."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def local_today(ts: float) -> date:
    """Beds24 dates are in the property's time zone."""
    return datetime.fromtimestamp(ts, PROPERTY_TZ).date()


def render(booking: Mapping[str, Any]) -> dict[str, Any]:
    return {**BOOKING_TEMPLATE, **booking}


def error(field: str, message: str) -> dict[str, str]:
    return {"action": "", "field": field, "message": message}


# --- properties --------------------------------------------------------------------------------------------


def make_property(property_id: int, name: str, rooms: Sequence[tuple[int, str, int, str]]) -> dict[str, Any]:
    return {
        "id": property_id,
        "name": name,
        "propertyType": "hotel",
        "currency": "THB",
        "country": "TH",
        "city": "Phuket",
        # Not in the v2 property schema (Beds24 keeps it in the account settings); shown so demos can see it
        "timeZone": DEMO_TIME_ZONE,
        "roomTypes": [
            {
                "id": room_id,
                "propertyId": property_id,
                "name": room_name,
                "roomType": room_type,
                "qty": qty,
                "maxPeople": 4,
                "units": [{"id": unit, "name": f"{room_name} {unit}"} for unit in range(1, qty + 1)],
            }
            for room_id, room_name, qty, room_type in rooms
        ],
    }


# --- seeded and generated bookings -------------------------------------------------------------------------


def demo_bookings(now: float, first_id: int) -> list[dict[str, Any]]:
    """Six bookings around `now` covering the cases a sync must handle."""
    today = local_today(now)

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    def stamp(days_ago: float) -> str:
        return iso_time(now - days_ago * 86400)

    seeds: list[dict[str, Any]] = [
        # Same guest twice, email differing only in letter case (the hub must see one guest)
        {"roomId": 501, "arrival": day(3), "departure": day(6), "numAdult": 2, "firstName": "Anna", "lastName": "Lee",
         "email": "Anna.Lee@example.com", "phone": "+61 412 345 678", "country": "Australia", "country2": "AU",
         "price": 10500, "deposit": 3000, "commission": 1575, "channel": "booking", "apiSource": "Booking.com",
         "apiReference": "4012345678", "referer": "Booking.com", "bookingTime": stamp(12)},
        {"roomId": 503, "arrival": day(30), "departure": day(33), "numAdult": 2, "firstName": "Anna",
         "lastName": "Lee", "email": "anna.lee@example.com", "country2": "AU", "price": 8400,
         "notes": "Returning guest", "bookingTime": stamp(2)},
        # Mobile only, in Thai local format
        {"roomId": 502, "arrival": day(7), "departure": day(10), "numAdult": 2, "numChild": 2,
         "firstName": "Somchai", "lastName": "Jaidee", "email": "somchai.j@example.co.th", "mobile": "081 234 5678",
         "country": "Thailand", "country2": "TH", "price": 19800, "comments": "Late arrival, around 22:00",
         "bookingTime": stamp(5)},
        # Phone but no email, staying now
        {"roomId": 501, "arrival": day(-2), "departure": day(2), "status": "request", "firstName": "Oliver",
         "lastName": "Brown", "phone": "+44 20 7946 0958", "country2": "GB", "price": 14000, "bookingTime": stamp(9)},
        # Past stay: left out by the default "upcoming only"
        {"roomId": 503, "arrival": day(-20), "departure": day(-17), "firstName": "Maria", "lastName": "Garcia",
         "email": "maria.garcia@example.es", "country2": "ES", "price": 8400, "channel": "airbnb",
         "apiSource": "Airbnb", "apiReference": "HMABC12345", "bookingTime": stamp(40)},
        {"roomId": 502, "arrival": day(12), "departure": day(14), "status": "cancelled",
         "subStatus": "cancelledByGuest", "firstName": "Kenji", "lastName": "Sato", "email": "kenji.sato@example.jp",
         "country2": "JP", "price": 13200, "bookingTime": stamp(20), "cancelTime": stamp(1)},
    ]  # fmt: skip
    for offset, booking in enumerate(seeds):
        booking.update(id=first_id + offset, propertyId=DEMO_PROPERTY_ID)
        booking.setdefault("status", "confirmed")
        booking["modifiedTime"] = booking.get("cancelTime") or booking["bookingTime"]
    return seeds


def demo_items(first_id: int, now: float) -> dict[str, dict[int, list[dict[str, Any]]]]:
    """Info and invoice items of the first demo booking, so includeInfoItems / includeInvoiceItems show some."""
    common = {"bookingId": first_id, "createTime": iso_time(now - 12 * 86400)}
    return {
        "infoItems": {first_id: [{"id": 1, **common, "code": "PICKUP", "text": "Airport pickup 14:30"}]},
        "invoiceItems": {
            first_id: [
                {"id": 2, **common, "type": "charge", "description": "Deluxe Double, 3 nights", "qty": 1,
                 "amount": 10500, "lineTotal": 10500, "vatRate": 7, "invoiceeId": None},
                {"id": 3, **common, "type": "payment", "description": "Deposit", "qty": 1, "amount": 3000,
                 "lineTotal": 3000, "vatRate": 0, "invoiceeId": None},
            ]
        },
    }  # fmt: skip


_FIRST_NAMES = ("Anna", "Ben", "Chai", "Dao", "Emma", "Felix", "Guo", "Hana", "Ivan", "Jun", "Kanya", "Liam")
_LAST_NAMES = ("Lee", "Smith", "Suzuki", "Wong", "Garcia", "Muller", "Rossi", "Khan", "Nguyen", "Brown", "Sato")
_CHANNELS = ("booking", "airbnb", "expedia", "direct", "agoda")
_COUNTRIES = ("TH", "AU", "GB", "DE", "JP", "US", "SG")


def generate_bookings(
    count: int, *, first_id: int, property_id: int, rooms: Sequence[tuple[int, int]], now: float
) -> Iterator[dict[str, Any]]:
    """`count` deterministic bookings (same clock, same bookings): arrivals from 45 days ago to a year ahead,
    every 20th cancelled, every 10th a request, modified one minute apart before `now`. `rooms` is a list of
    (room id, qty)."""
    today = local_today(now)
    days = [(today + timedelta(days=offset)).isoformat() for offset in range(-45, 382)]  # shared strings
    for n in range(count):
        booking_id = first_id + n
        arrival = (n * 7) % 420  # index into days
        room_id, qty = rooms[n % len(rooms)]
        first, last = _FIRST_NAMES[n % 12], _LAST_NAMES[(n // 12) % 11]
        stamp = iso_time(now - (count - n) * 60)
        status = "cancelled" if n % 20 == 19 else "request" if n % 10 == 4 else "confirmed"
        yield {
            "id": booking_id, "propertyId": property_id, "roomId": room_id, "unitId": 1 + n % qty, "status": status,
            "arrival": days[arrival], "departure": days[arrival + 1 + n % 6], "numAdult": 1 + n % 3,
            "numChild": n % 2, "firstName": first, "lastName": last,
            "email": f"{first}.{last}.{booking_id}@example.com".lower(), "country2": _COUNTRIES[n % 7],
            "price": 1500 + (n % 9) * 350, "channel": _CHANNELS[n % 5], "apiReference": f"GEN-{booking_id}",
            "bookingTime": stamp, "modifiedTime": stamp, "cancelTime": stamp if status == "cancelled" else None,
        }  # fmt: skip


# --- GET /v2/bookings --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingQuery:
    """The parsed filters; hashable so the app can cache one query's matches while a client pages."""

    ids: frozenset[int] | None = None
    property_ids: frozenset[int] | None = None
    room_ids: frozenset[int] | None = None
    statuses: frozenset[str] = DEFAULT_STATUSES
    arrival_from: str | None = None  # bounds are inclusive; dates and UTC times compare as strings
    arrival_to: str | None = None
    departure_from: str | None = None
    departure_to: str | None = None
    modified_from: str | None = None
    modified_to: str | None = None
    search: str | None = None  # lower case
    include_info_items: bool = False
    include_invoice_items: bool = False
    page: int = 1

    def matches(self, b: Mapping[str, Any]) -> bool:  # plain ifs: this runs for every stored booking
        if b["status"] not in self.statuses:
            return False
        if self.property_ids is not None and b["propertyId"] not in self.property_ids:
            return False
        if self.room_ids is not None and b["roomId"] not in self.room_ids:
            return False
        if self.arrival_from is not None and b["arrival"] < self.arrival_from:
            return False
        if self.arrival_to is not None and b["arrival"] > self.arrival_to:
            return False
        if self.departure_from is not None and b["departure"] < self.departure_from:
            return False
        if self.departure_to is not None and b["departure"] > self.departure_to:
            return False
        if self.modified_from is not None and b["modifiedTime"] < self.modified_from:
            return False
        if self.modified_to is not None and b["modifiedTime"] > self.modified_to:
            return False
        return self.search is None or self._found(b, self.search)

    @staticmethod
    def _found(b: Mapping[str, Any], needle: str) -> bool:
        first, last = b.get("firstName", ""), b.get("lastName", "")
        haystack = (first, last, f"{first} {last}", b.get("email", ""), b.get("apiReference", ""), str(b["id"]))
        return any(needle in value.lower() for value in haystack)


def parse_date(value: str, name: str) -> str:
    if _DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise BadRequest(f"{name} must be a date YYYY-MM-DD")


def _parse_datetime(value: str, name: str, *, end_of_day: bool) -> str:
    """YYYY-MM-DDTHH:MM:SS (UTC, optional Z) or a bare date, normalised to Beds24's stored form."""
    match = _DATETIME_RE.fullmatch(value)
    if match:
        day, clock = match.group(1), match.group(2) or ("23:59:59" if end_of_day else "00:00:00")
        try:
            datetime.strptime(f"{day}T{clock}", "%Y-%m-%dT%H:%M:%S")
            return f"{day}T{clock}Z"
        except ValueError:
            pass
    raise BadRequest(f"{name} must be a UTC time YYYY-MM-DDTHH:MM:SS")


def int_list(args: MultiDict[str, str], name: str) -> frozenset[int] | None:
    values = args.getlist(name)
    if not values:
        return None
    if not all(value.isascii() and value.isdigit() for value in values):
        raise BadRequest(f"{name} must be an integer")
    return frozenset(int(value) for value in values)


def flag(args: MultiDict[str, str], name: str) -> bool:
    value = args.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise BadRequest(f"{name} must be true or false")
    return value in ("true", "1")


def parse_booking_query(args: MultiDict[str, str], today: date) -> BookingQuery:
    statuses = args.getlist("status")
    if unknown := [status for status in statuses if status not in STATUSES]:
        raise BadRequest(f"Unknown status {unknown[0]!r}; expected one of {', '.join(STATUSES)}")
    page = args.get("page", "1")
    if not (page.isascii() and page.isdigit()) or int(page) < 1:
        raise BadRequest("page must be an integer >= 1")
    ids = int_list(args, "id")

    def dates(*names: str) -> list[str]:
        return [parse_date(value, name) for name in names for value in args.getlist(name)]

    def times(name: str, *, end_of_day: bool) -> str | None:
        value = args.get(name)
        return None if value is None else _parse_datetime(value, name, end_of_day=end_of_day)

    departure_from = max(dates("departure", "departureFrom"), default=None)
    if ids is None and not any(name in args for name in _DATE_FILTERS):
        departure_from = today.isoformat()  # Beds24 answers only upcoming bookings by default
    search = args.get("searchString")
    return BookingQuery(
        ids=ids,
        property_ids=int_list(args, "propertyId"),
        room_ids=int_list(args, "roomId"),
        statuses=frozenset(statuses) if statuses else DEFAULT_STATUSES,
        arrival_from=max(dates("arrival", "arrivalFrom"), default=None),
        arrival_to=min(dates("arrival", "arrivalTo"), default=None),
        departure_from=departure_from,
        departure_to=min(dates("departure", "departureTo"), default=None),
        modified_from=times("modifiedFrom", end_of_day=False),
        modified_to=times("modifiedTo", end_of_day=True),
        search=search.lower() if search else None,
        include_info_items=flag(args, "includeInfoItems"),
        include_invoice_items=flag(args, "includeInvoiceItems"),
        page=int(page),
    )


# --- POST /v2/bookings -------------------------------------------------------------------------------------


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _field_problem(name: str, value: Any) -> tuple[Any, str | None]:
    """(normalised value, problem) for one writable field."""
    if name in _INT_FIELDS:
        low, high = _INT_FIELDS[name]
        ok = is_int(value) and value >= low and (high is None or value <= high)
        return value, None if ok else f"must be an integer from {low}" + (f" to {high}" if high else "")
    if name in _NULLABLE_INT_FIELDS:
        return value, None if value is None or is_int(value) else "must be an integer or null"
    if name in _MONEY_FIELDS:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 99999999.99
        return value, None if ok else "must be a number 0-99999999.99"
    if name in ("arrival", "departure"):
        try:
            return parse_date(value if isinstance(value, str) else "", name), None
        except BadRequest as problem:
            return value, str(problem)
    if name == "status":
        return value, None if value in STATUSES else f"must be one of {', '.join(STATUSES)}"
    if value is None and name in _NULLABLE_STRING_FIELDS:
        return None, None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value), None  # Beds24 takes e.g. "mobile": 123456789 (its own example) as text
    return value, None if isinstance(value, str) and len(value) <= 5000 else "must be text (up to 5000 characters)"


def parse_booking_changes(
    element: Mapping[str, Any],
) -> tuple[dict[str, Any], list[dict[str, str]], list[dict[str, str]]]:
    """(field changes, errors, warnings) of one POST element (its `id` aside). Info and invoice items are
    not writable in the sandbox: they come back as warnings, like any unknown field."""
    changes: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    warnings: list[dict[str, str]] = []
    for name, value in element.items():
        if name in ("id", "actions"):  # id is the caller's; booking actions have no effect in a sandbox
            continue
        if name in _WRITABLE_FIELDS:
            normalised, problem = _field_problem(name, value)
            if problem:
                errors.append(error(name, f"{name} {problem}"))
            else:
                changes[name] = normalised
        else:
            warnings.append({"action": "ignored", "field": name, "message": "Unknown or read-only field"})
    return changes, errors, warnings


def check_booking(booking: Mapping[str, Any], rooms: Mapping[int, tuple[int, int]]) -> list[dict[str, str]]:
    """Rules on the whole (merged) booking. `rooms` maps room id -> (property id, qty)."""
    errors: list[dict[str, str]] = []
    room = rooms.get(booking["roomId"])
    if room is None:
        errors.append(error("roomId", f"Unknown roomId {booking['roomId']}"))
    elif booking.get("unitId", 1) > room[1]:
        errors.append(error("unitId", f"Room {booking['roomId']} has units 1-{room[1]}"))
    if booking["departure"] <= booking["arrival"]:
        errors.append(error("departure", "departure must be after arrival"))
    return errors
