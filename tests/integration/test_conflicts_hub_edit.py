"""Conflicts the other way (issue 15): an operator's edit made on a version read before the source changed
the booking. Field-level: the source's changes to other fields leave the edit to apply; a field the source
set since is a conflict under the organisation's rule; another operator's change of the same field is 409."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.admin.conftest import RIVAL_ORG, call_admin, claims
from tests.integration.conftest import booking_item, post_sync, seed_body, snapshot_tables
from tests.integration.test_conflicts import ADMIN, AFTER_EDIT, D1, D2, D3, SOURCES, conflicts, moment, set_rule


def _version(source_name: str, booking_id: str) -> int:
    return int(SOURCES[source_name].stored(booking_id)["version"])


def _edit(booking_id: str, body: dict[str, Any], version: int) -> tuple[int, dict[str, Any]]:
    status, answer, _ = call_admin(
        "PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body=body, headers={"If-Match": f'"{version}"'}
    )
    return status, answer


# (rule, the date kept, status, outcome)
RULES = [
    ("source_wins", D3, "resolved", "source_applied"),
    ("hub_wins", D2, "resolved", "hub_kept"),
    ("newest_wins", D2, "resolved", "hub_kept"),  # the operator's edit is the later change
    ("manual", D3, "open", "pending"),  # the field keeps the source's value until a person chooses
]


@pytest.mark.parametrize("source_name", ["website", "pms"])
@pytest.mark.parametrize(("rule", "kept", "status", "outcome"), RULES)
def test_every_rule_for_an_edit_of_a_field_the_source_changed_since(
    test_website: Any, source_name: str, rule: str, kept: str, status: str, outcome: str
) -> None:
    source = SOURCES[source_name]
    set_rule("dates", rule)
    booking_id = source.create()
    read = _version(source_name, booking_id)  # the operator reads the booking ...
    source.change(booking_id, D3, 3, moment(AFTER_EDIT), version=3)  # ... the source changes it ...
    code, answer = _edit(booking_id, {source.date_field: D2, "admin_notes": "call back"}, read)  # ... the edit
    assert code == 200, answer
    assert answer["conflict_fields"] == [source.date_field]
    stored = source.stored(booking_id)
    assert stored[source.date_field] == kept
    assert stored["admin_notes"] == "call back"  # the edit's other field applied whatever the rule
    assert stored[source.other_field] == 3  # and so did the source's
    (record,) = conflicts(booking_id=booking_id)
    assert (record["detected_on"], record["rule"], record["status"], record["outcome"]) == (
        "hub_edit",
        rule,
        status,
        outcome,
    )
    assert (record["hub_value"], record["source_value"], record["hub_changed_by"]) == (D2, D3, "ops@demo.example")
    if outcome == "hub_kept":
        assert record["sync_back"] == ("queued" if source_name == "website" else "unsupported")
    if rule == "manual":  # a person chooses the operator's value: it applies
        path = f"/api/conflicts/{record['id']}/resolve"
        code, resolved, _ = call_admin("POST", path, caller=ADMIN, body={"choice": "hub"})
        assert code == 200, resolved
        assert source.stored(booking_id)[source.date_field] == D2


@pytest.mark.parametrize("source_name", ["website", "pms"])
def test_a_source_change_of_other_fields_does_not_fail_the_edit(test_website: Any, source_name: str) -> None:
    source = SOURCES[source_name]
    booking_id = source.create()
    read = _version(source_name, booking_id)
    source.change(booking_id, D1, 5, moment(AFTER_EDIT), version=3)  # only the other field changes ...
    code, answer = _edit(booking_id, {"admin_notes": "late arrival"}, read)  # ... the edit is of another one
    assert code == 200, answer
    assert answer["changed_fields"] == ["admin_notes"]
    assert "conflict_fields" not in answer
    assert conflicts(booking_id=booking_id) == []


def test_a_manual_conflict_follows_the_sources_later_value(test_website: Any) -> None:
    source = SOURCES["website"]
    set_rule("dates", "manual")
    booking_id = source.create()
    read = _version("website", booking_id)
    source.change(booking_id, D3, 3, moment(AFTER_EDIT), version=3)
    assert _edit(booking_id, {source.date_field: D2}, read)[0] == 200
    source.change(booking_id, "2027-03-20", 3, moment(AFTER_EDIT), version=4)  # the source moves it again
    assert source.stored(booking_id)[source.date_field] == "2027-03-20"
    (record,) = conflicts(booking_id=booking_id)
    assert (record["status"], record["hub_value"], record["source_value"]) == ("open", D2, "2027-03-20")
    code, resolved, _ = call_admin(
        "POST", f"/api/conflicts/{record['id']}/resolve", caller=ADMIN, body={"choice": "source"}
    )
    assert code == 200, resolved
    assert source.stored(booking_id)[source.date_field] == "2027-03-20"


def test_another_operators_change_of_another_field_is_409_too(test_website: Any) -> None:
    """If-Match keeps its contract between operators (issue 10): only the source's changes are judged per
    field."""
    source = SOURCES["website"]
    booking_id = source.create()
    read = _version("website", booking_id)
    assert _edit(booking_id, {"time_slot": "11:00"}, read)[0] == 200
    before = snapshot_tables()
    code, answer = _edit(booking_id, {"guest_count": 4}, read)
    assert (code, answer["code"]) == (409, "VERSION_CONFLICT")
    assert snapshot_tables() == before


def test_another_operators_change_of_the_same_field_is_still_409(test_website: Any) -> None:
    source = SOURCES["website"]
    booking_id = source.create()
    read = _version("website", booking_id)
    assert _edit(booking_id, {"time_slot": "11:00"}, read)[0] == 200
    before = snapshot_tables()
    code, answer = _edit(booking_id, {"time_slot": "12:00"}, read)
    assert (code, answer["code"]) == (409, "VERSION_CONFLICT")
    code, answer = _edit(booking_id, {"time_slot": "12:00"}, read + 5)  # a version not reached yet
    assert (code, answer["code"]) == (409, "VERSION_CONFLICT")
    assert snapshot_tables() == before


def test_a_hub_edit_conflict_keeps_to_its_tenancy_and_bad_input_writes_nothing(test_website: Any) -> None:
    source = SOURCES["website"]
    set_rule("dates", "manual")
    booking_id = source.create()
    read = _version("website", booking_id)
    source.change(booking_id, D3, 3, moment(AFTER_EDIT), version=3)
    before = snapshot_tables()
    code, answer = _edit(booking_id, {source.date_field: "not a date"}, read)
    assert code == 400, answer
    code, answer, _ = call_admin(
        "PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body={"activity_date": D2}, headers={"If-Match": '"x"'}
    )
    assert code == 400, answer
    rival = claims("admin", org=RIVAL_ORG)
    code, answer, _ = call_admin(
        "PUT",
        f"/api/bookings/{booking_id}",
        caller=rival,
        body={"activity_date": D2},
        headers={"If-Match": f'"{read}"'},
    )
    assert code == 404, answer
    assert snapshot_tables() == before
    assert _edit(booking_id, {source.date_field: D2}, read)[0] == 200
    (record,) = conflicts(booking_id=booking_id)
    code, listed, _ = call_admin("GET", "/api/conflicts", caller=rival)
    assert code == 200
    assert listed["conflicts"] == []
    code, _, _ = call_admin("GET", f"/api/conflicts/{record['id']}", caller=rival)
    assert code == 404


def test_a_full_payload_stamps_only_the_columns_it_changes(test_website: Any) -> None:
    """A website sends its whole booking on every change: the columns it repeats are not the source's
    changes, so an operator's edit of them on the version read before is no conflict; of the one it
    changed, it is."""
    booking_id = SOURCES["website"].create()
    read = _version("website", booking_id)  # the operator reads the booking ...
    full = seed_body(activity_date=D1, created_at=None, event="booking.updated", version=2, guest_count=5)
    status, answer = post_sync({**full, "updated_at": moment(AFTER_EDIT)})  # ... the website changes one field
    assert status == 200, answer
    item = booking_item(booking_id)
    assert item is not None
    assert [name for name in item if name.startswith("source_v#")] == ["source_v#guest_count"]

    body = {"activity_date": D2, "time_slot": "11:00", "guest_count": 6}
    code, edited = _edit(booking_id, body, read)  # ... the edit, of that field and two others
    assert code == 200, edited
    assert edited["conflict_fields"] == ["guest_count"]
    stored = SOURCES["website"].stored(booking_id)
    assert (stored["activity_date"], stored["time_slot"], stored["guest_count"]) == (D2, "11:00", 5)  # source_wins
    assert [c["field"] for c in conflicts(booking_id=booking_id)] == ["guest_count"]


def test_a_column_changed_between_the_read_and_the_write_is_stamped(
    test_website: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write requires the columns it leaves unstamped to hold the value read: an older change landing
    in between (which this one overrides) fails it, and the retry stamps the column it then changes."""
    from bookinghub.bookings.dal import bookings

    booking_id = SOURCES["website"].create()
    read_columns = bookings._stored_columns
    reads: list[int] = []

    def changed_meanwhile(*args: Any) -> Any:
        stored = read_columns(*args)
        reads.append(len(reads))
        if len(reads) == 1:  # the website's older change of the slot lands just after this sync's read
            older = seed_body(created_at=None, event="booking.updated", version=2, time_slot="12:00")
            assert post_sync({**older, "updated_at": moment(AFTER_EDIT)})[0] == 200
        return stored

    monkeypatch.setattr(bookings, "_stored_columns", changed_meanwhile)
    full = seed_body(created_at=None, event="booking.updated", version=3, guest_count=5)  # time_slot 10:00
    status, answer = post_sync({**full, "updated_at": moment(AFTER_EDIT)})
    assert status == 200, answer
    assert len(reads) == 3  # this sync's read, the older change's, and this sync's again for its retry
    item = booking_item(booking_id)
    assert item is not None
    assert (item["time_slot"], item["guest_count"], item["version"]) == ("10:00", 5, 3)
    assert (item["source_v#time_slot"], item["source_v#guest_count"]) == (3, 3)  # both changed by version 3
