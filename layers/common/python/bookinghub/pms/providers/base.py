"""The port every PMS provider implements, and what it is given about the hotel.

A provider fetches raw records (bookings since a time, rooms, guests) and normalises each one on its
own, so one record it cannot map is a failed item, not a failed sync. Webhooks: `webhook_reference`
checks a provider webhook's body at the edge (a 400 stores nothing) and names the booking it is about;
`booking_from_webhook` runs later, in the consumer, and may re-fetch the booking from the PMS (Cloudbeds'
webhooks carry ids only, and are unsigned, so their content is never trusted as is).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bookinghub.pms.models import FetchOptions, NormalizedBooking, NormalizedGuest, NormalizedRoom


@dataclass(frozen=True)
class HotelContext:
    slug: str
    organisation_id: str
    provider: str
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)  # decrypted; never logged
    settings: Mapping[str, str] = field(default_factory=dict)  # non-secret: property id, base URL


@dataclass(frozen=True)
class WebhookReference:
    """What a provider webhook is about: the booking, and a key that is the same for a redelivery."""

    external_id: str
    event_key: str


class PMSProvider(Protocol):
    key: str

    def fetch_bookings(self, options: FetchOptions) -> Iterable[Any]: ...

    def normalize_booking(self, raw: Any) -> NormalizedBooking: ...

    def fetch_rooms(self, options: FetchOptions) -> Iterable[Any]: ...

    def normalize_room(self, raw: Any) -> NormalizedRoom: ...

    def fetch_guests(self, options: FetchOptions) -> Iterable[Any]: ...

    def normalize_guest(self, raw: Any) -> NormalizedGuest: ...

    def webhook_reference(self, payload: Mapping[str, Any]) -> WebhookReference: ...

    def booking_from_webhook(self, payload: Mapping[str, Any]) -> NormalizedBooking | None: ...
