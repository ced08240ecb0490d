"""Field-level conflict detection and the automatic rules (pure: no I/O).

The per-field state is one map attribute on the booking (or reservation), `hub_edits`, holding only the
fields an operator changed and the source has not caught up with:

    hub_edits = {"activity_date": {"at": <hub time>, "by": <operator>, "base": <source's value then>,
                                   "conflict": <open conflict id>, "source": <its source value>}}

`base` is the source's value when the hub last read it (the value the operator changed). When the source
next sends the field:
- the hub's value: the source caught up (the sync back reached it), the marker goes, no conflict;
- `base`: the source did not change the field (a full payload repeats it), the hub's value stays;
- anything else: both changed it, a conflict, settled by the organisation's rule for the field's group.
Fields without a marker are not touched here: they follow the per-field ordering alone. Admin notes are
hub-only: an edit of them never leaves a marker, so they never conflict.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bookinghub.conflicts.attributes import MARKERS
from bookinghub.conflicts.models import (
    DEFAULT_RULES,
    ConflictRecord,
    DetectedOn,
    Group,
    Kind,
    Outcome,
    Rule,
    SyncBack,
)

CONFLICT_NAMESPACE = uuid.UUID("0b7e52a4-6f61-4d2c-9a3e-15c1f4a9e8d2")
# A marker's write-back state, where the source takes the hub's values through a queue (Beds24:
# beds24/logic/writeback.py): `sync` queued | synced | failed, and its details
WRITE_BACK_KEYS = ("sync", "sync_conflict", "sync_error", "synced_at", "queued_at")

# Which group each field an operator may edit belongs to; a field not listed never conflicts.
BOOKING_GROUPS: dict[str, Group] = {
    "status": "status",
    "activity_date": "dates",
    "time_slot": "dates",
    "check_out_date": "dates",
    "room_number": "room",
    "hotel_name": "room",
    "transport_type": "room",
    "guest_count": "guest",
    "non_players": "guest",
    "private_passengers": "guest",
    "customer_name": "guest",
    "customer_email": "guest",
    "customer_phone": "guest",
    "customer_country_code": "guest",
    "transport_cost": "price",
    "total_amount": "price",
    "special_requests": "notes",
}
RESERVATION_GROUPS: dict[str, Group] = {
    "status": "status",
    "arrival": "dates",
    "departure": "dates",
    "beds24_room_id": "room",
    "num_adult": "guest",
    "num_child": "guest",
    "guest_name": "guest",
    "guest_email": "guest",
    "guest_phone": "guest",
    "price": "price",
    "notes": "notes",
}


def group_of(kind: Kind, name: str) -> Group | None:
    return (BOOKING_GROUPS if kind == "booking" else RESERVATION_GROUPS).get(name)


def effective_rules(stored: dict[str, Any] | None) -> dict[Group, Rule]:
    rules = dict(DEFAULT_RULES)
    rules.update({k: v for k, v in (stored or {}).items() if k in rules})  # type: ignore[misc]
    return rules


def markers_of(stored: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    raw = (stored or {}).get(MARKERS) or {}
    return {str(k): dict(v) for k, v in raw.items()}


def mark_hub_edit(
    stored: dict[str, Any], changed: dict[str, Any], *, kind: Kind, actor: str, now: str
) -> dict[str, dict[str, Any]]:
    """The markers after an operator's edit of `changed` (field -> new value) on `stored`."""
    markers = markers_of(stored)
    for name, value in changed.items():
        if group_of(kind, name) is None:
            continue  # hub-only (admin notes) or not a source field: nothing to reconcile
        marker = markers.get(name)
        # (a `base` of None is not stored: DynamoDB maps drop nulls)
        base = marker.get("base") if marker else stored.get(name)
        if marker and marker.get("sync") == "synced" and not marker.get("conflict"):
            # The source has the hub's value since its write-back: that is what the new edit changes
            base = stored.get(name)
            marker = {k: v for k, v in marker.items() if k not in WRITE_BACK_KEYS}
        if value == base and not (marker and marker.get("conflict")):
            markers.pop(name, None)  # back to what the source has: nothing differs any more
            continue
        markers[name] = {**(marker or {}), "at": now, "by": actor, "base": base}
    return markers


@dataclass(frozen=True)
class BookingRef:
    """What a conflict record names about its booking."""

    kind: Kind
    booking_id: str
    organisation_id: str
    website_id: str
    source_booking_id: str


@dataclass
class Decision:
    write: dict[str, Any] = field(default_factory=dict)  # the source's fields to write
    held: list[str] = field(default_factory=list)  # fields where the hub's value stays
    markers: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: list[ConflictRecord] = field(default_factory=list)  # new or changed conflicts
    corrections: dict[str, Any] = field(default_factory=dict)  # hub values to sync back (hub kept)
    markers_changed: bool = False


def conflict_id(booking_id: str, name: str, hub_at: str, base: Any, source_value: Any) -> str:
    """The same for a redelivery of the change; a new one for each new source value against each base (a
    source going A, B, then A again meets a new base each time: three conflicts, not one rewritten)."""
    values = json.dumps([base, source_value], sort_keys=True, default=str)
    return str(uuid.uuid5(CONFLICT_NAMESPACE, f"{booking_id}\x1f{name}\x1f{hub_at}\x1f{values}"))


def moment(text: str | None) -> datetime | None:
    """Any of the hub's and the sources' ISO forms (Z or offset, with or without fractions)."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _settled_elsewhere(
    decision: Decision,
    ref: BookingRef,
    marker: dict[str, Any],
    name: str,
    group: Group,
    value: Any,
    rules: dict[Group, Rule],
    source: str,
    source_time: str | None,
) -> bool:
    """The markers that are not judged against the hub's value: an operator's proposal waiting for a person
    (hub_edit.py, manual) and a value already written back to the source (beds24/logic/writeback.py)."""
    markers = decision.markers
    if "proposed" in marker:
        # The field follows the source meanwhile, and the open conflict follows the source's latest value
        decision.write[name] = value
        if value != marker.get("source"):
            markers[name] = {**marker, "source": value, "base": value}
            decision.markers_changed = True
            decision.records.append(
                _pending_proposal(ref, marker, name, group, rules[group], value, source, source_time)
            )
        return True
    if marker.get("sync") == "synced" and not marker.get("conflict"):
        # The hub's value reached the source at `synced_at`: a value of the source's older than that was
        # superseded by it; a newer one is the source's own change
        synced, changed = moment(str(marker.get("synced_at") or "")), moment(source_time)
        if synced is not None and changed is not None and changed > synced:
            markers.pop(name)
            decision.markers_changed = True
            decision.write[name] = value
        else:
            decision.held.append(name)
        return True
    return False


def new_conflict(
    ref: BookingRef,
    name: str,
    group: Group,
    rule: Rule,
    *,
    conflict_id: str,
    source: str,
    hub_value: Any,
    source_value: Any,
    hub_changed_at: str,
    hub_changed_by: str | None,
    source_changed_at: str | None,
    detected_at: str,
    base_value: Any = None,
    detected_on: DetectedOn = "source_change",
) -> ConflictRecord:
    """An open conflict of one field of `ref` (the one builder of records: detect, proposals, hub edits)."""
    return ConflictRecord(
        id=conflict_id,
        organisation_id=ref.organisation_id,
        kind=ref.kind,
        booking_id=ref.booking_id,
        website_id=ref.website_id,
        source=source,
        field=name,
        group=group,
        rule=rule,
        hub_value=hub_value,
        source_value=source_value,
        base_value=base_value,
        hub_changed_at=hub_changed_at,
        hub_changed_by=hub_changed_by,
        source_changed_at=source_changed_at,
        detected_at=detected_at,
        detected_on=detected_on,
        status="open",
        outcome="pending",
    )


def settled_by_rule(
    record: ConflictRecord, outcome: Outcome, value: Any, *, now: str, sync_back: SyncBack
) -> ConflictRecord:
    """The conflict as its rule settled it at once (`value`: the field's resulting value)."""
    return record.model_copy(
        update={
            "status": "resolved",
            "outcome": outcome,
            "resolved_value": value,
            "resolved_by": "rule",
            "resolved_at": now,
            "sync_back": sync_back,
        }
    )


def _pending_proposal(
    ref: BookingRef,
    marker: dict[str, Any],
    name: str,
    group: Group,
    rule: Rule,
    value: Any,
    source: str,
    source_time: str | None,
) -> ConflictRecord:
    return new_conflict(
        ref,
        name,
        group,
        rule,
        conflict_id=str(marker["conflict"]),
        source=source,
        hub_value=marker.get("proposed"),
        source_value=value,
        hub_changed_at=str(marker.get("at")),
        hub_changed_by=marker.get("by"),
        source_changed_at=source_time,
        detected_at=str(marker.get("at")),
        detected_on="hub_edit",
    )


def decide(
    ref: BookingRef,
    stored: dict[str, Any],
    incoming: dict[str, Any],
    rules: dict[Group, Rule],
    *,
    source: str,
    source_time: str | None,
    now: str,
    accepts_writes: bool,
) -> Decision:
    """Split a source change's fields (`incoming`, already newer by the per-field order) by the markers.

    `source_time`: the change's time on the source's clock (None: its arrival, `now`). `accepts_writes`:
    whether the hub's value can be synced back to this source (a website with a webhook; not Beds24)."""
    markers = markers_of(stored)
    decision = Decision(markers=markers)
    for name, value in incoming.items():
        marker = markers.get(name)
        group = group_of(ref.kind, name)
        if marker is None or group is None:
            decision.write[name] = value
            continue
        hub_value = stored.get(name)
        if value == hub_value:
            if not marker.get("conflict"):
                markers.pop(name)  # the source caught up with the hub
                decision.markers_changed = True
            decision.write[name] = value
            continue
        if _settled_elsewhere(decision, ref, marker, name, group, value, rules, source, source_time):
            continue
        if value == marker.get("base") or (marker.get("conflict") and value == marker.get("source")):
            decision.held.append(name)  # the source did not change it since (or this conflict is known)
            continue
        rule = rules[group]
        winner = rule
        if rule == "newest_wins":
            source_moment, hub_moment = moment(source_time) or moment(now), moment(str(marker.get("at")))
            newer = source_moment is not None and (hub_moment is None or source_moment > hub_moment)
            winner = "source_wins" if newer else "hub_wins"
        known = marker.get("conflict")
        cid = str(known) if known else conflict_id(ref.booking_id, name, str(marker["at"]), marker.get("base"), value)
        record = new_conflict(
            ref,
            name,
            group,
            rule,
            conflict_id=cid,
            source=source,
            hub_value=hub_value,
            source_value=value,
            base_value=marker.get("base"),
            hub_changed_at=str(marker.get("at")),
            hub_changed_by=marker.get("by"),
            source_changed_at=source_time,
            detected_at=now,
        )
        decision.markers_changed = True
        if winner == "source_wins":
            decision.write[name] = value
            markers.pop(name)
            record = settled_by_rule(record, "source_applied", value, now=now, sync_back="not_needed")
        elif winner == "hub_wins":
            decision.held.append(name)
            # The source's latest value becomes the known base: the same value again is no new conflict
            markers[name] = {k: v for k, v in marker.items() if k not in ("conflict", "source")} | {"base": value}
            decision.corrections[name] = hub_value
            sync_back: SyncBack = "queued" if accepts_writes else "unsupported"
            record = settled_by_rule(record, "hub_kept", hub_value, now=now, sync_back=sync_back)
        else:  # manual: the field waits for a person; the change's other fields apply
            decision.held.append(name)
            # (a write-back still queued waits too: sending it would overwrite the source's change)
            kept = {k: v for k, v in marker.items() if k not in WRITE_BACK_KEYS}
            markers[name] = {**kept, "conflict": cid, "source": value}
        decision.records.append(record)
    return decision
