"""Conflicts (issue 15): an operator's edit and a source's change of the same field, for every source
(a website's sync, a PMS provider, Beds24) and every rule, with changes arriving out of order."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import pytest

from bookinghub.beds24.dal.reservations import get_reservations
from bookinghub.beds24.logic.apply import apply_booking as apply_beds24
from bookinghub.beds24.models.entities import Beds24Booking, Beds24Property
from bookinghub.bookings.dal.bookings import get_booking
from bookinghub.pms.logic.apply import apply_booking as apply_pms
from bookinghub.pms.models import BookingStatus, NormalizedBooking, NormalizedGuest
from bookinghub.pms.models.config import PMSConfiguration
from infra import topology
from tests.integration.admin.conftest import call_admin, claims
from tests.integration.conftest import DEMO_ORG, outbox_events, post_sync, seed_body, snapshot_tables

ADMIN = claims("admin")
BEDS24_ADMIN = next(fn for fn in topology.BEDS24_FUNCTIONS if fn.name == "beds24_admin")
CREATED_AT = "2026-01-01T00:00:00Z"
BEFORE_EDIT = "2026-06-01T00:00:00Z"  # the source changed it before the operator did (arriving later)
AFTER_EDIT = "after the edit"  # now, once the edit is made (a source's clock may not be in the future)
D1, D2, D3, D4 = "2027-03-01", "2027-03-05", "2027-03-09", "2027-03-12"


class Source(Protocol):
    date_field: str
    other_field: str
    name: str

    def create(self) -> str: ...  # the booking (or reservation) id, dated D1
    def change(self, booking_id: str, day: str, other: int, at: str, version: int) -> None: ...
    def edit(self, booking_id: str, day: str) -> None: ...
    def stored(self, booking_id: str) -> dict[str, Any]: ...


class Website:
    name, date_field, other_field = "website:test-website", "activity_date", "guest_count"

    def create(self) -> str:
        status, body = post_sync(seed_body(activity_date=D1, version=1, created_at=CREATED_AT))
        assert status == 200, body
        return str(body["booking_id"])

    def change(self, booking_id: str, day: str, other: int, at: str, version: int) -> None:
        source_id = self.stored(booking_id)["source_booking_id"]
        body = {"event": "booking.updated", "source_booking_id": source_id, "version": version, "updated_at": at}
        status, answer = post_sync({**body, "activity_date": day, "guest_count": other})
        assert status == 200, answer

    def edit(self, booking_id: str, day: str) -> None:
        status, body, _ = call_admin("PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body={"activity_date": day})
        assert status == 200, body

    def stored(self, booking_id: str) -> dict[str, Any]:
        return get_booking(booking_id) or {}


class Pms:
    name, date_field, other_field = "pms:mock:demo-hotel", "activity_date", "total_amount_cents"
    config = PMSConfiguration(
        slug="demo-hotel",
        organisation_id=DEMO_ORG,
        provider="mock",
        enabled=True,
        webhook_token_hash="0" * 64,
        created_at=CREATED_AT,
        updated_at=CREATED_AT,
    )

    def _booking(self, day: str, cents: int, at: str) -> NormalizedBooking:
        return NormalizedBooking(
            external_id="R-1",
            status=BookingStatus.CONFIRMED,
            guest=NormalizedGuest(first_name="Ana", last_name="Lima", email="ana@example.com"),
            check_in=date.fromisoformat(day),
            check_out=date(2027, 4, 1),
            total_amount_cents=cents,
            currency="THB",
            modified_at=datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(UTC),
        )

    def create(self) -> str:
        return apply_pms(self.config, self._booking(D1, 1000, CREATED_AT), None).booking_id

    def change(self, booking_id: str, day: str, other: int, at: str, version: int) -> None:
        apply_pms(self.config, self._booking(day, other, at), None)

    def edit(self, booking_id: str, day: str) -> None:
        Website().edit(booking_id, day)  # the same admin API edit: a PMS booking is a hub booking

    def stored(self, booking_id: str) -> dict[str, Any]:
        return get_booking(booking_id) or {}


class Beds24:
    name, date_field, other_field = "beds24:beach-hotel", "arrival", "num_adult"
    prop = Beds24Property(
        id="beach-hotel",
        organisation_id=DEMO_ORG,
        name="Beach Hotel",
        beds24_property_id=12345,
        room_mapping={"501": "Room 501"},
        created_at=CREATED_AT,
        updated_at=CREATED_AT,
    )

    def _booking(self, day: str, adults: int, at: str) -> Beds24Booking:
        raw = {"id": 40000001, "propertyId": 12345, "roomId": 501, "arrival": day, "departure": "2027-04-01"}
        raw |= {"numAdult": adults, "firstName": "Ana", "lastName": "Lima", "email": "ana@example.com"}
        return Beds24Booking.model_validate({**raw, "price": 120.0, "modifiedTime": at})

    def create(self) -> str:
        return apply_beds24(self.prop, self._booking(D1, 2, CREATED_AT), source="webhook").reservation_id

    def change(self, booking_id: str, day: str, other: int, at: str, version: int) -> None:
        apply_beds24(self.prop, self._booking(day, other, at), source="webhook")

    def edit(self, booking_id: str, day: str) -> None:
        path = f"/api/integrations/beds24/reservations/{booking_id}"
        status, body, _ = call_admin("PATCH", path, caller=ADMIN, body={"arrival": day}, function=BEDS24_ADMIN)
        assert status == 200, body
        assert body["changed_fields"] == ["arrival"]

    def stored(self, booking_id: str) -> dict[str, Any]:
        return get_reservations([booking_id]).get(booking_id) or {}


SOURCES: dict[str, Source] = {"website": Website(), "pms": Pms(), "beds24": Beds24()}


def moment(when: str) -> str:
    """A source's change time: a fixed one, or (AFTER_EDIT) a whole second after the operator's edit,
    which Beds24's second-resolution clock cannot place before it."""
    if when != AFTER_EDIT:
        return when
    time.sleep(1.05)
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _earlier(at: str) -> str:
    parsed = datetime.fromisoformat(at.replace("Z", "+00:00")) - timedelta(seconds=30)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


def set_rule(group: str, rule: str) -> None:
    status, body, _ = call_admin("PUT", "/api/conflicts/rules", caller=ADMIN, body={"rules": {group: rule}})
    assert status == 200, body
    assert body["rules"][group] == rule


def conflicts(**query: Any) -> list[dict[str, Any]]:
    status, body, _ = call_admin("GET", "/api/conflicts", caller=ADMIN, query=query)
    assert status == 200, body
    return list(body["conflicts"])


def event_types(booking_id: str) -> list[str]:
    return [str(event["event_type"]) for event in outbox_events(booking_id)]


# (rule, when the source changed it, the date kept, the record's status and outcome)
CASES = [
    ("source_wins", AFTER_EDIT, D3, "resolved", "source_applied"),
    ("hub_wins", AFTER_EDIT, D2, "resolved", "hub_kept"),
    ("newest_wins", AFTER_EDIT, D3, "resolved", "source_applied"),
    ("newest_wins", BEFORE_EDIT, D2, "resolved", "hub_kept"),
    ("manual", AFTER_EDIT, D2, "open", "pending"),
]


@pytest.mark.parametrize("source_name", sorted(SOURCES))
@pytest.mark.parametrize(("rule", "changed_at", "kept", "status", "outcome"), CASES)
def test_every_rule_for_every_source_with_a_late_older_change(
    test_website: Any, source_name: str, rule: str, changed_at: str, kept: str, status: str, outcome: str
) -> None:
    source = SOURCES[source_name]
    set_rule("dates", rule)
    booking_id = source.create()
    source.edit(booking_id, D2)  # the operator moves the date ...

    changed_at = moment(changed_at)
    source.change(booking_id, D3, 3, changed_at, version=3)  # ... and the source moves it too

    stored = source.stored(booking_id)
    assert stored[source.date_field] == kept
    assert stored[source.other_field] == 3  # the change's other field applied whatever the rule
    (record,) = conflicts(booking_id=booking_id)
    assert (record["field"], record["hub_value"], record["source_value"], record["base_value"]) == (
        source.date_field,
        D2,
        D3,
        D1,
    )
    assert (record["rule"], record["status"], record["outcome"], record["source"]) == (
        rule,
        status,
        outcome,
        source.name,
    )
    assert record["hub_changed_by"] == "ops@demo.example"
    assert record["hub_changed_at"]
    assert record["source_changed_at"].startswith(changed_at[:10])
    expected_events = ["booking.conflict_detected"] + (["booking.conflict_resolved"] if status == "resolved" else [])
    # (both events have the change's time: the outbox orders them by id)
    assert sorted(t for t in event_types(booking_id) if t.startswith("booking.conflict")) == expected_events

    if source_name == "website" and outcome == "hub_kept":  # the hub's value goes back to the website
        back = [e for e in outbox_events(booking_id) if e["origin"] == "admin:conflicts"]
        assert [(e["event_type"], json.loads(e["data"])) for e in back] == [("booking.updated", {"activity_date": D2})]
    if source_name != "website" and outcome == "hub_kept":
        # Beds24 takes the hub's value through its write-back queue (tests/integration/beds24/test_write_back.py);
        # the PMS providers' port offers no writes
        assert record["sync_back"] == ("queued" if source_name == "beds24" else "unsupported")

    # A change older than the one applied, delivered late: stale by the per-field order, no new conflict
    source.change(booking_id, D4, 4, _earlier(changed_at), version=2)
    assert source.stored(booking_id)[source.date_field] == kept
    assert source.stored(booking_id)[source.other_field] == 3
    assert len(conflicts(booking_id=booking_id)) == 1


@pytest.mark.parametrize("source_name", sorted(SOURCES))
def test_a_source_repeating_the_value_it_had_keeps_the_operators_edit(test_website: Any, source_name: str) -> None:
    source = SOURCES[source_name]
    booking_id = source.create()
    source.edit(booking_id, D2)

    source.change(booking_id, D1, 5, moment(AFTER_EDIT), version=3)  # a full payload: the date as it always was

    assert source.stored(booking_id)[source.date_field] == D2
    assert source.stored(booking_id)[source.other_field] == 5
    assert conflicts(booking_id=booking_id) == []


def test_a_manual_conflict_blocks_neither_other_fields_nor_other_bookings(test_website: Any) -> None:
    set_rule("dates", "manual")
    source = SOURCES["website"]
    first = source.create()
    second_status, second = post_sync(seed_body(source_booking_id="src-second", activity_date=D1, version=1))
    assert second_status == 200
    source.edit(first, D2)
    source.change(first, D3, 3, moment(AFTER_EDIT), version=3)
    (open_conflict,) = conflicts(status="open")

    # The same booking's other fields still follow the source, and the date stays held
    source.change(first, D3, 6, moment(AFTER_EDIT), version=4)
    assert source.stored(first)["guest_count"] == 6
    assert source.stored(first)["activity_date"] == D2
    assert conflicts(status="open") == [open_conflict]  # the same conflict, seen again
    # Another booking is changed as usual
    status, _ = post_sync(
        {"event": "booking.updated", "source_booking_id": "src-second", "version": 2, "activity_date": D4}
    )
    assert status == 200
    assert source.stored(second["booking_id"])["activity_date"] == D4


def resolve(conflict_id: str, caller: dict[str, str] = ADMIN, **body: Any) -> tuple[int, dict[str, Any]]:
    status, answer, _ = call_admin("POST", f"/api/conflicts/{conflict_id}/resolve", caller=caller, body=body)
    return status, answer


@pytest.fixture
def open_conflict(test_website: Any) -> dict[str, Any]:
    set_rule("dates", "manual")
    source = SOURCES["website"]
    booking_id = source.create()
    source.edit(booking_id, D2)
    source.change(booking_id, D3, 3, moment(AFTER_EDIT), version=3)
    (record,) = conflicts(status="open")
    return record


@pytest.mark.parametrize(("choice", "value", "kept"), [("hub", None, D2), ("source", None, D3), ("merged", D4, D4)])
def test_resolving_by_hand_is_idempotent(open_conflict: dict[str, Any], choice: str, value: Any, kept: str) -> None:
    body = {"choice": choice} | ({"value": value} if choice == "merged" else {})
    status, answer = resolve(open_conflict["id"], **body)
    assert status == 200, answer
    resolved = answer["conflict"]
    assert (resolved["status"], resolved["resolved_value"], resolved["resolved_by"]) == (
        "resolved",
        kept,
        "ops@demo.example",
    )
    booking = get_booking(open_conflict["booking_id"]) or {}
    assert booking["activity_date"] == kept
    events = outbox_events(open_conflict["booking_id"])
    assert [e["event_type"] for e in events].count("booking.conflict_resolved") == 1
    if choice != "source":  # the hub's (or the merged) value goes back to the website, as an operator's edit
        assert resolved["sync_back"] == "queued"
        back = next(e for e in reversed(events) if e["event_type"] == "booking.updated")
        assert back["origin"].startswith("admin:")
        assert json.loads(back["data"]) == {"activity_date": kept}
    before = snapshot_tables()

    again = resolve(open_conflict["id"], **body)

    assert again == (200, answer)
    assert snapshot_tables() == before
    other = {"hub": "source", "source": "hub", "merged": "hub"}[choice]
    status, refused = resolve(open_conflict["id"], choice=other)
    assert (status, refused["code"]) == (409, "CONFLICT_ALREADY_RESOLVED")
    assert snapshot_tables() == before
    # Resolved, the field follows the source's next changes again (no pending edit left to conflict with)
    SOURCES["website"].change(open_conflict["booking_id"], "2027-05-01", 3, moment(AFTER_EDIT), version=9)
    assert (get_booking(open_conflict["booking_id"]) or {})["activity_date"] == (
        "2027-05-01" if choice == "source" else kept
    )


@pytest.mark.parametrize(
    ("path", "method", "body", "code"),
    [
        ("/api/conflicts/{id}/resolve", "POST", {"choice": "bogus"}, "INVALID_PAYLOAD"),
        ("/api/conflicts/{id}/resolve", "POST", {"choice": "merged"}, "INVALID_PAYLOAD"),
        ("/api/conflicts/{id}/resolve", "POST", {"choice": "merged", "value": "next week"}, "INVALID_PAYLOAD"),
        ("/api/conflicts/{id}/resolve", "POST", {"choice": "merged", "value": 7}, "INVALID_PAYLOAD"),
        ("/api/conflicts/{id}/resolve", "POST", {"choice": "hub", "extra": 1}, "INVALID_PAYLOAD"),
        (
            "/api/conflicts/00000000-0000-0000-0000-000000000000/resolve",
            "POST",
            {"choice": "hub"},
            "CONFLICT_NOT_FOUND",
        ),
        ("/api/conflicts/not-a-uuid", "GET", None, "CONFLICT_NOT_FOUND"),
        ("/api/conflicts/rules", "PUT", {"rules": {"dates": "sometimes"}}, "INVALID_PAYLOAD"),
        ("/api/conflicts/rules", "PUT", {"rules": {"weather": "manual"}}, "INVALID_PAYLOAD"),
        ("/api/conflicts/rules", "PUT", {"rules": {}}, "INVALID_PAYLOAD"),
    ],
)
def test_bad_input_is_a_4xx_with_a_code_and_leaves_no_data(
    open_conflict: dict[str, Any], path: str, method: str, body: Any, code: str
) -> None:
    before = snapshot_tables()
    status, answer, _ = call_admin(method, path.replace("{id}", open_conflict["id"]), caller=ADMIN, body=body)
    assert 400 <= status < 500
    assert answer["code"] == code
    assert snapshot_tables() == before


def test_conflict_routes_keep_to_the_callers_tenancy(open_conflict: dict[str, Any]) -> None:
    rival = claims("admin", org="rival-org", email="ops@rival.example")
    path = f"/api/conflicts/{open_conflict['id']}"
    assert call_admin("GET", path, caller=rival)[0] == 404
    assert resolve(open_conflict["id"], caller=rival, choice="hub")[0] == 404
    status, body, _ = call_admin("GET", "/api/conflicts", caller=rival, query={"organisation_id": DEMO_ORG})
    assert (status, body["code"]) == (404, "ORGANISATION_NOT_FOUND")
    assert call_admin("GET", "/api/conflicts", caller=rival)[1]["conflicts"] == []
    # Staff see the conflicts of their own websites only, and may not change the rules
    mine, theirs = claims("staff", websites=("test-website",)), claims("staff", websites=("other-website",))
    assert [c["id"] for c in call_admin("GET", "/api/conflicts", caller=mine)[1]["conflicts"]] == [open_conflict["id"]]
    assert call_admin("GET", "/api/conflicts", caller=theirs)[1]["conflicts"] == []
    assert call_admin("GET", path, caller=theirs)[0] == 404
    status, body, _ = call_admin("PUT", "/api/conflicts/rules", caller=mine, body={"rules": {"dates": "hub_wins"}})
    assert (status, body["code"]) == (403, "FORBIDDEN")
    # A superadmin names the organisation
    boss = claims("superadmin", org=None, email="root@hub.example")
    status, body, _ = call_admin("GET", "/api/conflicts", caller=boss, query={"organisation_id": DEMO_ORG})
    assert [c["id"] for c in body["conflicts"]] == [open_conflict["id"]]
    assert call_admin("GET", "/api/conflicts", caller=boss)[0] == 400
    assert call_admin("GET", "/api/conflicts", caller=ADMIN, query={"status": "resolved"})[1]["conflicts"] == []


def test_default_rules_are_listed_and_admin_notes_never_conflict(test_website: Any) -> None:
    status, body, _ = call_admin("GET", "/api/conflicts/rules", caller=ADMIN)
    assert status == 200
    assert body["rules"] == {
        "status": "newest_wins",
        "dates": "manual",
        "room": "manual",
        "guest": "source_wins",
        "price": "source_wins",
        "notes": "newest_wins",
    }
    booking_id = SOURCES["website"].create()
    status, _, _ = call_admin("PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body={"admin_notes": "VIP"})
    assert status == 200
    assert "hub_edits" not in (get_booking(booking_id) or {})


def test_an_operators_edit_landing_between_the_syncs_read_and_write_is_not_overwritten(
    test_website: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The narrowed write requires the pending edits as read: an edit in between fails it, and the retry
    (reading again) meets the new edit too."""
    from bookinghub.bookings.logic import sync

    source = SOURCES["website"]
    booking_id = source.create()
    source.edit(booking_id, D2)
    planned = sync.plan_source_change
    calls: list[int] = []

    def edit_meanwhile(*args: Any, **kwargs: Any) -> Any:
        plan = planned(*args, **kwargs)
        if not calls:
            body = {"guest_count": 7}
            assert call_admin("PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body=body)[0] == 200
        calls.append(1)
        return plan

    monkeypatch.setattr(sync, "plan_source_change", edit_meanwhile)
    set_rule("guest", "hub_wins")

    source.change(booking_id, D3, 3, moment(AFTER_EDIT), version=3)

    assert len(calls) == 2  # the first write failed on the edit made meanwhile, the second saw it
    stored = source.stored(booking_id)
    assert (stored["activity_date"], stored["guest_count"]) == (D2, 7)  # dates: manual; guest: hub_wins
    assert sorted((c["field"], c["outcome"]) for c in conflicts(booking_id=booking_id)) == [
        ("activity_date", "pending"),
        ("guest_count", "hub_kept"),
    ]


def test_a_beds24_write_racing_an_operators_edit_leaves_the_edit_for_the_next_pull(
    test_website: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.beds24.logic import apply

    source = SOURCES["beds24"]
    booking_id = source.create()
    racing = apply.with_conflicts

    def edit_meanwhile(*args: Any, **kwargs: Any) -> Any:
        result = racing(*args, **kwargs)
        source.edit(booking_id, D2)
        return result

    monkeypatch.setattr(apply, "with_conflicts", edit_meanwhile)
    at = moment(AFTER_EDIT)
    source.change(booking_id, D3, 3, at, version=3)
    assert source.stored(booking_id)["arrival"] == D2  # the write found the edit and did not overwrite it

    monkeypatch.setattr(apply, "with_conflicts", racing)
    source.change(booking_id, D3, 3, at, version=3)  # the next pull of the same Beds24 version
    (record,) = conflicts(booking_id=booking_id)
    assert (record["hub_value"], record["source_value"], record["status"]) == (D2, D3, "open")
    assert source.stored(booking_id)[source.other_field] == 3


def test_a_change_with_no_column_to_set_is_answered_not_a_5xx(test_website: Any) -> None:
    """Every field null: nothing to set and nothing pending to guard (the fuzzer found it)."""
    booking_id = SOURCES["website"].create()
    edit = {"special_requests": "late check-in"}
    assert call_admin("PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body=edit)[0] == 200
    clear = {"special_requests": None, "admin_notes": None}
    status, body, _ = call_admin("PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body=clear)
    assert (status, body["changed_fields"]) == (200, ["special_requests"])
    source_id = SOURCES["website"].stored(booking_id)["source_booking_id"]
    status, answer = post_sync({"event": "booking.updated", "source_booking_id": source_id, "guest_count": None})
    assert (status, answer["applied_fields"]) == (200, [])


@pytest.mark.parametrize("source_name", sorted(SOURCES))
def test_a_source_going_back_to_an_earlier_value_is_a_new_conflict_each_time(
    test_website: Any, source_name: str
) -> None:
    """hub_wins keeps the hub's value against each new source value: D3, D4, then D3 again."""
    source = SOURCES[source_name]
    set_rule("dates", "hub_wins")
    booking_id = source.create()
    source.edit(booking_id, D2)

    for version, day in enumerate((D3, D4, D3), start=3):
        source.change(booking_id, day, version, moment(AFTER_EDIT), version=version)

    assert source.stored(booking_id)[source.date_field] == D2
    found = sorted((c["base_value"], c["source_value"], c["outcome"]) for c in conflicts(booking_id=booking_id))
    assert found == sorted([(D1, D3, "hub_kept"), (D3, D4, "hub_kept"), (D4, D3, "hub_kept")])
