"""Conflicts as a new user tries them with `make run` up (issue 15's "done when"), over real HTTP on
loopback: an operator changes a Beds24 reservation's arrival in the hub, the same booking's arrival is
changed in the sandbox Beds24, the webhook (or the next pull) brings it in, and the conflict is in the
admin API with both values: resolved by hand (the default rule for dates is `manual`) or by a configured
rule. The reconciliation report lists the open conflict beside its discrepancy."""

from __future__ import annotations

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


def test_an_arrival_changed_in_the_hub_and_in_beds24_is_a_conflict_resolved_by_hand_or_by_rule(
    hub: Hub, ops: Operator
) -> None:
    operator, beds24 = ops, Beds24(hub)
    reservation = operator.reservations()[BOOKING]
    reservation_id, arrival = reservation["id"], reservation["arrival"]
    hub_arrival, beds24_arrival = _shift(arrival, 1), _shift(arrival, 2)

    # 1. The operator moves the arrival in the hub (the hub does not write to Beds24)
    edited = call(
        operator, "PATCH", f"/api/integrations/beds24/reservations/{reservation_id}", {"arrival": hub_arrival}
    )
    assert edited["changed_fields"] == ["arrival"]
    assert edited["reservation"]["arrival"] == hub_arrival

    # 2. Someone moves it in Beds24 too: the webhook brings the change, the default rule for dates is manual
    beds24.post({"id": BOOKING, "arrival": beds24_arrival, "numAdult": 3})
    (conflict,) = wait_for("the conflict by webhook", lambda: open_conflicts(operator, reservation_id))
    assert (conflict["field"], conflict["hub_value"], conflict["source_value"], conflict["base_value"]) == (
        "arrival",
        hub_arrival,
        beds24_arrival,
        arrival,
    )
    assert (conflict["rule"], conflict["outcome"], conflict["source"]) == ("manual", "pending", "beds24:demo-property")
    assert conflict["hub_changed_at"]
    assert conflict["source_changed_at"]
    after = operator.reservations()[BOOKING]
    assert (after["arrival"], after["num_adult"]) == (hub_arrival, 3)  # held for a person; the rest applied

    # 3. The reconciliation report shows the open conflict beside the discrepancy
    beds24.webhooks(None)
    try:
        report = operator.sync("reconcile")
    finally:
        beds24.webhooks_back_on()
    entry = next(e for e in report["report_entries"] if e["beds24_booking_id"] == BOOKING)
    assert entry["fields"]["dates"]["hub"][0] == hub_arrival
    assert [(c["conflict_id"], c["hub"], c["beds24"]) for c in entry["conflicts"]] == [
        (conflict["id"], hub_arrival, beds24_arrival)
    ]
    assert report["report"]["open_conflicts"] >= 1

    # 4. Resolved by hand, taking Beds24's value; the same request again changes nothing
    path = f"/api/conflicts/{conflict['id']}/resolve"
    resolved = call(operator, "POST", path, {"choice": "source"})["conflict"]
    assert (resolved["status"], resolved["outcome"], resolved["resolved_value"]) == (
        "resolved",
        "source_applied",
        beds24_arrival,
    )
    assert call(operator, "POST", path, {"choice": "source"})["conflict"] == resolved
    assert call(operator, "POST", path, {"choice": "hub"}, status=409)["code"] == "CONFLICT_ALREADY_RESOLVED"
    assert operator.reservations()[BOOKING]["arrival"] == beds24_arrival
    assert open_conflicts(operator, reservation_id) == []

    # 5. With the rule for dates set to hub_wins, the next conflict is settled at once, by the next pull
    rules = call(operator, "PUT", "/api/conflicts/rules", {"rules": {"dates": "hub_wins"}})["rules"]
    assert rules["dates"] == "hub_wins"
    second_hub, second_beds24 = _shift(arrival, -1), _shift(arrival, -2)
    call(operator, "PATCH", f"/api/integrations/beds24/reservations/{reservation_id}", {"arrival": second_hub})
    beds24.webhooks(None)
    try:
        beds24.post({"id": BOOKING, "arrival": second_beds24})
        operator.sync("incremental")
    finally:
        beds24.webhooks_back_on()
        call(operator, "PUT", "/api/conflicts/rules", {"rules": {"dates": "manual"}})
    settled = [
        c
        for c in operator.get("/api/conflicts", booking_id=reservation_id)["conflicts"]
        if c["source_value"] == second_beds24
    ]
    assert [(c["status"], c["outcome"], c["rule"], c["resolved_by"]) for c in settled] == [
        ("resolved", "hub_kept", "hub_wins", "rule")
    ]
    assert settled[0]["sync_back"] == "unsupported"  # Beds24 takes no writes from the hub (yet)
    assert operator.reservations()[BOOKING]["arrival"] == second_hub
