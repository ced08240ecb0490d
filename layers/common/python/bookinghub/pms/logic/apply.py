"""Apply normalised PMS records to the hub: bookings (with guest matching), rooms, guest profiles.

A booking is written unless the hub already has the same content, or a newer provider modification
(a late redelivery or an overtaken sync never rolls a booking back). Its guest goes through the hub's
guest matching (email, then phone), so a PMS guest and a Beds24 or website guest are one person.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Literal

from bookinghub.aws import keys as hub_keys
from bookinghub.beds24.logic.mapping import GuestCandidate, normalise_email, normalise_phone
from bookinghub.bookings.dal.bookings import index_attributes
from bookinghub.bookings.dal.logs import event_item
from bookinghub.conflicts.logic.detect import MARKERS, BookingRef
from bookinghub.conflicts.logic.hub_edit import source_stamps
from bookinghub.conflicts.logic.sources import SourcePlan, plan_source_change
from bookinghub.core.clock import iso_now
from bookinghub.core.errors import ServerError
from bookinghub.guests.logic.matching import match_guests
from bookinghub.pms import keys
from bookinghub.pms.dal import store
from bookinghub.pms.logic import events
from bookinghub.pms.models import BookingStatus, NormalizedBooking, NormalizedGuest, NormalizedRoom
from bookinghub.pms.models.config import PMSConfiguration

Outcome = Literal["created", "updated", "unchanged", "stale"]
# The hub's booking statuses (seed 002); the PMS's own status is kept beside it as pms_status
HUB_STATUS: dict[BookingStatus, str] = {
    BookingStatus.PENDING: "pending",
    BookingStatus.CONFIRMED: "confirmed",
    BookingStatus.CANCELLED: "cancelled",
    BookingStatus.CHECKED_IN: "confirmed",
    BookingStatus.CHECKED_OUT: "completed",
    BookingStatus.NO_SHOW: "no_show",
}
_RETRIES = 3


@dataclass(frozen=True)
class Applied:
    booking_id: str
    outcome: Outcome


def guest_candidate(guest: NormalizedGuest, data_as_of: str) -> GuestCandidate | None:
    email = normalise_email(guest.email)
    phone = normalise_phone(guest.phone, guest.country)
    if not (email or phone or guest.full_name):
        return None
    return GuestCandidate(
        name=guest.full_name,
        email=email,
        phones=(phone,) if phone else (),
        country=guest.country,
        data_as_of=data_as_of,
    )


def _moment(booking: NormalizedBooking) -> str:
    return booking.modified_at.astimezone(UTC).isoformat() if booking.modified_at else ""


def booking_fields(config: PMSConfiguration, booking: NormalizedBooking, guest_id: str | None) -> dict[str, Any]:
    booking_id = keys.booking_id(config.slug, config.provider, booking.external_id)
    website_id = keys.website_id(config.slug)
    columns: dict[str, Any] = {
        "status": HUB_STATUS[booking.status],
        "activity_date": booking.check_in.isoformat(),
        "check_out_date": booking.check_out.isoformat(),
        "customer_name": booking.guest.full_name,
        "customer_email": normalise_email(booking.guest.email),
        "customer_phone": booking.guest.phone,
        "customer_country_code": booking.guest.country,
        "hotel_name": config.name or config.slug,
        "room_number": booking.room,
        "total_amount_cents": booking.total_amount_cents,
        "currency": booking.currency,
        "pms_provider": config.provider,
        "pms_status": booking.status.value,
        "pms_source": booking.source.value,
        "pms_channel": booking.channel,
        "pms_modified_at": _moment(booking),
        "guest_id": guest_id,
    }
    content = hashlib.sha256(repr(sorted(columns.items())).encode()).hexdigest()
    fields: dict[str, Any] = {
        "entity": "booking",
        "id": booking_id,
        "website_id": website_id,
        "organisation_id": config.organisation_id,
        "source_booking_id": booking.external_id,
        "hotel_slug": config.slug,
        "content_hash": content,
        **{k: v for k, v in columns.items() if v is not None},
    }
    # The hub's booking indexes (date, email, folded name), as every booking writer lays them out
    fields.update(index_attributes(booking_id, fields))
    return fields


def _event(stored: dict[str, Any] | None, fields: dict[str, Any], config: PMSConfiguration, now: str) -> dict[str, Any]:
    columns = {
        k: v
        for k, v in fields.items()
        if not k.startswith("GSI")
        and k not in ("entity", "content_hash", "pms_last_event", MARKERS)
        and k not in hub_keys.BOOKING_LAYOUT_ATTRIBUTES
    }
    changed = sorted(k for k, v in columns.items() if stored is None or stored.get(k) != v)
    if stored is None:
        event_type = "booking.created"
    elif stored.get("status") != fields.get("status"):
        event_type = "booking.status_changed"
    else:
        event_type = "booking.updated"
    return event_item(
        {
            "event_id": str(uuid.uuid4()),
            "event_type": event_type,
            "booking_id": fields["id"],
            "website_id": fields["website_id"],
            "organisation_id": config.organisation_id,
            "source_booking_id": fields["source_booking_id"],
            "origin": f"pms:{config.provider}:{config.slug}",
            "changed_fields": changed,
            "data": {k: columns[k] for k in changed if k in columns},
            "occurred_at": now,
        }
    )


def apply_bookings(
    config: PMSConfiguration, bookings: Sequence[NormalizedBooking], *, event_key: str | None = None
) -> list[Applied]:
    """Write each booking (guests matched in one batch first); one transaction per changed booking.

    `event_key`: the provider webhook being applied, remembered on the booking (not part of its content)
    so the edge can tell a redelivery of the latest change from an older change sent again."""
    now = iso_now()
    candidates = [(b.external_id, guest_candidate(b.guest, _moment(b) or now)) for b in bookings]
    guests = match_guests(config.organisation_id, candidates)
    return [apply_booking(config, b, guests.get(b.external_id), event_key=event_key) for b in bookings]


def apply_booking(
    config: PMSConfiguration, booking: NormalizedBooking, guest_id: str | None, *, event_key: str | None = None
) -> Applied:
    fields = booking_fields(config, booking, guest_id)
    if event_key is not None:
        fields["pms_last_event"] = event_key
    booking_id = fields["id"]
    for _ in range(_RETRIES):
        stored = store.get_booking(booking_id)
        if stored is not None:
            if stored.get("content_hash") == fields["content_hash"]:
                return Applied(booking_id, "unchanged")
            stored_moment = str(stored.get("pms_modified_at") or "")
            if stored_moment and fields["pms_modified_at"] and stored_moment > fields["pms_modified_at"]:
                return Applied(booking_id, "stale")
        now = iso_now()
        plan = _conflicts(config, booking, stored, fields, now)
        written = fields if plan is None else {**plan.write, MARKERS: plan.markers}
        try:
            read_version = int(stored["version"]) if stored is not None else None
            store.write_booking(
                booking_id,
                {**written, **source_stamps(stored, written)},
                read_version=read_version,
                now=now,
                event_item=_event(stored, written, config, now),
                extra_items=tuple(plan.items()) if plan else (),
            )
        except store.VersionMoved:
            continue
        outcome: Outcome = "created" if stored is None else "updated"
        if booking.modified_at is not None:
            events.sync_lag(time.time() - booking.modified_at.timestamp())
        events.booking_synced(
            booking_id=booking_id,
            slug=config.slug,
            provider=config.provider,
            external_id=booking.external_id,
            outcome=outcome,
        )
        return Applied(booking_id, outcome)
    raise ServerError("The booking is being changed concurrently; retry")


def _conflicts(
    config: PMSConfiguration,
    booking: NormalizedBooking,
    stored: dict[str, Any] | None,
    fields: dict[str, Any],
    now: str,
) -> SourcePlan | None:
    """An operator's pending edits this change meets, settled by the organisation's rules. A PMS takes
    no writes from the hub here, so a value the hub keeps is not synced back."""
    ref = BookingRef(
        kind="booking",
        booking_id=str(fields["id"]),
        organisation_id=config.organisation_id,
        website_id=str(fields["website_id"]),
        source_booking_id=booking.external_id,
    )
    return plan_source_change(
        ref,
        stored,
        fields,
        source=f"pms:{config.provider}:{config.slug}",
        source_time=fields.get("pms_modified_at") or None,
        now=now,
        accepts_writes=False,
    )


def apply_rooms(config: PMSConfiguration, rooms: Sequence[NormalizedRoom]) -> int:
    now = iso_now()
    rows = [
        {**room.model_dump(mode="json", exclude_none=True), "provider": config.provider, "synced_at": now}
        for room in rooms
    ]
    store.put_rooms(config.slug, config.provider, rows)
    return len(rows)


def apply_guests(config: PMSConfiguration, guests: Sequence[NormalizedGuest]) -> int:
    """Match each PMS guest to a hub guest and keep the PMS's own profile (tier, stays) beside it."""
    now = iso_now()
    with_ids = [g for g in guests if g.external_id]
    candidates = [
        (str(g.external_id), guest_candidate(g, g.modified_at.isoformat() if g.modified_at else now)) for g in with_ids
    ]
    matched = match_guests(config.organisation_id, candidates)
    profiles = [
        {
            **g.model_dump(mode="json", exclude_none=True),
            "guest_id": matched.get(str(g.external_id)),
            "provider": config.provider,
            "synced_at": now,
        }
        for g in with_ids
    ]
    store.put_guest_profiles(
        config.slug, config.provider, [{k: v for k, v in p.items() if v is not None} for p in profiles]
    )
    return len(profiles)
