"""The other direction (issue 15): an operator's edit, made on a version read earlier, of fields the
source changed since (pure: no I/O; the callers read the rules and write the plan).

Field-level: the source's changes since then to OTHER fields do not fail the edit, it applies on top. A
field the source set since the read is a conflict, settled by the organisation's rule for its group:
- `source_wins`: the operator's value is dropped, the source's stays (resolved, `source_applied`);
- `hub_wins` and `newest_wins` (the operator's edit is the later of the two changes): the operator's value
  applies and is synced back like any edit (resolved, `hub_kept`);
- `manual`: the field keeps the source's value, the operator's waits in an open conflict (the marker holds
  it as `proposed`) for a person to choose.
A field another operator set since the read stays a 409 (the caller's version conflict). Hub-only fields
(admin notes) never conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bookinghub.conflicts.logic.detect import (
    BookingRef,
    conflict_id,
    group_of,
    mark_hub_edit,
    markers_of,
    new_conflict,
    settled_by_rule,
)
from bookinghub.conflicts.models import ConflictRecord, Group, Rule, SyncBack


@dataclass
class HubEditPlan:
    apply: dict[str, Any]  # the operator's fields to write
    markers: dict[str, dict[str, Any]]
    records: list[ConflictRecord] = field(default_factory=list)

    @property
    def conflict_fields(self) -> list[str]:
        return sorted(record.field for record in self.records)


def plan_hub_edit(
    ref: BookingRef,
    stored: dict[str, Any],
    changed: dict[str, Any],
    source_changed: set[str],
    rules: dict[Group, Rule],
    *,
    source: str,
    source_time: str | None,
    actor: str,
    now: str,
    sync_back: SyncBack,
) -> HubEditPlan:
    """Split an operator's `changed` fields by those the source set since the edit's version
    (`source_changed`); `sync_back`: what becomes of a value the hub keeps (queued where the source takes
    writes)."""
    apply = dict(changed)
    records: list[ConflictRecord] = []
    held: dict[str, dict[str, Any]] = {}
    for name in sorted(set(changed) & source_changed):
        group = group_of(ref.kind, name)
        if group is None:
            continue  # hub-only
        rule = rules[group]
        hub_value, source_value = changed[name], stored.get(name)
        record = new_conflict(
            ref,
            name,
            group,
            rule,
            conflict_id=conflict_id(ref.booking_id, name, now, source_value, hub_value),
            source=source,
            hub_value=hub_value,
            source_value=source_value,
            base_value=None,  # the value the operator read is not known field by field
            hub_changed_at=now,
            hub_changed_by=actor,
            source_changed_at=source_time,
            detected_at=now,
            detected_on="hub_edit",
        )
        if rule == "source_wins":
            apply.pop(name)
            record = settled_by_rule(record, "source_applied", source_value, now=now, sync_back="not_needed")
        elif rule in ("hub_wins", "newest_wins"):
            record = settled_by_rule(record, "hub_kept", hub_value, now=now, sync_back=sync_back)
        else:  # manual: the source's value stays; the operator's waits for a person
            apply.pop(name)
            held[name] = {
                "at": now,
                "by": actor,
                "base": source_value,
                "conflict": record.id,
                "source": source_value,
                "proposed": hub_value,
            }
        records.append(record)
    markers = mark_hub_edit(stored, apply, kind=ref.kind, actor=actor, now=now) if apply else markers_of(stored)
    markers.update(held)
    return HubEditPlan(apply=apply, markers=markers, records=records)


# --- Hub bookings (the admin API's PUT /api/bookings/{id}) ---------------------------------------------

SOURCE_VERSION_PREFIX = "source_v#"  # set by the source's writes (bookings/dal/bookings.py)


def set_since(stored: dict[str, Any], columns: Any, version: int, prefix: str) -> set[str]:
    """The columns set (by the source, or by operators) after `version` of the booking."""
    return {name for name in columns if int(stored.get(f"{prefix}{name}") or 0) > version}


def source_stamps(stored: dict[str, Any] | None, written: dict[str, Any]) -> dict[str, int]:
    """The version stamps of a source's write that is conditioned on the stored version (a PMS's): the
    columns whose value it changes, at the version it writes."""
    if stored is None:
        return {}
    version = int(stored.get("version") or 0) + 1
    return {
        f"{SOURCE_VERSION_PREFIX}{name}": version
        for name, value in written.items()
        if group_of("booking", name) is not None and stored.get(name) != value
    }


def booking_source(stored: dict[str, Any]) -> tuple[str, SyncBack]:
    """Who the booking's source is, and what becomes of a value the hub keeps: a website takes it on the
    delivery path (the edit's own booking.updated), a PMS provider's port offers no writes."""
    if stored.get("pms_provider"):
        return f"pms:{stored['pms_provider']}", "unsupported"
    return f"website:{stored.get('website_id')}", "queued"


def booking_ref(stored: dict[str, Any]) -> BookingRef:
    return BookingRef(
        kind="booking",
        booking_id=str(stored["id"]),
        organisation_id=str(stored["organisation_id"]),
        website_id=str(stored["website_id"]),
        source_booking_id=str(stored.get("source_booking_id") or ""),
    )


def plan_versioned_booking_edit(
    stored: dict[str, Any], changed: dict[str, Any], expected: int, *, actor: str, now: str
) -> tuple[HubEditPlan, list[dict[str, Any]]]:
    """An operator's edit made on `expected` (older than the booking): the plan and its transaction items
    (the conflict records and their events). The caller has checked no operator set these fields since."""
    from bookinghub.conflicts.dal import store
    from bookinghub.conflicts.logic.detect import effective_rules
    from bookinghub.conflicts.logic.events import conflict_events
    from bookinghub.conflicts.logic.sources import put_event

    source_changed = set_since(stored, changed, expected, SOURCE_VERSION_PREFIX)
    source, sync_back = booking_source(stored)
    rules = effective_rules(store.get_rules(str(stored["organisation_id"]))) if source_changed else {}
    plan = plan_hub_edit(
        booking_ref(stored),
        stored,
        changed,
        source_changed,
        rules,  # type: ignore[arg-type]
        source=source,
        source_time=str(stored.get("updated_at") or "") or None,
        actor=actor,
        now=now,
        sync_back=sync_back,
    )
    ref = booking_ref(stored)
    events = [e for record in plan.records for e in conflict_events(ref, record, now=now)]
    return plan, store.put_items(plan.records) + [put_event(event) for event in events]


def plan_versioned_reservation_edit(
    stored: dict[str, Any], changed: dict[str, Any], version: str, *, actor: str, now: str
) -> tuple[HubEditPlan, list[dict[str, Any]]]:
    """An operator's reservation edit made on `version` (the `modified_time` read): the fields Beds24
    changed after it (`field_times`) are conflicts; a value the hub keeps is written back to Beds24."""
    from bookinghub.conflicts.dal import store
    from bookinghub.conflicts.logic.detect import effective_rules
    from bookinghub.conflicts.logic.events import conflict_events
    from bookinghub.conflicts.logic.sources import put_event

    times = stored.get("field_times") or {}
    source_changed = {name for name in changed if str(times.get(name) or "") > version}
    ref = BookingRef(
        kind="reservation",
        booking_id=str(stored["id"]),
        organisation_id=str(stored["organisation_id"]),
        website_id=f"beds24:{stored['property_id']}",
        source_booking_id=str(stored.get("beds24_booking_id") or ""),
    )
    rules = effective_rules(store.get_rules(ref.organisation_id)) if source_changed else {}
    plan = plan_hub_edit(
        ref,
        stored,
        changed,
        source_changed,
        rules,  # type: ignore[arg-type]
        source=ref.website_id,
        source_time=str(stored.get("modified_time") or "") or None,
        actor=actor,
        now=now,
        sync_back="queued",
    )
    events = [e for record in plan.records for e in conflict_events(ref, record, now=now)]
    return plan, store.put_items(plan.records) + [put_event(event) for event in events]
