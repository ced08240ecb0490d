"""A source's change meets the hub's pending edits: what each source's apply path calls.

Websites (bookings/logic/sync.py), PMS providers (pms/logic/apply.py) and Beds24 (beds24/logic/apply.py)
each read the stored booking, call `plan_source_change` with the fields their change would set, write
`plan.write` (not `plan.held`) with `plan.markers`, and add `plan.items` (conflict records and their
events) to the same transaction. No pending edit on those fields: None, and nothing changes for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bookinghub.aws.codec import to_item
from bookinghub.bookings.dal.logs import event_item
from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.conflicts.dal import store
from bookinghub.conflicts.logic.detect import MARKERS, BookingRef, decide, effective_rules, markers_of
from bookinghub.conflicts.logic.events import conflict_events, correction_event
from bookinghub.conflicts.models import ConflictRecord
from bookinghub.core.observability import logger, metrics
from bookinghub.core.settings import get_settings


@dataclass
class SourcePlan:
    write: dict[str, Any]
    held: tuple[str, ...]
    markers_read: dict[str, Any] | None  # as stored when read (the write requires them unchanged)
    markers: dict[str, Any]  # to store ({}: none left)
    records: list[ConflictRecord]
    events: list[BookingDomainEvent] = field(default_factory=list)

    @property
    def conflict_fields(self) -> tuple[str, ...]:
        return tuple(sorted(record.field for record in self.records))

    @property
    def changes_anything(self) -> bool:
        return bool(self.write or self.records or self.markers != (self.markers_read or {}))

    def items(self) -> list[dict[str, Any]]:
        """Transaction items: the records, then their events (the outbox)."""
        return store.put_items(self.records) + [put_event(event) for event in self.events]


def put_event(event: BookingDomainEvent) -> dict[str, Any]:
    """An outbox item as a transaction item (the stream relays it like any booking event)."""
    return {
        "Put": {
            "TableName": get_settings().bookings_table,
            "Item": to_item(event_item(event)),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def plan_source_change(
    ref: BookingRef,
    stored: dict[str, Any] | None,
    incoming: dict[str, Any],
    *,
    source: str,
    source_time: str | None,
    now: str,
    accepts_writes: bool,
    correction_events: bool = True,
) -> SourcePlan | None:
    """`accepts_writes`: the hub's kept value can reach the source; `correction_events`: through a
    `booking.updated` on the delivery path (a website), else the caller queues it (Beds24)."""
    markers = markers_of(stored)
    if stored is None or not set(markers) & set(incoming):
        return None
    rules = effective_rules(store.get_rules(ref.organisation_id))
    decision = decide(
        ref, stored, incoming, rules, source=source, source_time=source_time, now=now, accepts_writes=accepts_writes
    )
    events: list[BookingDomainEvent] = []
    for record in decision.records:
        known = markers.get(record.field, {}).get("conflict") == record.id  # an open one seen again
        events += conflict_events(ref, record, now=now, new=not known)
        logger.info(
            "booking conflict",
            extra={
                "conflict_id": record.id,
                "booking_id": ref.booking_id,
                "field": record.field,
                "source": source,
                "rule": record.rule,
                "outcome": record.outcome,
            },
        )
        metrics.add_metric(name="BookingConflicts", unit="Count", value=1)
    if decision.corrections and accepts_writes and correction_events:
        events.append(correction_event(ref, decision.corrections, now=now, actor=None))
    return SourcePlan(
        write=decision.write,
        held=tuple(sorted(decision.held)),
        markers_read=stored.get(MARKERS) or None,
        markers=decision.markers,
        records=decision.records,
        events=events,
    )
