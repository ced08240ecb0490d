"""Conflicts as a new user tries them with `make run` up (issue 15's "done when"), over real HTTP on
loopback: the same booking's arrival is changed in the sandbox Beds24 and, by an operator who read it
before, in the hub; the conflict is in the admin API with both values, resolved by hand (the default rule
for dates is `manual`) or by a configured rule, and the value kept is written back to the sandbox Beds24.
The reconciliation report lists the open conflict."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Hub
from tests.e2e.test_beds24 import PROPERTY, Beds24, Operator, wait_for

pytestmark = pytest.mark.e2e

BOOKING = 40000002  # a demo booking no other step here changes: arrival in 30 days, three nights


@pytest.fixture(scope="module")
def ops(hub: Hub) -> Operator:
    """demo-org's admin, once the demo property's first full sync (started by `make run`) is done."""
    admin = Operator(hub)

    def setup_run_finished() -> bool:
        runs = admin.get("/api/integrations/beds24/runs", property_id=PROPERTY)["runs"]
        return bool(runs) and runs[-1]["status"] in ("succeeded", "failed")

    wait_for("the demo property's first full sync", setup_run_finished)
    return admin


def _shift(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def call(operator: Operator, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    answer = requests.request(method, f"{operator.hub.url}{path}", json=body, headers=operator.headers, timeout=30)
    assert answer.status_code == status, answer.text
    return answer.json()


def open_conflicts(operator: Operator, reservation_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = operator.get("/api/conflicts", status="open", booking_id=reservation_id)["conflicts"]
    return found


def in_beds24(beds24: Beds24, booking_id: int) -> dict[str, Any]:
    answer = requests.get(f"{beds24.api}/bookings", params={"id": booking_id}, headers=beds24.headers, timeout=10)
    assert answer.status_code == 200, answer.text
    (booking,) = answer.json()["data"]
    return dict(booking)


def test_an_arrival_changed_in_beds24_and_then_in_the_hub_is_a_conflict_resolved_by_hand_or_by_rule(
    hub: Hub, ops: Operator
) -> None:
    operator, beds24 = ops, Beds24(hub)
    reservation = operator.reservations()[BOOKING]
    reservation_id, arrival, read = reservation["id"], reservation["arrival"], reservation["modified_time"]
    hub_arrival, beds24_arrival = _shift(arrival, 1), _shift(arrival, 2)
    path = f"/api/integrations/beds24/reservations/{reservation_id}"

    # 1. The operator has read the reservation; meanwhile someone moves the arrival in Beds24 (webhook).
    # (Beds24's clock counts whole seconds: a change in the second read cannot be told from the one read)
    time.sleep(1.1)
    beds24.post({"id": BOOKING, "arrival": beds24_arrival, "numAdult": 3})
    wait_for("Beds24's change", lambda: operator.reservations()[BOOKING]["arrival"] == beds24_arrival)

    # 2. The operator's edit, made on what they read, meets it: the default rule for dates is manual
    edited = call(operator, "PATCH", path, {"arrival": hub_arrival, "version": read})
    assert (edited["changed_fields"], edited["conflict_fields"]) == ([], ["arrival"])
    (conflict,) = open_conflicts(operator, reservation_id)
    assert (conflict["field"], conflict["hub_value"], conflict["source_value"], conflict["detected_on"]) == (
        "arrival",
        hub_arrival,
        beds24_arrival,
        "hub_edit",
    )
    assert (conflict["rule"], conflict["outcome"], conflict["source"]) == ("manual", "pending", "beds24:demo-property")
    after = operator.reservations()[BOOKING]
    assert (after["arrival"], after["num_adult"]) == (beds24_arrival, 3)  # Beds24's value until a person decides

    # 3. The reconciliation report shows the open conflict
    beds24.webhooks(None)
    try:
        report = operator.sync("reconcile")
    finally:
        beds24.webhooks_back_on()
    entry = next(e for e in report["report_entries"] if e["beds24_booking_id"] == BOOKING)
    assert [(c["conflict_id"], c["hub"], c["beds24"]) for c in entry["conflicts"]] == [
        (conflict["id"], hub_arrival, beds24_arrival)
    ]
    assert report["report"]["open_conflicts"] >= 1

    # 4. Resolved by hand with the operator's value: it applies and is written back to Beds24
    resolve = f"/api/conflicts/{conflict['id']}/resolve"
    resolved = call(operator, "POST", resolve, {"choice": "hub"})["conflict"]
    assert (resolved["status"], resolved["outcome"], resolved["resolved_value"]) == (
        "resolved",
        "hub_kept",
        hub_arrival,
    )
    assert call(operator, "POST", resolve, {"choice": "hub"})["conflict"]["outcome"] == "hub_kept"
    assert call(operator, "POST", resolve, {"choice": "source"}, status=409)["code"] == "CONFLICT_ALREADY_RESOLVED"
    assert operator.reservations()[BOOKING]["arrival"] == hub_arrival
    wait_for("the write-back to Beds24", lambda: in_beds24(beds24, BOOKING)["arrival"] == hub_arrival)
    wait_for(
        "the conflict's sync_back",
        lambda: operator.get(f"/api/conflicts/{conflict['id']}")["conflict"]["sync_back"] == "synced",
    )
    # The echo (Beds24's webhook of the hub's own write) is no new conflict
    wait_for("the echo", lambda: not operator.reservations()[BOOKING].get("hub_edits"))
    assert open_conflicts(operator, reservation_id) == []

    # 5. With the rule for dates set to hub_wins, the next one is settled at once and written back
    rules = call(operator, "PUT", "/api/conflicts/rules", {"rules": {"dates": "hub_wins"}})["rules"]
    assert rules["dates"] == "hub_wins"
    read = operator.reservations()[BOOKING]["modified_time"]
    second_hub, second_beds24 = _shift(arrival, -1), _shift(arrival, -2)
    beds24.webhooks(None)
    time.sleep(1.1)
    try:
        beds24.post({"id": BOOKING, "arrival": second_beds24})
        operator.sync("incremental")
        settled_edit = call(operator, "PATCH", path, {"arrival": second_hub, "version": read})
    finally:
        beds24.webhooks_back_on()
        call(operator, "PUT", "/api/conflicts/rules", {"rules": {"dates": "manual"}})
    assert settled_edit["conflict_fields"] == ["arrival"]
    assert operator.reservations()[BOOKING]["arrival"] == second_hub
    settled = [
        c
        for c in operator.get("/api/conflicts", booking_id=reservation_id)["conflicts"]
        if c["source_value"] == second_beds24
    ]
    assert [(c["status"], c["outcome"], c["rule"], c["resolved_by"]) for c in settled] == [
        ("resolved", "hub_kept", "hub_wins", "rule")
    ]
    wait_for("the second write-back", lambda: in_beds24(beds24, BOOKING)["arrival"] == second_hub)
    wait_for(
        "its sync_back",
        lambda: operator.get(f"/api/conflicts/{settled[0]['id']}")["conflict"]["sync_back"] == "synced",
    )
