"""Reconciliation (seed 001 `reconcileBookings`): the hub's reservations of a property against Beds24's.

Page by page, each Beds24 booking is compared with the hub's reservation: absent or deleted in the hub
-> `missing_in_hub`; present but different -> a `discrepancy` naming each differing field (status,
dates, room, guest, price). The Beds24 ids seen are kept per page; at the end the hub's live
reservations in the same window that Beds24 did not return are `missing_in_beds24`. The report is
stored with the run. A reservation with an open conflict (bookinghub.conflicts: an operator and Beds24
changed the same field) lists it beside its discrepancies, as `conflicts`. With `resync`, every differing
booking is re-applied from Beds24 (and a booking Beds24 no longer has is marked deleted), so a
reconciliation can also repair.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from bookinghub.beds24.client.api import Beds24Client
from bookinghub.beds24.dal import reservations as store
from bookinghub.beds24.dal import runs as run_store
from bookinghub.beds24.logic.apply import apply_booking, mark_deleted, parse_booking
from bookinghub.beds24.logic.mapping import content_fields, reservation_id_for
from bookinghub.beds24.logic.rooms import MAX_STAY_DAYS, local_today
from bookinghub.beds24.models.entities import Beds24Booking, Beds24Property, SyncRun
from bookinghub.conflicts.logic.detect import MARKERS

COMPARED = {
    "status": ("status",),
    "dates": ("arrival", "departure"),
    "room": ("beds24_room_id", "unit_id"),
    "guest": ("guest_name", "guest_email"),
    "price": ("price",),
}


def _values(source: dict[str, Any], names: tuple[str, ...]) -> Any:
    values = [source.get(name) for name in names]
    return values[0] if len(values) == 1 else values


def differences(stored: dict[str, Any], fresh: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """field group -> {"hub": ..., "beds24": ...} for every group whose values differ."""
    found = {}
    for group, names in COMPARED.items():
        hub, beds24 = _values(stored, names), _values(fresh, names)
        same_price = (
            group == "price"
            and isinstance(hub, int | float)
            and isinstance(beds24, int | float)
            and abs(float(hub) - float(beds24)) < 0.005
        )
        if hub != beds24 and not same_price:
            found[group] = {"hub": hub, "beds24": beds24}
    return found


def _summary(run: SyncRun) -> dict[str, int]:
    if run.report is None:
        run.report = {"missing_in_hub": 0, "missing_in_beds24": 0, "discrepancies": 0, "resynced": 0}
    return run.report


def open_conflicts(stored: dict[str, Any]) -> list[dict[str, Any]]:
    """The reservation's open conflicts, from its own pending-edit markers (no extra read)."""
    markers = stored.get(MARKERS) or {}
    return [
        {
            "conflict_id": marker["conflict"],
            "field": name,
            "hub": marker["proposed"] if "proposed" in marker else stored.get(name),  # (an operator's, waiting)
            "beds24": marker.get("source"),
            "hub_changed_at": marker.get("at"),
        }
        for name, marker in sorted(markers.items())
        if isinstance(marker, dict) and marker.get("conflict")
    ]


def compare_page(prop: Beds24Property, run: SyncRun, page: int, raw_bookings: list[dict[str, Any]]) -> None:
    summary = _summary(run)
    bookings: list[Beds24Booking] = []
    for raw in raw_bookings:
        run.counts.processed += 1
        try:
            bookings.append(parse_booking(raw))
        except ValidationError:
            run.counts.failed += 1
    ids = {b.id: reservation_id_for(prop.organisation_id, b.id) for b in bookings}
    stored = store.get_reservations(ids.values())
    entries: list[dict[str, Any]] = []
    for booking in bookings:
        reservation_id = ids[booking.id]
        hub = stored.get(reservation_id)
        if hub is None or hub.get("deleted"):
            entry: dict[str, Any] = {"kind": "missing_in_hub", "beds24_booking_id": booking.id}
            summary["missing_in_hub"] += 1
        else:
            diff = differences(hub, content_fields(booking, prop))
            conflicts = open_conflicts(hub)
            if not diff and not conflicts:
                run.counts.unchanged += 1
                continue
            entry = {"kind": "discrepancy", "beds24_booking_id": booking.id, "fields": diff}
            summary["discrepancies"] += 1
            if conflicts:
                entry["conflicts"] = conflicts
                # Only in a report that has some: a clean report stays as it always was
                summary["open_conflicts"] = summary.get("open_conflicts", 0) + len(conflicts)
        entry["reservation_id"] = reservation_id
        entries.append(entry)
        if run.resync:
            outcome = apply_booking(prop, booking, source="reconcile", restore=True)
            _count(run, outcome.kind)
    run_store.put_seen(run.run_id, page, [b.id for b in bookings])
    if entries:
        run_store.put_report_page(run.run_id, page, entries)


def finish(prop: Beds24Property, run: SyncRun, client: Beds24Client) -> None:
    """After the last page: the hub's live reservations in the window that Beds24 did not return."""
    summary = _summary(run)
    summary["missing_in_beds24"] = 0  # counted afresh: a postponed run may come here twice
    seen = run_store.seen_ids(run.run_id)
    today = local_today(prop)
    departure_from = (today - timedelta(days=prop.sync_days_back)).isoformat()
    arrival_to = (today + timedelta(days=prop.sync_days_ahead)).isoformat()
    window_start = (today - timedelta(days=prop.sync_days_back + MAX_STAY_DAYS)).isoformat()
    entries: list[dict[str, Any]] = []
    for hub in store.property_reservations(
        prop.organisation_id,
        prop.id,
        arrival_from=window_start,
        arrival_to=arrival_to,
        attributes=("id", "beds24_booking_id", "deleted", "departure"),
    ):
        if hub.get("deleted") or int(hub["beds24_booking_id"]) in seen:
            continue
        if not hub.get("departure") or str(hub["departure"]) < departure_from:
            continue
        entries.append(
            {"kind": "missing_in_beds24", "beds24_booking_id": hub["beds24_booking_id"], "reservation_id": hub["id"]}
        )
        summary["missing_in_beds24"] += 1
        if run.resync:
            current = client.get_booking(prop.beds24_property_id, int(hub["beds24_booking_id"]))
            if current is None:
                outcome = mark_deleted(prop, int(hub["beds24_booking_id"]), None, source="reconcile")
            else:
                outcome = apply_booking(prop, parse_booking(current), source="reconcile", restore=True)
            _count(run, outcome.kind)
    if entries:
        run_store.put_report_page(run.run_id, 999_999, entries)


def _count(run: SyncRun, kind: str) -> None:
    summary = _summary(run)
    if kind in ("created", "updated"):
        summary["resynced"] += 1
        setattr(run.counts, kind, getattr(run.counts, kind) + 1)
