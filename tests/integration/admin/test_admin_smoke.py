"""End-to-end through the handler: list, read and edit a booking as an admin of its organisation."""

from __future__ import annotations

from typing import Any

from tests.integration.admin.conftest import call_admin, claims


def test_admin_lists_reads_and_edits_a_booking(tenants: dict[str, Any]) -> None:
    admin = claims("admin")
    status, page, _ = call_admin("GET", "/api/bookings", caller=admin)
    assert status == 200, page
    assert [b["id"] for b in page["bookings"]] == [tenants["test_a"], tenants["other"], tenants["test_b"]]

    status, answer, headers = call_admin("GET", f"/api/bookings/{tenants['test_a']}", caller=admin)
    assert status == 200, answer
    assert headers["ETag"] == '"1"'

    edit = {"version": 1, "status": "cancelled", "admin_notes": "Customer called"}
    status, answer, headers = call_admin("PUT", f"/api/bookings/{tenants['test_a']}", caller=admin, body=edit)
    assert status == 200, answer
    assert answer["changed_fields"] == ["admin_notes", "status"]
    assert answer["booking"]["version"] == 2
    assert answer["booking"]["updated_by"] == "ops@demo.example"
    assert headers["ETag"] == '"2"'
