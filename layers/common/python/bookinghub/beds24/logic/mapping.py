"""Beds24 booking -> the hub's reservation (seed 001 "Map Beds24 -> PMS format"), without I/O.

The content hash covers what Beds24 says about the booking (not when the hub saw it), so the same booking
read twice hashes the same and a full sync skips it without a write.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from bookinghub.beds24.models.entities import Beds24Booking, Beds24Property, Reservation

RESERVATION_NAMESPACE = uuid.UUID("3d0c5a4e-8b1f-4c2a-9e57-b6a41f0d2c83")
# A booking Beds24 reports without a modification time (never seen in practice) sorts before any real one
EPOCH = "1970-01-01T00:00:00Z"


def reservation_id_for(organisation_id: str, beds24_booking_id: int) -> str:
    """One reservation per (organisation, Beds24 booking), found again without a lookup."""
    return str(uuid.uuid5(RESERVATION_NAMESPACE, f"{organisation_id}\x1fbeds24\x1f{beds24_booking_id}"))


@dataclass(frozen=True)
class GuestCandidate:
    """Who the booking is for, as matching needs it: identities normalised, newest data first."""

    name: str | None
    email: str | None  # lower-cased
    phones: tuple[str, ...]  # E.164, phone before mobile, invalid ones dropped
    country: str | None
    data_as_of: str  # the booking's modification time


def content_fields(booking: Beds24Booking, prop: Beds24Property, *, deleted: bool = False) -> dict[str, Any]:
    """The reservation's Beds24-derived fields (everything but ids of the hub's own and timestamps)."""
    room = prop.room_mapping.get(str(booking.room_id)) if booking.room_id is not None else None
    return {
        "beds24_booking_id": booking.id,
        "beds24_property_id": booking.property_id,
        "beds24_room_id": booking.room_id,
        "unit_id": booking.unit_id,
        "room": room,
        "status": booking.status,
        "sub_status": booking.sub_status,
        "deleted": deleted,
        "arrival": booking.arrival.isoformat() if booking.arrival else None,
        "departure": booking.departure.isoformat() if booking.departure else None,
        "num_adult": booking.num_adult,
        "num_child": booking.num_child,
        "guest_name": booking.guest_name,
        "guest_email": normalise_email(booking.email),
        "guest_phone": (guest_phones(booking, prop) or (None,))[0],
        "price": booking.price,
        "deposit": booking.deposit,
        "tax": booking.tax,
        "commission": booking.commission,
        "channel": booking.channel,
        "api_reference": booking.api_reference,
        "referer": booking.referer,
        "notes": booking.notes,
        "comments": booking.comments,
        "booking_time": booking.booking_time,
        "modified_time": booking.modified_time or EPOCH,
        "cancel_time": booking.cancel_time,
    }


# Fields the hub derives from its own configuration rather than reads from Beds24
DERIVED_FIELDS = ("room",)


def content_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:32]


def source_hash(fields: dict[str, Any]) -> str:
    """What Beds24 said, without the hub's derivations: the same Beds24 version hashes the same even after
    an operator changes the room mapping."""
    return content_hash({k: v for k, v in fields.items() if k not in DERIVED_FIELDS})


def hashes(fields: dict[str, Any], reasons: list[str]) -> tuple[str, str]:
    """(source hash, content hash) of a reservation's fields and attention reasons."""
    return source_hash(fields), content_hash({**fields, "attention_reasons": reasons})


def attention_reasons(booking: Beds24Booking, prop: Beds24Property) -> list[str]:
    """Why a booking needs a person: it is kept, flagged, never dropped (seed 001 error handling)."""
    reasons = []
    if booking.property_id != prop.beds24_property_id:
        reasons.append(f"unknown property {booking.property_id}")
    if booking.room_id is None:
        reasons.append("no room")
    elif prop.room_mapping and str(booking.room_id) not in prop.room_mapping:
        reasons.append(f"unknown room {booking.room_id}")
    if booking.arrival is None or booking.departure is None:
        reasons.append("missing dates")
    elif booking.departure < booking.arrival:
        reasons.append("departure before arrival")
    return reasons


def build_reservation(
    booking: Beds24Booking,
    prop: Beds24Property,
    *,
    guest_id: str | None,
    source: str,
    now: str,
    created_at: str | None = None,
    deleted: bool = False,
) -> Reservation:
    fields = content_fields(booking, prop, deleted=deleted)
    reasons = attention_reasons(booking, prop)
    source_digest, content_digest = hashes(fields, reasons)
    return Reservation(
        id=reservation_id_for(prop.organisation_id, booking.id),
        organisation_id=prop.organisation_id,
        property_id=prop.id,
        guest_id=guest_id,
        needs_attention=bool(reasons),
        attention_reasons=reasons,
        source_hash=source_digest,
        content_hash=content_digest,
        last_source=source,
        created_at=created_at or now,
        updated_at=now,
        **fields,
    )


# --- Guest identity ----------------------------------------------------------------------------------


def normalise_email(email: str | None) -> str | None:
    """Emails match case-insensitively (seed 001); an obviously broken one is no identity."""
    if not email:
        return None
    cleaned = email.strip().lower()
    local, _, domain = cleaned.partition("@")
    return cleaned if local and "." in domain and " " not in cleaned else None


def normalise_phone(raw: str | None, default_region: str | None) -> str | None:
    """A phone number in E.164 (`+66812345678`), or None if it is not a valid number.

    A number written without +country is read in the booking's country (Beds24's `country2`), else the
    property's; phonenumbers knows each country's trunk prefixes ("081 ..." in Thailand is +66 81 ...).
    """
    if not raw or not raw.strip():
        return None
    import phonenumbers  # (phonenumberslite) ~40 ms of metadata: loaded only when a booking is matched

    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, (default_region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def guest_phones(booking: Beds24Booking, prop: Beds24Property) -> tuple[str, ...]:
    region = booking.country2 or prop.default_country
    phones = (normalise_phone(raw, region) for raw in (booking.phone, booking.mobile))
    return tuple(dict.fromkeys(p for p in phones if p))


def guest_candidate(booking: Beds24Booking, prop: Beds24Property) -> GuestCandidate | None:
    """None when the booking names nobody the hub could ever match (no name, email or phone)."""
    email = normalise_email(booking.email)
    phones = guest_phones(booking, prop)
    name = booking.guest_name
    if not (email or phones or name):
        return None
    return GuestCandidate(
        name=name,
        email=email,
        phones=phones,
        country=(booking.country2 or booking.country or None),
        data_as_of=booking.modified_time or EPOCH,
    )
