"""Conflicts: rules, records and the admin API's bodies.

A conflict is one field of one booking (a hub booking, or a Beds24 reservation) that both the hub (an
operator's edit) and its source changed from the value they last agreed on. Each field belongs to a group,
and each organisation picks a rule per group (`rules` below, defaults in DEFAULT_RULES).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bookinghub.core.fields import AdminBody, OrganisationId

Group = Literal["status", "dates", "room", "guest", "price", "notes"]
GROUPS: tuple[Group, ...] = ("status", "dates", "room", "guest", "price", "notes")
Rule = Literal["source_wins", "hub_wins", "newest_wins", "manual"]
# Sensible defaults: the source is the system of record for money and the guest's own details; a status
# or a note follows whoever changed it last; dates and rooms decide availability, so a person decides.
DEFAULT_RULES: dict[Group, Rule] = {
    "status": "newest_wins",
    "dates": "manual",
    "room": "manual",
    "guest": "source_wins",
    "price": "source_wins",
    "notes": "newest_wins",
}
Status = Literal["open", "resolved"]
# What became of the field: the source's value applied, the hub's kept, a merged value, or (open) not yet
Outcome = Literal["source_applied", "hub_kept", "merged", "pending"]
Choice = Literal["hub", "source", "merged"]
Kind = Literal["booking", "reservation"]  # a hub booking (websites, PMS) or a Beds24 reservation
# Whether the resolved value went back to the source: queued on the delivery path, not needed (the
# source already has it), or the source takes no writes from the hub (Beds24 today)
SyncBack = Literal["queued", "synced", "failed", "not_needed", "unsupported"]
# Found when the source's change met the hub's pending edit, or when an operator's versioned edit met the
# source's change since (conflicts/logic/hub_edit.py)
DetectedOn = Literal["source_change", "hub_edit"]


class ConflictRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    organisation_id: str
    kind: Kind
    booking_id: str
    website_id: str  # the booking's website (`beds24:<property>` for a reservation)
    source: str  # who sent the change: website:<id>, pms:<provider>:<slug>, beds24:<property>
    field: str
    group: Group
    rule: Rule
    hub_value: Any = None
    source_value: Any = None
    base_value: Any = None  # what both last agreed on (the source's value when the hub edited it)
    hub_changed_at: str
    hub_changed_by: str | None = None
    source_changed_at: str | None = None  # the source's own clock, when the change says
    detected_at: str
    detected_on: DetectedOn = "source_change"
    status: Status
    outcome: Outcome
    resolved_value: Any = None
    resolved_by: str | None = None  # `rule` for an automatic resolution, else the operator
    resolved_at: str | None = None
    sync_back: SyncBack | None = None
    sync_error: str | None = None  # why a write-back failed (Beds24's per-item error, or its outage)
    synced_at: str | None = None


def public_conflict(record: ConflictRecord) -> dict[str, Any]:
    return record.model_dump(mode="json")


# --- Admin API bodies ------------------------------------------------------------------------------------


class ResolveRequest(AdminBody):
    """POST /api/conflicts/{id}/resolve: keep the hub's value, take the source's, or set a merged one."""

    choice: Choice
    value: Any = None  # the merged value (required with choice=merged, refused otherwise)

    @model_validator(mode="after")
    def _value_with_merged(self) -> ResolveRequest:
        if self.choice == "merged" and "value" not in self.model_fields_set:
            raise ValueError("value is required with choice=merged")
        if self.choice != "merged" and "value" in self.model_fields_set:
            raise ValueError("value is only for choice=merged")
        return self


class RulesUpdate(AdminBody):
    """PUT /api/conflicts/rules: the rule of each group named (the others keep theirs)."""

    rules: Annotated[dict[Group, Rule], Field(min_length=1)]
    organisation_id: OrganisationId | None = None
