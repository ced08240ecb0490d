"""Room status (seed 001 "Update room status"): which rooms of a property are occupied today.

A room (Beds24 room and unit) is `occupied` while a live reservation covers today in the property's
time zone (arrival <= today < departure), `blocked` for Beds24's owner blocks ("black"), else `vacant`.
It is recomputed from the reservations themselves after each change (a query of the property's recent
arrivals, never a scan), so a late, duplicated or reordered change cannot leave a room in a wrong state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bookinghub.beds24.dal import reservations as store
from bookinghub.beds24.models.entities import Beds24Property
from bookinghub.core.clock import iso_now

# Stays longer than this are not looked back for (Beds24 allows longer, hospitality rarely needs them)
MAX_STAY_DAYS = 90
INACTIVE = ("cancelled", "inquiry", "request")
# What occupancy reads of each reservation
OCCUPANCY_FIELDS = ("id", "status", "deleted", "arrival", "departure", "beds24_room_id", "unit_id", "room")


def local_today(prop: Beds24Property, now: datetime | None = None) -> date:
    moment = now or datetime.now(ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(prop.time_zone)).date()


def occupancy(reservations: Iterable[dict[str, Any]], today: date) -> dict[str, dict[str, Any]]:
    """room key -> what occupies it today, from the reservations that could, in arrival order (the
    index's order: the latest arrival wins a room), read as a stream so memory stays flat."""
    day = today.isoformat()
    rooms: dict[str, dict[str, Any]] = {}
    for res in reservations:
        if res.get("deleted") or res.get("status") in INACTIVE or res.get("beds24_room_id") is None:
            continue
        if not (res.get("arrival") and res.get("departure") and res["arrival"] <= day < res["departure"]):
            continue
        rooms[store.room_key(res["beds24_room_id"], res.get("unit_id"))] = {
            "status": "blocked" if res.get("status") == "black" else "occupied",
            "current_reservation_id": res["id"],
            "beds24_room_id": res["beds24_room_id"],
            "unit_id": res.get("unit_id"),
            "room": res.get("room"),
        }
    return rooms


def refresh_rooms(prop: Beds24Property, *, today: date | None = None) -> int:
    """Recompute and store the property's room statuses; returns how many rooms changed."""
    today = today or local_today(prop)
    recent = store.property_reservations(
        prop.organisation_id,
        prop.id,
        arrival_from=(today - timedelta(days=MAX_STAY_DAYS)).isoformat(),
        arrival_to=today.isoformat(),
        attributes=OCCUPANCY_FIELDS,
    )
    occupied = occupancy(recent, today)
    known = store.rooms(prop.organisation_id, prop.id)
    now = iso_now()
    changed: dict[str, dict[str, Any]] = {}
    for sk in set(known) | set(occupied):
        current = known.get(sk, {})
        wanted = occupied.get(sk) or {
            "status": "vacant",
            "current_reservation_id": None,
            "beds24_room_id": current.get("beds24_room_id"),
            "unit_id": current.get("unit_id"),
            "room": current.get("room"),
        }
        if any(current.get(name) != value for name, value in wanted.items()):
            changed[sk] = {**wanted, "as_of": today.isoformat(), "updated_at": now}
    store.put_rooms(prop.organisation_id, prop.id, changed)
    return len(changed)


def room_statuses(prop: Beds24Property) -> list[dict[str, Any]]:
    return [room for _, room in sorted(store.rooms(prop.organisation_id, prop.id).items())]
