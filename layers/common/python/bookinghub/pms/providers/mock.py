"""The `mock` provider: deterministic data for development and demos, and the seed's webhook body.

Everything is drawn from a random generator seeded with the hotel's slug, so two runs (and two
machines) produce the same bookings, rooms and guests. Its webhook body is the seed's:
{"booking": {"id", "status", "guest": {"name", "email", "phone"}, "stay": {"checkIn", "checkOut", "room"},
"totals": {"amount", "currency"}, "channel"}}, applied as sent (the mock has nothing to re-fetch from).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from bookinghub.core.errors import InvalidPayload
from bookinghub.pms.errors import MappingError
from bookinghub.pms.models import (
    BookingSource,
    BookingStatus,
    CleaningStatus,
    FetchOptions,
    NormalizedBooking,
    NormalizedGuest,
    NormalizedRoom,
    RoomStatus,
)
from bookinghub.pms.providers.base import HotelContext, WebhookReference

STATUSES: dict[str, BookingStatus] = {
    "pending": BookingStatus.PENDING,
    "confirmed": BookingStatus.CONFIRMED,
    "cancelled": BookingStatus.CANCELLED,
    "checked_in": BookingStatus.CHECKED_IN,
    "checked_out": BookingStatus.CHECKED_OUT,
    "no_show": BookingStatus.NO_SHOW,
}
CHANNELS: dict[str, BookingSource] = {
    "direct": BookingSource.DIRECT,
    "ota": BookingSource.OTA,
    "walk_in": BookingSource.WALK_IN,
    "phone": BookingSource.PHONE,
}
_FIRST = ("Anna", "Ben", "Chai", "Dara", "Eli", "Fah", "Greta", "Hiro", "Ines", "Jon")
_LAST = ("Smith", "Wong", "Garcia", "Suzuki", "Muller", "Dubois", "Rossi", "Kim", "Novak", "Silva")
# A fixed epoch: the data does not move with the wall clock, so "since" filters are reproducible too
EPOCH = datetime(2025, 12, 1, tzinfo=UTC)
BOOKINGS, ROOMS, GUESTS = 30, 12, 20


def _rng(slug: str, kind: str) -> random.Random:
    return random.Random(int(hashlib.sha256(f"{slug}:{kind}".encode()).hexdigest()[:16], 16))


def _guest(rng: random.Random, index: int) -> dict[str, Any]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return {
        "id": f"G{index:04d}",
        "firstName": first,
        "lastName": last,
        "email": f"{first}.{last}.{index}@example.com".lower(),
        "phone": f"+1555{rng.randrange(1000000, 9999999)}",
        "loyaltyTier": rng.choice((None, "Silver", "Gold", "Platinum")),
        "totalStays": rng.randrange(0, 12),
        "modifiedAt": (EPOCH + timedelta(hours=index)).isoformat(),
    }


class MockProvider:
    key = "mock"

    def __init__(self, hotel: HotelContext) -> None:
        self.hotel = hotel

    # --- pulls -------------------------------------------------------------------------------------

    def fetch_bookings(self, options: FetchOptions) -> Iterable[Any]:
        rng = _rng(self.hotel.slug, "bookings")
        guests = [_guest(_rng(self.hotel.slug, f"guest{i}"), i) for i in range(GUESTS)]
        rows: list[dict[str, Any]] = []
        for index in range(BOOKINGS):
            check_in = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 120))
            guest = guests[rng.randrange(GUESTS)]
            rows.append(
                {
                    "id": f"MOCK-{index + 1:04d}",
                    "status": rng.choice(tuple(STATUSES)),
                    "guest": {
                        "name": f"{guest['firstName']} {guest['lastName']}",
                        "email": guest["email"],
                        "phone": guest["phone"],
                    },
                    "stay": {
                        "checkIn": check_in.isoformat(),
                        "checkOut": (check_in + timedelta(days=rng.randrange(1, 8))).isoformat(),
                        "room": str(101 + rng.randrange(ROOMS)),
                    },
                    "totals": {"amount": f"{rng.randrange(8000, 150000) / 100:.2f}", "currency": "USD"},
                    "channel": rng.choice(tuple(CHANNELS)).upper(),
                    "modifiedAt": (EPOCH + timedelta(hours=6 * index)).isoformat(),
                }
            )
        if options.since is not None:
            rows = [r for r in rows if datetime.fromisoformat(r["modifiedAt"]) >= options.since]
        return rows[: options.limit]

    def fetch_rooms(self, options: FetchOptions) -> Iterable[Any]:
        rng = _rng(self.hotel.slug, "rooms")
        return [
            {
                "id": f"R{101 + i}",
                "number": str(101 + i),
                "type": rng.choice(("Standard", "Deluxe", "Suite")),
                "status": rng.choice(("available", "occupied", "blocked")),
                "housekeeping": rng.choice(("clean", "dirty", "inspected")),
                "rate": rng.randrange(8000, 40000),
            }
            for i in range(ROOMS)
        ][: options.limit]

    def fetch_guests(self, options: FetchOptions) -> Iterable[Any]:
        rows = [_guest(_rng(self.hotel.slug, f"guest{i}"), i) for i in range(GUESTS)]
        if options.since is not None:
            rows = [r for r in rows if datetime.fromisoformat(r["modifiedAt"]) >= options.since]
        return rows[: options.limit]

    # --- normalisation ----------------------------------------------------------------------------

    def normalize_booking(self, raw: Any) -> NormalizedBooking:
        try:
            guest = raw.get("guest") or {}
            stay, totals = raw["stay"], raw["totals"]
            status = STATUSES.get(str(raw.get("status", "")).lower())
            if status is None:
                raise MappingError(f"unknown status {str(raw.get('status'))[:20]!r}")
            channel = str(raw.get("channel") or "")
            first, _, last = str(guest.get("name") or "").strip().partition(" ")
            return NormalizedBooking(
                external_id=str(raw["id"]),
                status=status,
                source=CHANNELS.get(channel.lower(), BookingSource.OTHER),
                channel=channel or None,
                guest=NormalizedGuest(
                    first_name=first or None,
                    last_name=last.strip() or None,
                    email=guest.get("email") or None,
                    phone=guest.get("phone") or None,
                ),
                check_in=stay["checkIn"],
                check_out=stay["checkOut"],
                room=str(stay["room"]) if stay.get("room") is not None else None,
                total_amount_cents=_cents(totals.get("amount")),
                currency=str(totals.get("currency") or "").upper(),
                modified_at=raw.get("modifiedAt"),
            )
        except MappingError:
            raise
        except (KeyError, TypeError, AttributeError, ValidationError) as error:
            raise MappingError(f"booking does not map: {type(error).__name__}") from None

    def normalize_room(self, raw: Any) -> NormalizedRoom:
        try:
            return NormalizedRoom(
                external_id=str(raw["id"]),
                room_number=str(raw["number"]),
                room_type=raw.get("type"),
                status=RoomStatus(str(raw["status"]).upper()),
                cleaning_status=CleaningStatus(str(raw.get("housekeeping", "unknown")).upper()),
                rate_cents=raw.get("rate"),
                currency="USD",
            )
        except (KeyError, TypeError, ValueError) as error:
            raise MappingError(f"room does not map: {type(error).__name__}") from None

    def normalize_guest(self, raw: Any) -> NormalizedGuest:
        try:
            return NormalizedGuest(
                external_id=str(raw["id"]),
                first_name=raw.get("firstName"),
                last_name=raw.get("lastName"),
                email=raw.get("email"),
                phone=raw.get("phone"),
                loyalty_tier=raw.get("loyaltyTier"),
                total_stays=raw.get("totalStays", 0),
                modified_at=raw.get("modifiedAt"),
            )
        except (KeyError, TypeError, ValidationError) as error:
            raise MappingError(f"guest does not map: {type(error).__name__}") from None

    # --- webhooks ---------------------------------------------------------------------------------

    def webhook_reference(self, payload: Mapping[str, Any]) -> WebhookReference:
        booking = payload.get("booking")
        if not isinstance(booking, dict):
            raise InvalidPayload(details=[{"field": "booking", "message": "required object"}])
        try:
            normalized = self.normalize_booking(booking)
        except MappingError as error:
            raise InvalidPayload(
                "The booking does not map", details=[{"field": "booking", "message": str(error)}]
            ) from None
        # The content is the event: a redelivery of the same body is the same event
        digest = hashlib.sha256(normalized.model_dump_json().encode()).hexdigest()[:32]
        return WebhookReference(external_id=normalized.external_id, event_key=digest)

    def booking_from_webhook(self, payload: Mapping[str, Any]) -> NormalizedBooking | None:
        return self.normalize_booking(payload["booking"])


def _cents(amount: Any) -> int:
    """Decimal arithmetic: 750.00 is 75000 cents exactly (float 0.1 + 0.2 style errors never reach money)."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise MappingError("amount is not a number") from None
    if not value.is_finite() or value < 0:
        raise MappingError("amount must be a non-negative number")
    return int((value * 100).quantize(Decimal(1)))
