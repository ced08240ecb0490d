"""PUT /api/bookings/{id} as seed 002 writes it: an edit without a version applies (last writer wins,
logged), a sent version or If-Match is still a precondition (409 on mismatch), and tenancy is checked
before any precondition (another tenant's booking is 404 whatever If-Match says)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.admin.conftest import call_admin, claims
from tests.integration.conftest import outbox_events, post_sync, seed_body, snapshot_tables

ADMIN = claims("admin")
STAFF = claims("staff", websites=("test-website",), email="desk@demo.example")


def _admin_events(booking_id: str) -> list[dict[str, Any]]:
    return [e for e in outbox_events(booking_id) if e["origin"].startswith("admin:")]


def _warnings(text: str) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [r for r in records if r["level"] == "WARNING"]


def test_an_edit_without_a_version_applies_and_is_logged(
    tenants: dict[str, Any], captured_logs: Callable[[], str]
) -> None:
    booking_id = tenants["test_a"]
    status, answer, headers = call_admin(
        "PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body={"admin_notes": "Called the guest"}
    )
    assert status == 200, answer
    assert answer["changed_fields"] == ["admin_notes"]
    assert (answer["booking"]["version"], headers["ETag"]) == (2, '"2"')
    (event,) = _admin_events(booking_id)
    assert json.loads(event["data"]) == {"admin_notes": "Called the guest"}
    (warning,) = _warnings(captured_logs())
    assert warning["message"] == "booking edited without a version: last writer wins"
    assert (warning["booking_id"], warning["caller"], warning["role"]) == (booking_id, ADMIN["sub"], "admin")
    assert warning["changed_fields"] == ["admin_notes"]


def test_the_last_writer_wins_over_a_sync_in_between(tenants: dict[str, Any]) -> None:
    booking_id = tenants["test_a"]
    body = seed_body(source_booking_id="src-a", booking_ref="HW-000001", activity_date="2026-03-01", time_slot="09:00")
    body["event"] = "booking.updated"
    assert post_sync(body)[0] == 200  # the website's own change: version 2
    status, answer, _ = call_admin("PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body={"time_slot": "14:00"})
    assert status == 200, answer
    assert (answer["booking"]["time_slot"], answer["booking"]["version"]) == ("14:00", 3)


def test_a_write_racing_an_unversioned_edit_is_overwritten_not_a_conflict(
    tenants: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync lands between the edit's read and its write: the edit's condition fails once, it re-reads
    and applies on top (exactly one admin event), as seed 002's unconditional PUT would."""
    from bookinghub.bookings.dal import admin as store

    booking_id = tenants["test_a"]
    apply_edit = store.apply_edit
    calls: list[int] = []

    def racing_apply_edit(booking: dict[str, Any], **options: Any) -> None:
        calls.append(options["expected_version"])
        if len(calls) == 1:
            body = seed_body(source_booking_id="src-a", booking_ref="HW-000001", activity_date="2026-03-01")
            body.update(event="booking.updated", guest_count=4)
            assert post_sync(body)[0] == 200
        apply_edit(booking, **options)

    monkeypatch.setattr(store, "apply_edit", racing_apply_edit)
    status, answer, _ = call_admin("PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body={"admin_notes": "late"})
    assert status == 200, answer
    assert calls == [1, 2]
    booking = answer["booking"]
    assert (booking["admin_notes"], booking["guest_count"], booking["version"]) == ("late", 4, 3)
    assert len(_admin_events(booking_id)) == 1


def test_a_sent_version_is_still_a_precondition(tenants: dict[str, Any]) -> None:
    path = f"/api/bookings/{tenants['test_a']}"
    assert call_admin("PUT", path, caller=ADMIN, body={"admin_notes": "first"})[0] == 200
    before = snapshot_tables()
    for body, headers in (
        ({"admin_notes": "stale"}, {"If-Match": '"1"'}),
        ({"version": 1, "admin_notes": "stale"}, {}),
    ):
        status, answer, _ = call_admin("PUT", path, caller=ADMIN, body=body, headers=headers)
        assert (status, answer["code"]) == (409, "VERSION_CONFLICT"), answer
        assert answer["details"] == [{"field": "version", "message": "the booking is now at version 2"}]
    assert snapshot_tables() == before


def test_if_match_any_version_edits_as_without_one(tenants: dict[str, Any]) -> None:
    """`If-Match: *` (RFC 9110: any current representation) is met by every booking there is: it was 400
    INVALID_PAYLOAD "not a version"."""
    path = f"/api/bookings/{tenants['test_a']}"
    assert call_admin("PUT", path, caller=ADMIN, body={"admin_notes": "first"})[0] == 200
    status, answer, headers = call_admin(
        "PUT", path, caller=ADMIN, body={"admin_notes": "any"}, headers={"If-Match": "*"}
    )
    assert status == 200, answer
    assert (answer["changed_fields"], headers["ETag"]) == (["admin_notes"], '"3"')
    # With a version in the body, that version is the precondition
    status, answer, _ = call_admin(
        "PUT", path, caller=ADMIN, body={"version": 2, "admin_notes": "stale"}, headers={"If-Match": "*"}
    )
    assert (status, answer["code"]) == (409, "VERSION_CONFLICT"), answer


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"admin_notes": "x"}, {"If-Match": "*"}),  # any version: of a booking they may see
        ({"admin_notes": "x"}, {"If-Match": "not-a-version"}),  # 400 on a visible booking
        ({"admin_notes": "x"}, {"If-Match": '"99"'}),  # 409 on a visible booking
        ({"version": 1, "admin_notes": "x"}, {"If-Match": '"2"'}),  # 400: they disagree
        ({"admin_notes": "x"}, {}),  # no precondition at all: still not theirs to edit
    ],
)
@pytest.mark.parametrize(("caller", "booking"), [(ADMIN, "rival"), (STAFF, "other"), (ADMIN, "missing")])
def test_tenancy_is_checked_before_any_precondition(
    tenants: dict[str, Any], body: dict[str, Any], headers: dict[str, str], caller: dict[str, str], booking: str
) -> None:
    booking_id = tenants.get(booking, "00000000-0000-4000-8000-000000000000")
    before = snapshot_tables()
    status, answer, _ = call_admin("PUT", f"/api/bookings/{booking_id}", caller=caller, body=body, headers=headers)
    assert (status, answer["code"]) == (404, "BOOKING_NOT_FOUND"), answer
    assert snapshot_tables() == before
