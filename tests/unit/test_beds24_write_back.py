"""The write-back's pure parts (issue 15): the client's POST /bookings answer per element, Beds24's field
names, and a synced marker meeting Beds24's next change (echo, older, newer)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from bookinghub.beds24.client.api import Beds24Client, Beds24Error, Beds24Unavailable
from bookinghub.beds24.dal import write_index
from bookinghub.beds24.logic.writeback import beds24_fields, has_queued, parse_message, queue_markers
from bookinghub.conflicts.logic.detect import BookingRef, decide, mark_hub_edit
from bookinghub.conflicts.logic.hub_edit import plan_hub_edit
from bookinghub.conflicts.models import DEFAULT_RULES
from bookinghub.core.clock import to_iso
from bookinghub.core.errors import InvalidPayload

BASE = "https://beds24.example.com/api/v2"


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DNS in unit tests: Beds24's host resolves to a public address."""
    monkeypatch.setattr("bookinghub.core.urls.resolve", lambda host: ["93.184.216.34"])


@dataclass
class Answer:
    status_code: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def content(self) -> bytes:
        return json.dumps(self.body).encode()


class Fake:
    def __init__(self, *posts: Answer) -> None:
        self.posts = list(posts)
        self.sent: list[Any] = []

    def get(self, url: str, **_: Any) -> Answer:
        assert url.endswith("/authentication/token")
        return Answer(200, {"token": "access-SECRET-1", "expiresIn": 86400})

    def post(self, url: str, *, json: Any, headers: dict[str, str], timeout: float) -> Answer:
        assert url == f"{BASE}/bookings"
        assert headers["token"] == "access-SECRET-1"
        self.sent.append(json)
        return self.posts.pop(0)


def client(fake: Fake) -> Beds24Client:
    return Beds24Client(BASE, refresh_token="r" * 20, session=fake, sleep=lambda _: None)


def test_each_element_has_its_own_result() -> None:
    fake = Fake(
        Answer(
            201,
            [
                {"success": True, "modified": {"id": 1}, "warnings": [{"field": "x", "message": "ignored"}]},
                {"success": False, "errors": [{"field": "departure", "message": "departure must be after arrival"}]},
            ],
        )
    )
    first, second = client(fake).modify_bookings({1: {"arrival": "2027-01-02"}, 2: {"departure": "2027-01-01"}})
    assert fake.sent == [[{"id": 1, "arrival": "2027-01-02"}, {"id": 2, "departure": "2027-01-01"}]]
    assert (first.success, first.warnings) == (True, ("x: ignored",))
    assert (second.success, second.errors) == (False, ("departure: departure must be after arrival",))


def test_an_outage_is_retried_and_a_refusal_is_not() -> None:
    fake = Fake(Answer(503, {"success": False}), Answer(201, [{"success": True}]))
    assert client(fake).modify_bookings({1: {"numAdult": 2}})[0].success
    assert len(fake.sent) == 2  # the same body again: Beds24's modify is idempotent
    refused = Fake(Answer(400, {"success": False, "code": 400, "error": "bad"}))
    with pytest.raises(Beds24Error) as error:
        client(refused).modify_bookings({1: {"numAdult": 2}})
    assert error.value.http_status_code == 400
    assert len(refused.sent) == 1


def test_an_answer_that_does_not_match_what_was_sent_is_unavailable() -> None:
    with pytest.raises(Beds24Unavailable):
        client(Fake(Answer(201, [{"success": True}]))).modify_bookings({1: {"numAdult": 2}, 2: {"numAdult": 1}})
    with pytest.raises(Beds24Unavailable):
        client(Fake(Answer(201, [{"ok": 1}]))).modify_bookings({1: {"numAdult": 2}})


def test_reservation_fields_take_beds24s_names() -> None:
    assert beds24_fields("guest_name", "Ana Maria Lima") == {"firstName": "Ana Maria", "lastName": "Lima"}
    assert beds24_fields("guest_name", "Ana") == {"firstName": "Ana", "lastName": ""}
    assert beds24_fields("num_adult", 3) == {"numAdult": 3}
    assert beds24_fields("beds24_room_id", 501) == {"roomId": 501}
    assert beds24_fields("notes", None) == {"notes": ""}


@pytest.mark.parametrize("body", ["", "[]", '{"reservation_id": 3}', '{"other": "x"}'])
def test_a_malformed_message_is_refused(body: str) -> None:
    with pytest.raises(InvalidPayload):
        parse_message(body)


REF = BookingRef("reservation", "r-1", "org-1", "beds24:p", "40000001")
SYNCED_AT = "2027-01-01T10:00:05.000000Z"


def synced() -> dict[str, Any]:
    markers = {"arrival": {"at": "2027-01-01T10:00:00Z", "by": "ops", "base": "2027-02-01"}}
    queue_markers(markers, ["arrival"], conflict_id="c-1")
    assert markers["arrival"]["sync"] == "queued"
    markers["arrival"] |= {"sync": "synced", "synced_at": SYNCED_AT}
    return {"arrival": "2027-02-03", "hub_edits": markers}


def _decide(value: str, at: str) -> Any:
    return decide(
        REF,
        synced(),
        {"arrival": value},
        dict(DEFAULT_RULES),
        source="beds24:p",
        source_time=at,
        now="2027-01-01T11:00:00Z",
        accepts_writes=True,
    )


def test_the_echo_of_the_write_back_clears_the_marker_without_a_conflict() -> None:
    decision = _decide("2027-02-03", "2027-01-01T10:00:06Z")
    assert (decision.write, decision.records, decision.markers) == ({"arrival": "2027-02-03"}, [], {})


def test_a_beds24_value_older_than_the_write_back_is_held_and_a_newer_one_applies() -> None:
    older = _decide("2027-02-09", "2027-01-01T10:00:01Z")
    assert (older.held, older.records, older.write) == (["arrival"], [], {})
    newer = _decide("2027-02-09", "2027-01-01T10:00:09Z")
    assert (newer.write, newer.records, newer.markers) == ({"arrival": "2027-02-09"}, [], {})


def test_a_manual_hub_edit_conflict_holds_the_operators_value_and_follows_the_source() -> None:
    stored = {"arrival": "2027-02-05", "notes": "x"}
    rules = {**DEFAULT_RULES, "dates": "manual"}
    plan = plan_hub_edit(
        REF,
        stored,
        {"arrival": "2027-02-03", "notes": "y"},
        {"arrival"},
        rules,  # type: ignore[arg-type]
        source="beds24:p",
        source_time=None,
        actor="ops",
        now="2027-01-01T10:00:00Z",
        sync_back="queued",
    )
    assert plan.apply == {"notes": "y"}
    (record,) = plan.records
    assert (record.status, record.hub_value, record.source_value, record.detected_on) == (
        "open",
        "2027-02-03",
        "2027-02-05",
        "hub_edit",
    )
    later = decide(
        REF,
        {**stored, "hub_edits": plan.markers},
        {"arrival": "2027-02-07"},
        rules,  # type: ignore[arg-type]
        source="beds24:p",
        source_time="2027-01-01T10:30:00Z",
        now="2027-01-01T10:30:01Z",
        accepts_writes=True,
    )
    assert later.write == {"arrival": "2027-02-07"}
    (updated,) = later.records
    assert (updated.id, updated.status, updated.hub_value, updated.source_value) == (
        record.id,
        "open",
        "2027-02-03",
        "2027-02-07",
    )


def queued_edit() -> dict[str, Any]:
    markers = {"arrival": {"at": "2027-01-01T10:00:00Z", "by": "ops", "base": "2027-02-01"}}
    queue_markers(markers, ["arrival"])
    return {"arrival": "2027-02-03", "hub_edits": markers}


def test_a_manual_conflict_found_before_the_write_back_cancels_the_queued_send() -> None:
    """The write-back's catch-up (logic/catch_up.py) applies Beds24's unseen change: under `manual` the
    field waits for a person, so nothing of it stays queued for Beds24."""
    rules = {**DEFAULT_RULES, "dates": "manual"}
    decision = decide(
        REF,
        queued_edit(),
        {"arrival": "2027-02-09"},
        rules,  # type: ignore[arg-type]
        source="beds24:p",
        source_time="2027-01-01T10:00:03Z",
        now="2027-01-01T10:00:04Z",
        accepts_writes=True,
    )
    assert decision.held == ["arrival"]
    marker = decision.markers["arrival"]
    assert marker["conflict"] == decision.records[0].id
    assert not set(marker) & {"sync", "queued_at", "sync_conflict"}
    assert not has_queued(decision.markers)


def test_a_re_edit_of_a_synced_field_is_based_on_the_value_beds24_has_since() -> None:
    stored = synced()  # the hub's 2027-02-03 reached Beds24
    markers = mark_hub_edit(stored, {"arrival": "2027-02-04"}, kind="reservation", actor="ops", now="2027-01-02T09:00Z")
    assert markers["arrival"]["base"] == "2027-02-03"
    assert "sync" not in markers["arrival"]
    back = mark_hub_edit(stored, {"arrival": "2027-02-03"}, kind="reservation", actor="ops", now="2027-01-02T09:00Z")
    assert back == {}  # what Beds24 has: nothing left to write


def test_a_queued_write_back_is_indexed_until_nothing_is_queued() -> None:
    reservation = queued_edit()
    queued_at = reservation["hub_edits"]["arrival"]["queued_at"]
    keys = write_index.index_keys("r-1", reservation["hub_edits"])
    due = datetime.fromisoformat(queued_at.replace("Z", "+00:00")) + timedelta(seconds=write_index.GRACE_SECONDS)
    assert keys == {"GSI2PK": "BEDS24_WRITES", "GSI2SK": f"{to_iso(due)}#r-1"}
    assert write_index.index_keys("r-1", reservation["hub_edits"], deleted=True) == {}
    assert write_index.index_keys("r-1", synced()["hub_edits"]) == {}
    assert write_index.index_keys("r-1", None) == {}
