"""Apply Beds24 bookings to the hub: create/update/cancel/delete reservations, match their guests.

One booking at a time for webhooks, a page at a time for pull syncs. A page costs a handful of
DynamoDB calls however many bookings it holds: one batched read of the stored reservations, guest
matching for the changed ones only, batched writes of the new ones (the run's lease keeps other writers
away from them), and a conditional write per updated one (the write itself refuses anything older than
what is stored).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from bookinghub.beds24.dal import reservations as store
from bookinghub.beds24.logic.mapping import (
    EPOCH,
    attention_reasons,
    build_reservation,
    content_fields,
    content_hash,
    guest_candidate,
    hashes,
    reservation_id_for,
)
from bookinghub.beds24.logic.writeback import SYNCED, queue_markers, send_pending
from bookinghub.beds24.models.entities import Beds24Booking, Beds24Property, Reservation, SyncCounts
from bookinghub.conflicts.logic.detect import MARKERS, RESERVATION_GROUPS, BookingRef, markers_of
from bookinghub.conflicts.logic.sources import plan_source_change
from bookinghub.core.clock import iso_now
from bookinghub.core.observability import logger
from bookinghub.core.security import mask_text
from bookinghub.guests.logic.matching import match_guests

OutcomeKind = Literal["created", "updated", "unchanged", "stale"]


Stay = tuple[str | None, str | None]  # (arrival, departure) of a version of the reservation


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    reservation_id: str
    needs_attention: bool = False
    stays: tuple[Stay, ...] = ()  # the stored version's and the written one's: what occupancy could change


def _stay(version: Any) -> Stay:
    if version is None:
        return (None, None)
    if isinstance(version, dict):
        return (version.get("arrival"), version.get("departure"))
    return (getattr(version, "arrival", None), getattr(version, "departure", None))


def parse_booking(raw: Any) -> Beds24Booking:
    return Beds24Booking.model_validate(raw)


def _classify(
    stored: dict[str, Any] | None, booking: Beds24Booking, prop: Beds24Property, *, restore: bool = False
) -> OutcomeKind | None:
    """unchanged/stale when nothing is to be written; None when the booking must be written. The same
    rule as the conditional write in dal/reservations.py, checked first to save the write."""
    if stored is None:
        return None
    if stored.get("deleted") and not restore:
        return "stale"  # a deletion is final
    fields = content_fields(booking, prop)
    source, content = hashes(fields, attention_reasons(booking, prop))
    if stored.get("content_hash") == content and not stored.get("deleted"):
        return "unchanged"
    if stored.get("deleted"):
        return None  # restore: Beds24 still has the booking
    stored_time, new_time = str(stored.get("modified_time") or EPOCH), booking.modified_time or EPOCH
    if stored_time != new_time:
        return "stale" if stored_time > new_time else None
    stored_source = str(stored.get("source_hash") or "")
    if stored_source == source:
        return None  # the same Beds24 version; what the hub derives from it changed (e.g. the room mapping)
    if _carries_write_back(stored, fields.get):
        return None  # the echo of the hub's write-back in the stored version's second (superseded_at_tie)
    return "stale" if stored_source > source else None


def _carries_write_back(stored: dict[str, Any], value_of: Callable[[str], Any]) -> bool:
    """Whether a Beds24 version has every value the hub wrote back since the stored version (its `synced`
    markers)."""
    synced = [name for name, m in markers_of(stored).items() if m.get("sync") == SYNCED and not m.get("conflict")]
    return bool(synced) and all(value_of(name) == stored.get(name) for name in synced)


def superseded_at_tie(stored: dict[str, Any] | None, reservation: Reservation) -> str | None:
    """The stored version's source hash when `reservation` (as Beds24 has it, before any value is held)
    replaces it at the same modification time as the echo of the hub's write-back; else None.

    Beds24's modifiedTime has second resolution, so the hub's write-back can share the stored version's
    second. The write-back's catch-up read that version before sending, so a version of the same second that
    carries every value written back is the write's echo, or a change made after it: newer, whatever the
    source-hash tie rule (an arbitrary order that would drop it half the time, and keep dropping it on
    every pull until Beds24 changes the booking again). The conditional write requires that very version."""
    if stored is None or stored.get("deleted"):
        return None
    if str(stored.get("modified_time") or EPOCH) != reservation.modified_time:
        return None
    source = str(stored.get("source_hash") or "")
    if source == reservation.source_hash or not _carries_write_back(stored, lambda name: getattr(reservation, name)):
        return None
    return source


def apply_booking(
    prop: Beds24Property,
    booking: Beds24Booking,
    *,
    source: str,
    restore: bool = False,
    send_writes: bool = True,
    before_create: Callable[[], None] | None = None,
    consistent_read: bool = True,
) -> Outcome:
    """One booking (a webhook, a re-sync): written unless the hub already has it or something newer.

    `restore`: a reconciliation repairing from Beds24 may bring back a reservation the hub marked deleted.
    `send_writes`: queue the write-back of what is left pending (not when the write-back itself applies it).
    `before_create`: called (and may raise) before anything is written, only when the reservation is new.
    `consistent_read=False`: the stored reservation is read eventually consistent (half the read) and the
    write requires exactly the version read; when the read lagged, the write fails and the booking is
    decided again on a consistent read. A skip on a lagging read is right all the same: what it read is
    no newer than what is stored, and a deletion is final.
    """
    reservation_id = reservation_id_for(prop.organisation_id, booking.id)
    stored = store.get_reservations([reservation_id], consistent=consistent_read).get(reservation_id)
    skip = _classify(stored, booking, prop, restore=restore)
    if skip is not None:
        return Outcome(skip, reservation_id, stays=(_stay(stored),))
    if stored is None and before_create is not None:
        before_create()
    guest_ids = match_guests(prop.organisation_id, [(reservation_id, guest_candidate(booking, prop))])
    reservation = build_reservation(
        booking,
        prop,
        guest_id=guest_ids.get(reservation_id),
        source=source,
        now=iso_now(),
        created_at=str(stored["created_at"]) if stored else None,
    )
    over = superseded_at_tie(stored, reservation)
    reservation, extra = with_conflicts(prop, stored, reservation)
    stays = (_stay(stored), _stay(reservation))
    as_read = True if consistent_read else stored
    if not store.put_if_newer(
        reservation,
        restore=restore,
        read_markers=_markers(stored),
        extra_items=extra,
        as_read=as_read,
        over_source=over,
    ):
        if not consistent_read:  # the read lagged, or something was written since: decide on a consistent read
            return apply_booking(
                prop, booking, source=source, restore=restore, send_writes=send_writes, before_create=before_create
            )
        return Outcome("stale", reservation_id, stays=stays)
    if send_writes:
        send_pending(reservation.id, reservation.hub_edits)  # again after any write: a lost send is re-sent
    return Outcome("updated" if stored else "created", reservation_id, reservation.needs_attention, stays)


def _markers(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    return (stored or {}).get(MARKERS) or None


def with_conflicts(
    prop: Beds24Property, stored: dict[str, Any] | None, reservation: Reservation
) -> tuple[Reservation, list[dict[str, Any]]]:
    """The reservation as it is to be written where an operator changed fields Beds24 has not caught up
    with (bookinghub.conflicts): the hub's value stays where the rule (or a person) says so, and the
    conflicts found are written with it. No pending edit: the reservation as Beds24 has it."""
    reservation = _with_field_times(stored, reservation)
    if not _markers(stored):
        return reservation, []
    incoming = {name: getattr(reservation, name) for name in RESERVATION_GROUPS}
    ref = BookingRef(
        kind="reservation",
        booking_id=reservation.id,
        organisation_id=prop.organisation_id,
        website_id=f"beds24:{prop.id}",
        source_booking_id=str(reservation.beds24_booking_id),
    )
    plan = plan_source_change(
        ref,
        stored,
        incoming,
        source=f"beds24:{prop.id}",
        source_time=reservation.modified_time,
        now=iso_now(),
        accepts_writes=True,  # a value the hub keeps goes back to Beds24 (logic/writeback.py)
        correction_events=False,  # through the Beds24Writes queue, not a website's sync back
    )
    if plan is None:
        return reservation.model_copy(update={MARKERS: _markers(stored)}), []
    for record in plan.records:
        if record.sync_back == "queued":
            queue_markers(plan.markers, [record.field], conflict_id=record.id)
    held = {name: (stored or {}).get(name) for name in plan.held}
    if "beds24_room_id" in held:
        held["room"] = (stored or {}).get("room")  # the hub's room name follows the room kept
    return reservation.model_copy(update={**held, MARKERS: plan.markers or None}), plan.items()


def _with_field_times(stored: dict[str, Any] | None, reservation: Reservation) -> Reservation:
    """Each editable field's last Beds24 change time: this version's where Beds24's value differs from its
    previous one (the marker's `base` where the hub holds its own value)."""
    if stored is None:
        return reservation
    markers = markers_of(stored)
    times = dict(stored.get("field_times") or {})
    for name in RESERVATION_GROUPS:
        before = markers[name].get("base") if name in markers else stored.get(name)
        if getattr(reservation, name) != before:
            times[name] = reservation.modified_time
    return reservation.model_copy(update={"field_times": times or None})


def mark_deleted(
    prop: Beds24Property,
    beds24_booking_id: int,
    last_known: Beds24Booking | None,
    *,
    source: str,
    before_create: Callable[[], None] | None = None,
) -> Outcome:
    """Beds24 no longer has the booking: keep the reservation, flagged deleted (a tombstone if unknown).
    `before_create` as for apply_booking (the tombstone is new)."""
    reservation_id = reservation_id_for(prop.organisation_id, beds24_booking_id)
    stored = store.get_reservations([reservation_id]).get(reservation_id)
    if stored is not None and stored.get("deleted"):
        return Outcome("unchanged", reservation_id, stays=(_stay(stored),))
    if stored is None and before_create is not None:
        before_create()
    now = iso_now()
    if stored is not None:
        fields = {k: v for k, v in stored.items() if k in Reservation.model_fields}
        fields.update(deleted=True, last_source=source, updated_at=now)
        fields["content_hash"] = content_hash({**fields, "updated_at": None, "last_source": None})
        fields["source_hash"] = fields.get("source_hash") or fields["content_hash"]
        reservation = Reservation.model_validate(fields)  # pending edits (hub_edits) are kept as they are
    else:
        known = last_known or Beds24Booking.model_validate(
            {"id": beds24_booking_id, "propertyId": prop.beds24_property_id}
        )
        reservation = build_reservation(known, prop, guest_id=None, source=source, now=now, deleted=True)
    stays = (_stay(stored), _stay(reservation))
    if not store.put_if_newer(reservation, read_markers=_markers(stored)):
        return Outcome("stale", reservation_id, stays=stays)
    return Outcome("updated" if stored else "created", reservation_id, reservation.needs_attention, stays)


@dataclass
class PageResult:
    counts: SyncCounts
    bookings: list[Beds24Booking]  # the page's valid bookings (reconciliation compares them)


def apply_page(prop: Beds24Property, raw_bookings: Sequence[Any], *, source: str) -> PageResult:
    """A page of Beds24 bookings; a booking that fails is counted and logged, the others still apply."""
    counts = SyncCounts()
    bookings = _parse_all(raw_bookings, counts)
    ids = {b.id: reservation_id_for(prop.organisation_id, b.id) for b in bookings}
    stored = store.get_reservations(ids.values())
    to_write: list[Beds24Booking] = []
    for booking in bookings:
        counts.processed += 1
        kind = _classify(stored.get(ids[booking.id]), booking, prop)
        if kind is None:
            to_write.append(booking)
        else:
            counts.unchanged += 1  # unchanged, or older than what the hub has: nothing to write
    if not to_write:
        return PageResult(counts, bookings)

    guests = match_guests(prop.organisation_id, [(ids[b.id], guest_candidate(b, prop)) for b in to_write])
    now = iso_now()
    new: list[Reservation] = []
    for booking in to_write:
        reservation_id = ids[booking.id]
        previous = stored.get(reservation_id)
        reservation = build_reservation(
            booking,
            prop,
            guest_id=guests.get(reservation_id),
            source=source,
            now=now,
            created_at=str(previous["created_at"]) if previous else None,
        )
        counts.needs_attention += int(reservation.needs_attention)
        if previous is None:
            new.append(reservation)
            continue
        over = superseded_at_tie(previous, reservation)
        reservation, extra = with_conflicts(prop, previous, reservation)
        if store.put_if_newer(reservation, read_markers=_markers(previous), extra_items=extra, over_source=over):
            counts.updated += 1
            send_pending(reservation.id, reservation.hub_edits)
        else:
            counts.unchanged += 1  # a webhook wrote something newer meanwhile
    store.put_new(new)
    counts.created += len(new)
    return PageResult(counts, bookings)


def _parse_all(raw_bookings: Iterable[Any], counts: SyncCounts) -> list[Beds24Booking]:
    parsed: list[Beds24Booking] = []
    for raw in raw_bookings:
        try:
            parsed.append(parse_booking(raw))
        except ValidationError as error:
            counts.processed += 1
            counts.failed += 1
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
            booking_id = raw.get("id") if isinstance(raw, dict) else None
            logger.warning(
                "beds24 booking rejected",
                extra={"beds24_booking_id": mask_text(str(booking_id)), "invalid_fields": fields},
            )
    return parsed
