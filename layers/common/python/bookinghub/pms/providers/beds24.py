"""The `beds24` provider: Beds24 API v2 through the hub's own Beds24 client and booking model.

Credentials: `refresh_token`. Settings: `property_id` (Beds24's numeric id), optionally `base_url`
(the sandbox under `make run`) and `currency` (Beds24 bookings carry none; the property's currency).
The Beds24 module (seed 001) keeps its own full pipeline (reservations, rooms, reconciliation); this
provider is the PMS port's view of the same API for hotels configured through /api/pms.
Beds24 has no room-status or guest-list endpoint: rooms and guests come from the bookings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC
from decimal import Decimal
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from bookinghub.beds24.client.api import Beds24Client, BookingQuery
from bookinghub.beds24.logic.apply import parse_booking
from bookinghub.core.errors import InvalidPayload
from bookinghub.core.settings import get_settings
from bookinghub.pms.errors import MappingError
from bookinghub.pms.models import (
    BookingSource,
    BookingStatus,
    FetchOptions,
    NormalizedBooking,
    NormalizedGuest,
    NormalizedRoom,
    RoomStatus,
)
from bookinghub.pms.providers.base import HotelContext, WebhookReference

DEFAULT_BASE_URL = "https://beds24.com/api/v2"
STATUSES: dict[str, BookingStatus] = {
    "confirmed": BookingStatus.CONFIRMED,
    "new": BookingStatus.CONFIRMED,
    "request": BookingStatus.PENDING,
    "inquiry": BookingStatus.PENDING,
    "cancelled": BookingStatus.CANCELLED,
    "black": BookingStatus.CANCELLED,  # a blocked-out booking holds no guest
}


class Beds24Provider:
    key = "beds24"

    def __init__(self, hotel: HotelContext) -> None:
        self.hotel = hotel

    @cached_property
    def client(self) -> Beds24Client:
        return Beds24Client(
            self.hotel.settings.get("base_url") or DEFAULT_BASE_URL,
            refresh_token=self.hotel.credentials["refresh_token"],
            allow_insecure_loopback=get_settings().allow_insecure_webhooks,  # the loopback sandbox (`make run`)
        )

    @property
    def property_id(self) -> int:
        return int(self.hotel.settings["property_id"])

    def fetch_bookings(self, options: FetchOptions) -> Iterable[Any]:
        since = options.since.astimezone(UTC) if options.since else None
        query = BookingQuery(property_ids=(self.property_id,), modified_from=since)
        count = 0
        for page in self.client.iter_pages(query):
            for booking in page.bookings:
                if count >= options.limit:
                    return
                count += 1
                yield booking

    def normalize_booking(self, raw: Any) -> NormalizedBooking:
        try:
            booking = parse_booking(raw)
            status = STATUSES.get(booking.status)
            if status is None:
                raise MappingError(f"unknown Beds24 status {booking.status[:20]!r}")
            currency = self.hotel.settings.get("currency")
            if not currency:
                raise MappingError("the hotel's currency is not configured")
            if booking.arrival is None or booking.departure is None:
                raise MappingError("booking has no dates")
            return NormalizedBooking(
                external_id=str(booking.id),
                status=status,
                source=BookingSource.OTA if booking.channel and booking.channel != "direct" else BookingSource.DIRECT,
                channel=booking.channel,
                guest=NormalizedGuest(
                    first_name=booking.first_name,
                    last_name=booking.last_name,
                    email=booking.email,
                    phone=booking.phone or booking.mobile,
                    country=booking.country2 or booking.country,
                ),
                check_in=booking.arrival,
                check_out=booking.departure,
                room=str(booking.room_id) if booking.room_id is not None else None,
                total_amount_cents=int((Decimal(str(booking.price or 0)) * 100).quantize(Decimal(1))),
                currency=currency,
                modified_at=booking.modified_time,
            )
        except ValidationError as error:
            raise MappingError(f"Beds24 booking does not map: {error.error_count()} errors") from None

    def fetch_rooms(self, options: FetchOptions) -> Iterable[Any]:
        rooms = {b.get("roomId") for b in self.fetch_bookings(FetchOptions(limit=1000)) if b.get("roomId")}
        return [{"roomId": room_id} for room_id in sorted(rooms)][: options.limit]

    def normalize_room(self, raw: Any) -> NormalizedRoom:
        if not isinstance(raw, Mapping) or raw.get("roomId") is None:
            raise MappingError("room has no id")
        return NormalizedRoom(
            external_id=str(raw["roomId"]), room_number=str(raw["roomId"]), status=RoomStatus.AVAILABLE
        )

    def fetch_guests(self, options: FetchOptions) -> Iterable[Any]:
        return [b for b in self.fetch_bookings(options) if b.get("email") or b.get("phone") or b.get("mobile")]

    def normalize_guest(self, raw: Any) -> NormalizedGuest:
        return self.normalize_booking(raw).guest

    def webhook_reference(self, payload: Mapping[str, Any]) -> WebhookReference:
        booking = payload.get("booking")
        if not isinstance(booking, dict) or not isinstance(booking.get("id"), int):
            raise InvalidPayload(
                "Not a Beds24 booking webhook", details=[{"field": "booking.id", "message": "required"}]
            )
        return WebhookReference(
            external_id=str(booking["id"]), event_key=f"{booking['id']}:{payload.get('timeStamp') or ''}"
        )

    def booking_from_webhook(self, payload: Mapping[str, Any]) -> NormalizedBooking | None:
        """Re-read from Beds24 (its webhooks are unsigned)."""
        reference = self.webhook_reference(payload)
        raw = self.client.get_booking(self.property_id, int(reference.external_id))
        return None if raw is None else self.normalize_booking(raw)
