"""Reconciliation (issue 5): the hub's reservations against Beds24's bookings, each kind of difference
found (missing_in_hub, missing_in_beds24, and per-field discrepancies: status, dates, room, guest, price),
stored per run and readable by operators, and the option that re-syncs what differs."""

from __future__ import annotations

from typing import Any

from infra.local.resources import LocalResources
from tests.integration.beds24.hub import PROPERTY, current_property, drain_sync, get_run, reservation, sync
from tests.integration.beds24.meter import DynamoMeter
from tests.integration.beds24.operators import call_admin
from tests.integration.beds24.sandbox import Sandbox, day

EMPTY = {"missing_in_hub": 0, "missing_in_beds24": 0, "discrepancies": 0, "resynced": 0}


def _diverge(beds24: Sandbox, aws: LocalResources) -> dict[str, int]:
    """Bookings the hub has synced, then changed in Beds24 with every webhook lost."""
    names = ("same", "status", "dates", "room", "guest", "price", "deleted")
    ids = {name: beds24.create(email=f"{name}@example.com", unitId=1 + n % 2) for n, name in enumerate(names)}
    assert sync(aws, "full").counts.created == len(names)

    beds24.cancel(ids["status"])
    beds24.modify(ids["dates"], arrival=day(20), departure=day(24))
    beds24.modify(ids["room"], roomId=502)
    beds24.modify(ids["guest"], firstName="Annabel", email="annabel@example.com")
    beds24.modify(ids["price"], price=9999.5)
    beds24.delete(ids["deleted"])
    ids["new"] = beds24.create(email="new@example.com")
    return ids


def test_reconciliation_reports_each_kind_of_difference_and_writes_no_reservation(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    ids = _diverge(beds24, aws)
    cursor = current_property().last_successful_cursor

    with DynamoMeter() as meter:
        run = sync(aws, "reconcile")
    assert run.status == "succeeded"
    assert run.mode == "reconcile"
    assert run.report == {"missing_in_hub": 1, "missing_in_beds24": 1, "discrepancies": 5, "resynced": 0}
    assert run.counts.processed == 7
    assert run.counts.unchanged == 1
    assert meter.writes_to("RESERVATION#") == []
    assert current_property().last_successful_cursor == cursor  # a reconciliation is no pull

    status, body = call_admin("GET", f"/api/integrations/beds24/runs/{run.run_id}")
    assert status == 200
    assert body["run"]["report_truncated"] is False
    entries = {entry["beds24_booking_id"]: entry for entry in body["run"]["report_entries"]}
    assert len(entries) == 7
    kinds = {booking_id: entry["kind"] for booking_id, entry in entries.items()}
    assert kinds[ids["new"]] == "missing_in_hub"
    assert kinds[ids["deleted"]] == "missing_in_beds24"
    assert ids["same"] not in entries

    def fields(name: str) -> dict[str, Any]:
        entry = entries[ids[name]]
        assert entry["kind"] == "discrepancy"
        assert entry["reservation_id"] == (reservation(ids[name]) or {})["id"]
        return dict(entry["fields"])

    assert fields("status") == {"status": {"hub": "confirmed", "beds24": "cancelled"}}
    assert fields("dates") == {"dates": {"hub": [day(10), day(13)], "beds24": [day(20), day(24)]}}
    assert fields("room") == {"room": {"hub": [501, 2], "beds24": [502, 2]}}
    assert fields("guest") == {
        "guest": {"hub": ["Anna Lee", "guest@example.com"], "beds24": ["Annabel Lee", "annabel@example.com"]}
    }
    assert fields("price") == {"price": {"hub": 10500, "beds24": 9999.5}}


def test_reports_are_kept_per_run(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    booking_id = beds24.create()
    sync(aws, "full")
    beds24.modify(booking_id, price=1)
    first = sync(aws, "reconcile")
    beds24.modify(booking_id, price=10500)  # back to what the hub has
    second = sync(aws, "reconcile")

    assert first.report == {**EMPTY, "discrepancies": 1}
    assert second.report == EMPTY
    status, body = call_admin("GET", f"/api/integrations/beds24/runs/{first.run_id}")
    assert status == 200
    assert [e["kind"] for e in body["run"]["report_entries"]] == ["discrepancy"]
    status, body = call_admin("GET", f"/api/integrations/beds24/runs/{second.run_id}")
    assert status == 200
    assert body["run"]["report_entries"] == []
    status, listed = call_admin("GET", "/api/integrations/beds24/runs", query={"property_id": PROPERTY})
    assert [r["run_id"] for r in listed["runs"]][:2] == [second.run_id, first.run_id]


def test_resync_repairs_every_difference(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    ids = _diverge(beds24, aws)

    status, body = call_admin(
        "POST", "/api/integrations/beds24/sync", body={"property_id": PROPERTY, "mode": "reconcile", "resync": True}
    )
    assert status == 202
    assert body["run"]["resync"] is True
    drain_sync(aws)
    run = get_run(body["run"]["run_id"])
    assert run.status == "succeeded"
    assert run.report == {"missing_in_hub": 1, "missing_in_beds24": 1, "discrepancies": 5, "resynced": 7}
    assert (run.counts.created, run.counts.updated) == (1, 6)

    for name in ("status", "dates", "room", "guest", "price", "new"):
        stored = reservation(ids[name])
        assert stored is not None, name
        assert stored["modified_time"] == beds24.booking(ids[name])["modifiedTime"], name
        assert stored["last_source"] == "reconcile"
    gone = reservation(ids["deleted"])
    assert gone is not None
    assert gone["deleted"] is True

    again = sync(aws, "reconcile")
    assert again.report == EMPTY
    assert again.counts.unchanged == 7
