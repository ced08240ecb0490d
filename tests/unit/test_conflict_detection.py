"""Conflict detection and the automatic rules, pure (bookinghub.conflicts.logic.detect)."""

from __future__ import annotations

from typing import Any

import pytest

from bookinghub.conflicts.logic.detect import (
    BookingRef,
    conflict_id,
    decide,
    effective_rules,
    mark_hub_edit,
    markers_of,
)
from bookinghub.conflicts.models import DEFAULT_RULES, ResolveRequest

REF = BookingRef("booking", "b-1", "org-1", "site", "src-1")
EDIT_AT = "2026-03-01T10:00:00.000000Z"


def edited(**changed: Any) -> dict[str, Any]:
    """A booking the source sent with 2026-03-01 / 2 guests, then an operator changed `changed`."""
    stored: dict[str, Any] = {"activity_date": "2026-03-01", "guest_count": 2, "status": "confirmed"}
    markers = mark_hub_edit(stored, changed, kind="booking", actor="ops@hub", now=EDIT_AT)
    return {**stored, **changed, "hub_edits": markers}


def run(stored: dict[str, Any], incoming: dict[str, Any], rule: str, source_time: str | None = None) -> Any:
    rules = {**DEFAULT_RULES, "dates": rule, "guest": rule, "status": rule}
    return decide(
        REF,
        stored,
        incoming,
        rules,  # type: ignore[arg-type]
        source="website:site",
        source_time=source_time,
        now="2026-03-01T12:00:00.000000Z",
        accepts_writes=True,
    )


def test_an_edit_marks_the_fields_with_the_value_the_source_last_sent() -> None:
    stored = edited(activity_date="2026-03-05", admin_notes="call the guest")
    assert markers_of(stored) == {"activity_date": {"at": EDIT_AT, "by": "ops@hub", "base": "2026-03-01"}}


def test_editing_back_to_the_sources_value_removes_the_mark() -> None:
    stored = edited(activity_date="2026-03-05")
    again = mark_hub_edit(stored, {"activity_date": "2026-03-01"}, kind="booking", actor="ops", now=EDIT_AT)
    assert again == {}


@pytest.mark.parametrize("rule", ["source_wins", "hub_wins", "newest_wins", "manual"])
def test_a_field_the_source_did_not_change_keeps_the_hubs_value_under_every_rule(rule: str) -> None:
    decision = run(edited(activity_date="2026-03-05"), {"activity_date": "2026-03-01", "guest_count": 3}, rule)
    assert decision.write == {"guest_count": 3}
    assert decision.held == ["activity_date"]
    assert decision.records == []


@pytest.mark.parametrize("rule", ["source_wins", "hub_wins", "newest_wins", "manual"])
def test_the_source_catching_up_with_the_hub_clears_the_mark(rule: str) -> None:
    decision = run(edited(activity_date="2026-03-05"), {"activity_date": "2026-03-05"}, rule)
    assert decision.write == {"activity_date": "2026-03-05"}
    assert decision.markers == {}
    assert decision.records == []


@pytest.mark.parametrize(
    ("rule", "source_time", "written", "outcome", "status"),
    [
        ("source_wins", None, "2026-03-09", "source_applied", "resolved"),
        ("hub_wins", None, None, "hub_kept", "resolved"),
        ("newest_wins", "2026-03-01T11:00:00Z", "2026-03-09", "source_applied", "resolved"),  # source newer
        ("newest_wins", "2026-03-01T09:00:00+00:00", None, "hub_kept", "resolved"),  # changed before the edit
        ("manual", None, None, "pending", "open"),
    ],
)
def test_each_rule_settles_a_real_conflict(
    rule: str, source_time: str | None, written: str | None, outcome: str, status: str
) -> None:
    stored = edited(activity_date="2026-03-05")
    decision = run(stored, {"activity_date": "2026-03-09", "guest_count": 3}, rule, source_time)
    assert decision.write.get("activity_date") == written
    assert decision.write["guest_count"] == 3  # the change's other fields apply whatever the rule
    (record,) = decision.records
    assert (record.field, record.hub_value, record.source_value, record.base_value) == (
        "activity_date",
        "2026-03-05",
        "2026-03-09",
        "2026-03-01",
    )
    assert (record.rule, record.outcome, record.status) == (rule, outcome, status)
    assert record.hub_changed_at == EDIT_AT
    assert record.hub_changed_by == "ops@hub"
    if outcome == "hub_kept":
        assert decision.corrections == {"activity_date": "2026-03-05"}
        assert decision.markers["activity_date"]["base"] == "2026-03-09"  # the same value again: no conflict
        assert run({**stored, "hub_edits": decision.markers}, {"activity_date": "2026-03-09"}, rule).records == []
    if outcome == "pending":
        assert decision.markers["activity_date"]["conflict"] == record.id
        # Redelivered: the open conflict is known, nothing new; a newer source value updates the same record
        again = run({**stored, "hub_edits": decision.markers}, {"activity_date": "2026-03-09"}, rule)
        assert again.records == []
        assert again.held == ["activity_date"]
        newer = run({**stored, "hub_edits": decision.markers}, {"activity_date": "2026-03-10"}, rule)
        assert [r.id for r in newer.records] == [record.id]
        assert newer.records[0].source_value == "2026-03-10"


def test_admin_notes_never_conflict() -> None:
    stored = edited(admin_notes="VIP")
    assert markers_of(stored) == {}
    decision = run(stored, {"admin_notes": "from the source"}, "manual")
    assert decision.records == []
    assert decision.write == {"admin_notes": "from the source"}


def test_conflict_ids_are_stable_for_a_redelivery() -> None:
    assert conflict_id("b", "f", EDIT_AT, 1, 2) == conflict_id("b", "f", EDIT_AT, 1, 2)
    assert conflict_id("b", "f", EDIT_AT, 1, 2) != conflict_id("b", "f", EDIT_AT, 1, 3)
    assert conflict_id("b", "f", EDIT_AT, 1, 2) != conflict_id("b", "f", EDIT_AT, 3, 2)  # A, B, then A again


def test_stored_rules_override_the_defaults_and_unknown_groups_are_ignored() -> None:
    rules = effective_rules({"dates": "hub_wins", "bogus": "manual"})
    assert rules["dates"] == "hub_wins"
    assert rules["price"] == DEFAULT_RULES["price"]
    assert "bogus" not in rules


def test_a_merged_resolution_needs_a_value_and_the_others_refuse_one() -> None:
    with pytest.raises(ValueError, match="value is required"):
        ResolveRequest.model_validate({"choice": "merged"})
    with pytest.raises(ValueError, match="only for choice=merged"):
        ResolveRequest.model_validate({"choice": "hub", "value": 1})
    assert ResolveRequest.model_validate({"choice": "merged", "value": None}).value is None


def test_a_field_the_source_never_set_is_marked_and_cleared_again() -> None:
    """Its base is None, which a DynamoDB map does not keep: the marker has no `base` at all."""
    stored = {"special_requests": "late check-in", "hub_edits": {"special_requests": {"at": EDIT_AT, "by": "ops"}}}
    assert mark_hub_edit(stored, {"special_requests": None}, kind="booking", actor="ops", now=EDIT_AT) == {}
    decision = run(stored, {"special_requests": "from the source"}, "manual")
    assert decision.records[0].base_value is None
