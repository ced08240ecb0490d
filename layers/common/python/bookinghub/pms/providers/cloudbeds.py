"""The `cloudbeds` provider: Cloudbeds API v1.3 through the thin client (adapters/cloudbeds.py).

Credentials: `api_key` (a property key, `cbat_...`). Settings: `property_id`, optionally `base_url`
(the sandbox under `make run`) and `currency` (used only when an answer carries none).
Webhooks (`postWebhook` object/action, e.g. reservation/created, reservation/status_changed) carry ids
and a timestamp and are unsigned: the consumer re-fetches the reservation before applying it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from bookinghub.core.errors import InvalidPayload
from bookinghub.pms.adapters.cloudbeds import DEFAULT_BASE_URL, CloudbedsClient
from bookinghub.pms.adapters.policy import RetryPolicy
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

# All six reservation statuses of getReservations / getReservation (canceled has one l)
STATUSES: dict[str, BookingStatus] = {
    "not_confirmed": BookingStatus.PENDING,
    "confirmed": BookingStatus.CONFIRMED,
    "canceled": BookingStatus.CANCELLED,
    "checked_in": BookingStatus.CHECKED_IN,
    "checked_out": BookingStatus.CHECKED_OUT,
    "no_show": BookingStatus.NO_SHOW,
}
WEBHOOK_OBJECTS = ("reservation",)
# The adapters' policy (seed 004's retries); tests replace it to skip the real backoff sleeps
RETRY_POLICY = RetryPolicy()


def _source(raw: Mapping[str, Any]) -> BookingSource:
    source = raw.get("source")
    category = str(raw.get("sourceCategory") or (source.get("category") if isinstance(source, dict) else "") or "")
    name = str(raw.get("sourceName") or (source if isinstance(source, str) else "") or "")
    text = f"{category} {name}".lower()
    if "ota" in text or "booking.com" in text or "expedia" in text or "airbnb" in text:
        return BookingSource.OTA
    if "walk" in text:
        return BookingSource.WALK_IN
    if "phone" in text:
        return BookingSource.PHONE
    if "direct" in text or "website" in text or "booking engine" in text:
        return BookingSource.DIRECT
    return BookingSource.OTHER


def _cents(value: Any) -> int:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise MappingError("total is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise MappingError("total must be a non-negative number")
    return int((amount * 100).quantize(Decimal(1)))


def _main_guest(raw: Mapping[str, Any]) -> dict[str, Any]:
    guests = raw.get("guestList") or {}
    rows = [{**g, "guestID": str(g.get("guestID") or k)} for k, g in guests.items() if isinstance(g, dict)]
    main = next((g for g in rows if g.get("isMainGuest")), None)
    return main or next((g for g in rows if g["guestID"] == str(raw.get("guestID"))), None) or (rows[0] if rows else {})


def _modified(raw: Mapping[str, Any]) -> datetime | None:
    text = raw.get("dateModifiedUTC") or raw.get("dateModified")
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        return None


class CloudbedsProvider:
    key = "cloudbeds"

    def __init__(self, hotel: HotelContext) -> None:
        self.hotel = hotel

    @cached_property
    def client(self) -> CloudbedsClient:
        return CloudbedsClient(
            self.hotel.credentials["api_key"],
            self.hotel.settings["property_id"],
            base_url=self.hotel.settings.get("base_url") or DEFAULT_BASE_URL,
            policy=RETRY_POLICY,
        )

    # --- bookings -----------------------------------------------------------------------------------

    def fetch_bookings(self, options: FetchOptions) -> Iterable[Any]:
        for index, row in enumerate(self.client.reservations_with_rates(modified_from=options.since)):
            if index >= options.limit:
                return
            yield row

    def normalize_booking(self, raw: Any) -> NormalizedBooking:
        """A getReservationsWithRateDetails row (or a getReservation `data`): total and currency from
        there, never `balance` (the amount still owed)."""
        if not isinstance(raw, Mapping):
            raise MappingError("reservation is not an object")
        status = STATUSES.get(str(raw.get("status", "")))
        if status is None:
            raise MappingError(f"unknown reservation status {str(raw.get('status'))[:20]!r}")
        if raw.get("total") is None:
            raise MappingError("reservation has no total")
        currency = raw.get("propertyCurrency") or raw.get("currency") or self.hotel.settings.get("currency")
        if not currency:
            raise MappingError("reservation has no currency")
        guest = _main_guest(raw)
        rooms = [r for r in (raw.get("rooms") or raw.get("assigned") or []) if isinstance(r, dict)]
        room = next((str(r["roomName"]) for r in rooms if r.get("roomName")), None)
        try:
            return NormalizedBooking(
                external_id=str(raw["reservationID"]),
                status=status,
                source=_source(raw),
                channel=str(raw.get("sourceName") or raw.get("source") or "") or None
                if not isinstance(raw.get("source"), dict) or raw.get("sourceName")
                else str(raw["source"].get("name") or "") or None,
                guest=NormalizedGuest(
                    external_id=guest.get("guestID"),
                    first_name=guest.get("guestFirstName") or None,
                    last_name=guest.get("guestLastName") or None,
                    email=guest.get("guestEmail") or raw.get("guestEmail") or None,
                    phone=guest.get("guestPhone") or guest.get("guestCellPhone") or None,
                    country=guest.get("guestCountry") or raw.get("guestCountry") or None,
                ),
                check_in=date.fromisoformat(str(raw.get("reservationCheckIn") or raw["startDate"])[:10]),
                check_out=date.fromisoformat(str(raw.get("reservationCheckOut") or raw["endDate"])[:10]),
                room=room,
                total_amount_cents=_cents(raw["total"]),
                currency=str(currency).upper(),
                modified_at=_modified(raw),
            )
        except (KeyError, ValueError, ValidationError) as error:
            raise MappingError(f"reservation does not map: {type(error).__name__}") from None

    # --- rooms --------------------------------------------------------------------------------------

    def fetch_rooms(self, options: FetchOptions) -> Iterable[Any]:
        housekeeping = self.client.housekeeping()
        for index, room in enumerate(self.client.rooms()):
            if index >= options.limit:
                return
            yield {"room": room, "housekeeping": housekeeping.get(str(room.get("roomID")))}

    def normalize_room(self, raw: Any) -> NormalizedRoom:
        room, keeping = raw.get("room") or {}, raw.get("housekeeping") or {}
        if room.get("roomID") is None or not room.get("roomName"):
            raise MappingError("room has no id or name")
        if room.get("roomBlocked") or keeping.get("roomBlocked"):
            status = RoomStatus.BLOCKED
        elif keeping.get("roomOccupied"):
            status = RoomStatus.OCCUPIED
        else:
            status = RoomStatus.AVAILABLE
        condition = str(keeping.get("roomCondition") or "").lower()
        cleaning = {"clean": CleaningStatus.CLEAN, "dirty": CleaningStatus.DIRTY}.get(condition, CleaningStatus.UNKNOWN)
        return NormalizedRoom(
            external_id=str(room["roomID"]),
            room_number=str(room["roomName"]),
            room_type=room.get("roomTypeName"),
            status=status,
            cleaning_status=cleaning,
        )

    # --- guests -------------------------------------------------------------------------------------

    def fetch_guests(self, options: FetchOptions) -> Iterable[Any]:
        """getGuestList's rows; a merged guest is replaced by the guest it became (getGuest), once."""
        seen: set[str] = set()
        for row in self.client.guest_list(modified_from=options.since):
            if len(seen) >= options.limit:
                return
            if row.get("isMerged") and row.get("newGuestID"):
                row = self.client.guest(str(row["newGuestID"]))
            guest_id = str(row.get("guestID"))
            if guest_id in seen:
                continue
            seen.add(guest_id)
            yield row

    def normalize_guest(self, raw: Any) -> NormalizedGuest:
        if not isinstance(raw, Mapping) or not raw.get("guestID"):
            raise MappingError("guest has no id")
        try:
            return NormalizedGuest(
                external_id=str(raw["guestID"]),
                # getGuestList names them guestFirstName...; getGuest firstName...
                first_name=raw.get("guestFirstName") or raw.get("firstName") or None,
                last_name=raw.get("guestLastName") or raw.get("lastName") or None,
                email=raw.get("guestEmail") or raw.get("email") or None,
                phone=raw.get("guestPhone") or raw.get("phone") or raw.get("guestCellPhone") or None,
                country=raw.get("guestCountry") or raw.get("country") or None,
                modified_at=_modified(raw),
            )
        except ValidationError as error:
            raise MappingError(f"guest does not map: {error.error_count()} errors") from None

    # --- webhooks -----------------------------------------------------------------------------------

    def webhook_reference(self, payload: Mapping[str, Any]) -> WebhookReference:
        event = str(payload.get("event") or "")
        reservation_id = payload.get("reservationID") or payload.get("reservationId")
        details = []
        if event.partition("/")[0] not in WEBHOOK_OBJECTS:
            details.append({"field": "event", "message": "must be a reservation/<action> event"})
        if not reservation_id or not str(reservation_id).strip():
            details.append({"field": "reservationID", "message": "required"})
        if details:
            raise InvalidPayload("Not a Cloudbeds reservation webhook", details=details)
        timestamp = str(payload.get("timestamp") or "")
        return WebhookReference(external_id=str(reservation_id), event_key=f"{event}:{reservation_id}:{timestamp}")

    def booking_from_webhook(self, payload: Mapping[str, Any]) -> NormalizedBooking | None:
        """The reservation as Cloudbeds has it now (the webhook's content is never trusted)."""
        reference = self.webhook_reference(payload)
        raw = self.client.reservation_with_rates(reference.external_id)
        return None if raw is None else self.normalize_booking(raw)
