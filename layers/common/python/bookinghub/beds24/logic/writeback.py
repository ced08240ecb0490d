"""The hub's values sent back to Beds24 (issue 15): an operator's reservation edit, or a conflict settled
with the hub's (or a merged) value, reaches Beds24 through POST /bookings.

Durable and asynchronous: the edit marks each field's marker (`hub_edits`, bookinghub.conflicts)
`sync: queued` in the same write as the edit, then queues the reservation's id (Beds24Writes). The consumer
reads the reservation, reads the booking at Beds24 and applies Beds24's change since the last pull first
(logic/catch_up.py: the conflict rules judge it, so an unseen change is never overwritten), sends every
field still queued with the hub's current value, and records the
outcome on the markers (`synced` / `failed` with Beds24's error) and on the conflicts they came from. A
redelivery finds nothing queued and sends nothing. A synced marker stays until Beds24 sends the hub's
value back (the echo: the marker goes, no conflict); a Beds24 value older than the write-back is held
(the write superseded it), a newer one is Beds24's own change and applies (detect.decide).
"""

from __future__ import annotations

import json
from typing import Any

from bookinghub.beds24.client.api import (
    Beds24AuthError,
    Beds24Client,
    Beds24Error,
    Beds24RateLimited,
    WriteResult,
)
from bookinghub.beds24.dal import properties as property_store
from bookinghub.beds24.dal import reservations as reservation_store
from bookinghub.beds24.dal import write_index
from bookinghub.beds24.dal.queues import send_write
from bookinghub.beds24.logic.calls import call_logger
from bookinghub.beds24.logic.properties import NotConfigured, client_for
from bookinghub.beds24.models.entities import Beds24Property
from bookinghub.conflicts.dal import store as conflict_store
from bookinghub.conflicts.logic.detect import MARKERS, markers_of
from bookinghub.core.clock import iso_now
from bookinghub.core.errors import InvalidPayload
from bookinghub.core.observability import emit_metric, logger

QUEUED, SYNCED, FAILED = "queued", "synced", "failed"
MAX_RECEIVES = 5  # the queue's maxReceiveCount: the last receive records the failure before the DLQ
_RACE_RETRIES = 3


def queue_markers(markers: dict[str, dict[str, Any]], fields: list[str], *, conflict_id: str | None = None) -> None:
    """Mark these fields' markers queued for the write-back (in place); the caller stores them (the write
    indexes the reservation as pending, dal/write_index.py), then calls `send_pending`."""
    now = iso_now()
    for name in fields:
        if name in markers:
            marker = {k: v for k, v in markers[name].items() if k not in ("sync_error", "synced_at")}
            queued = {"sync": QUEUED, "queued_at": now} | ({"sync_conflict": conflict_id} if conflict_id else {})
            markers[name] = {**marker, **queued}


def has_queued(markers: dict[str, Any] | None) -> bool:
    return any(write_index.is_queued(m) for m in (markers or {}).values())


def send_pending(reservation_id: str, markers: dict[str, Any] | None) -> None:
    """Queue the write-back when something waits for it (after the write that marked it). A failed send
    loses nothing: that write indexed the reservation as pending, and once overdue the sweep queues it
    (logic/write_sweep.py); the caller's own change stands."""
    if not has_queued(markers):
        return
    try:
        send_write(reservation_id)
    except Exception:  # (whatever SQS or the network raised: the sweep is the retry)
        logger.exception("beds24 write-back not queued: the sweep queues it", extra={"reservation_id": reservation_id})
        emit_metric("Beds24WriteQueueFailed", provider="beds24", integration_type="sync_back")


def parse_message(body: str) -> str:
    try:
        reservation_id = json.loads(body)["reservation_id"]
    except (ValueError, KeyError, TypeError):
        raise InvalidPayload(details=[{"field": "body", "message": "not a write-back message"}]) from None
    if not isinstance(reservation_id, str) or not reservation_id:
        raise InvalidPayload(details=[{"field": "reservation_id", "message": "required"}])
    return reservation_id


def beds24_fields(name: str, value: Any) -> dict[str, Any]:
    """A reservation field as Beds24's POST /bookings names it."""
    if name == "guest_name":
        first, _, last = str(value or "").rpartition(" ")
        return {"firstName": first, "lastName": last} if first else {"firstName": last, "lastName": ""}
    beds24_name = _BEDS24_NAMES[name]
    if value is None and name in ("guest_email", "guest_phone", "notes"):
        value = ""
    return {beds24_name: value}


_BEDS24_NAMES = {
    "status": "status",
    "arrival": "arrival",
    "departure": "departure",
    "beds24_room_id": "roomId",
    "num_adult": "numAdult",
    "num_child": "numChild",
    "guest_email": "email",
    "guest_phone": "phone",
    "price": "price",
    "notes": "notes",
}


def process_write(reservation_id: str, *, receive_count: int = 1) -> str:
    """Send a reservation's queued fields to Beds24; returns what became of them. Raises to be retried
    (Beds24 down): the markers stay queued, and the last receive records the failure."""
    stored = reservation_store.get_reservations([reservation_id]).get(reservation_id)
    if stored is None or stored.get("deleted"):
        logger.info("beds24 write-back: reservation gone", extra={"reservation_id": reservation_id})
        return "gone"
    pending = _pending(stored)
    if not pending:
        return "nothing"  # a redelivery (or a later edit's message already sent these)
    prop = property_store.get_property(str(stored["organisation_id"]), str(stored["property_id"]))
    if prop is None:
        return _record(reservation_id, pending, FAILED, "the Beds24 property is no longer configured")
    try:
        beds24 = client_for(prop, on_call=call_logger(prop))
        sent = _catch_up_and_send(prop, beds24, stored)
    except Beds24RateLimited as limited:
        send_write(reservation_id, delay_seconds=int(limited.retry_after_seconds) + 1)  # never counts to the DLQ
        return "postponed"
    except (Beds24AuthError, NotConfigured) as error:
        return _record(reservation_id, pending, FAILED, str(error) or "Beds24 credentials not configured")
    except Beds24Error as error:
        if error.http_status_code is not None and 400 <= error.http_status_code < 500:
            return _record(reservation_id, pending, FAILED, str(error))  # the same body would be refused again
        if receive_count >= MAX_RECEIVES:
            _record(reservation_id, pending, FAILED, str(error))
        raise
    if isinstance(sent, str):
        return sent
    return _record_result(reservation_id, *sent)


def _catch_up_and_send(
    prop: Beds24Property, beds24: Beds24Client, stored: dict[str, Any]
) -> tuple[dict[str, Any], WriteResult] | str:
    """Beds24's change since the hub's last pull is applied (and judged) first, so it is never
    overwritten blind (logic/catch_up.py); then what is still queued is sent."""
    from bookinghub.beds24.logic.catch_up import catch_up  # (it applies bookings: apply.py imports this module)

    caught_up = catch_up(prop, beds24, stored)
    if caught_up is None:
        return "gone"
    pending = _pending(caught_up)
    if not pending:
        return "superseded"  # Beds24's change settled every field (its value won, or a person decides)
    fields: dict[str, Any] = {}
    for name, value in pending.items():
        fields |= beds24_fields(name, value)
    return pending, beds24.modify_bookings({int(stored["beds24_booking_id"]): fields})[0]


def _pending(stored: dict[str, Any]) -> dict[str, Any]:
    """The fields queued for Beds24, with the hub's current values."""
    return {name: stored.get(name) for name, m in markers_of(stored).items() if m.get("sync") == QUEUED}


def _record_result(reservation_id: str, pending: dict[str, Any], result: WriteResult) -> str:
    if result.success:
        if result.warnings:
            logger.warning(
                "beds24 write-back warnings", extra={"reservation_id": reservation_id, "warnings": result.warnings}
            )
        return _record(reservation_id, pending, SYNCED, None)
    return _record(reservation_id, pending, FAILED, "; ".join(result.errors) or "refused by Beds24")


def _record(reservation_id: str, sent: dict[str, Any], outcome: str, error: str | None) -> str:
    """The outcome on the reservation's markers (for the fields whose hub value is still what was sent:
    a later edit queued its own write) and on the conflicts they came from."""
    now = iso_now()
    conflicts: set[str] = set()
    for _ in range(_RACE_RETRIES):
        stored = reservation_store.get_reservations([reservation_id]).get(reservation_id)
        if stored is None:
            return "gone"
        markers = markers_of(stored)
        conflicts = set()
        for name, value in sent.items():
            marker = markers.get(name)
            if marker is None or marker.get("sync") != QUEUED or stored.get(name) != value:
                continue
            update = {"sync": outcome, "synced_at": now} | ({"sync_error": error[:500]} if error else {})
            markers[name] = {k: v for k, v in marker.items() if k != "sync_error"} | update
            if marker.get("sync_conflict"):
                conflicts.add(str(marker["sync_conflict"]))
        item = reservation_store.edit_item(
            reservation_id, {}, markers=markers, read_markers=stored.get(MARKERS) or None, now=now
        )
        try:
            reservation_store.apply_edit(item)
            break
        except reservation_store.EditRaced:
            continue  # a pull or an edit in between: read again
    else:
        raise RuntimeError(f"reservation {reservation_id} kept changing while its write-back was recorded")
    for conflict_id in sorted(conflicts):
        conflict_store.set_sync_back(conflict_id, outcome, error=error, now=now)
    log = logger.info if outcome == SYNCED else logger.warning
    log(
        "beds24 write-back",
        extra={"reservation_id": reservation_id, "fields": sorted(sent), "outcome": outcome, "error": error},
    )
    emit_metric(
        "Beds24WriteSynced" if outcome == SYNCED else "Beds24WriteFailed",
        provider="beds24",
        integration_type="sync_back",
    )
    return outcome
