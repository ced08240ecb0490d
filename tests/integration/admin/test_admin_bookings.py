"""Booking list filters and pagination, and edits: optimistic concurrency, validation, outbox event."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.admin.conftest import call_admin, claims
from tests.integration.conftest import outbox_events, post_sync, seed_body, snapshot_tables

ADMIN = claims("admin")


def _ids(caller: dict[str, str] = ADMIN, **query: Any) -> list[str]:
    status, body, _ = call_admin("GET", "/api/bookings", caller=caller, query=query)
    assert status == 200, body
    return [b["id"] for b in body["bookings"]]


def test_filters(tenants: dict[str, Any]) -> None:
    assert _ids(activity_date_from="2026-03-02", activity_date_to="2026-03-04") == [tenants["other"]]
    assert _ids(activity_date_from="2026-03-02") == [tenants["other"], tenants["test_b"]]
    assert _ids(activity_date_to="2026-03-01") == [tenants["test_a"]]
    assert _ids(q="HW-000002") == [tenants["test_b"]]  # booking ref (GSI4)
    assert _ids(q="bob@example.com") == [tenants["test_b"]]  # customer email (GSI3)
    assert _ids(q="Other Cust") == [tenants["other"]]  # customer name (a filter on the organisation's GSI2)
    assert _ids(q="other  CUST") == [tenants["other"]]  # case and spacing do not matter
    assert _ids(status="cancelled") == []
    assert _ids(status="confirmed", website_id="test-website") == [tenants["test_a"], tenants["test_b"]]


def test_pagination_is_stable_while_bookings_arrive(tenants: dict[str, Any]) -> None:
    status, first, _ = call_admin("GET", "/api/bookings", caller=ADMIN, query={"limit": 2})
    assert status == 200
    assert [b["id"] for b in first["bookings"]] == [tenants["test_a"], tenants["other"]]
    assert first["next_cursor"]
    # a booking lands before the cursor's position and one after it meanwhile
    _, early = post_sync(seed_body(source_booking_id="src-early", booking_ref="HW-000010", activity_date="2026-02-01"))
    _, late = post_sync(seed_body(source_booking_id="src-late", booking_ref="HW-000011", activity_date="2026-04-01"))
    _, second, _ = call_admin("GET", "/api/bookings", caller=ADMIN, query={"limit": 2, "cursor": first["next_cursor"]})
    assert [b["id"] for b in second["bookings"]] == [tenants["test_b"], late["booking_id"]]
    assert second["next_cursor"] is None
    assert early["booking_id"] not in [b["id"] for b in first["bookings"] + second["bookings"]]


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "not-a-cursor"},
        {"limit": 0},
        {"limit": 101},
        {"activity_date_from": "2026-13-01"},
        {"activity_date_from": "2026-03-05", "activity_date_to": "2026-03-01"},
        {"status": "lost"},
        {"sort": "name"},  # unknown parameter
    ],
)
def test_bad_queries_are_400(tenants: dict[str, Any], query: dict[str, Any]) -> None:
    status, body, _ = call_admin("GET", "/api/bookings", caller=ADMIN, query=query)
    assert status == 400, body
    assert body["success"] is False
    assert body["code"] in ("INVALID_PAYLOAD", "INVALID_QUERY")
    assert body["details"]


def test_a_stale_edit_gets_409_and_changes_nothing(tenants: dict[str, Any]) -> None:
    path = f"/api/bookings/{tenants['test_a']}"
    status, _, _ = call_admin("PUT", path, caller=ADMIN, body={"version": 1, "time_slot": "11:00"})
    assert status == 200
    before = snapshot_tables()
    status, body, _ = call_admin("PUT", path, caller=ADMIN, body={"version": 1, "time_slot": "12:00"})
    assert (status, body["code"]) == (409, "VERSION_CONFLICT")
    status, body, _ = call_admin("PUT", path, caller=ADMIN, body={"time_slot": "12:00"}, headers={"If-Match": '"1"'})
    assert (status, body["code"]) == (409, "VERSION_CONFLICT")
    assert snapshot_tables() == before


def test_a_website_sync_in_between_is_judged_field_by_field(tenants: dict[str, Any]) -> None:
    """Issue 15: an edit made on version 1 after the website's sync (version 2) is no blind 409: the sync's
    fields the edit does not touch leave it to apply; a field the sync set is a conflict under the rule
    (guest details: source_wins, so the website's guest_count stays). Every rule: test_conflicts_hub_edit.py."""
    body = seed_body(source_booking_id="src-a", booking_ref="HW-000001", activity_date="2026-03-01", time_slot="09:00")
    body |= {"event": "booking.updated", "guest_count": 4}  # (a column the sync repeats is not one it set)
    assert post_sync(body)[0] == 200
    path = f"/api/bookings/{tenants['test_a']}"
    status, answer, _ = call_admin("PUT", path, caller=ADMIN, body={"version": 1, "guest_count": 9})
    assert status == 200, answer
    assert (answer["changed_fields"], answer["conflict_fields"]) == ([], ["guest_count"])
    assert answer["booking"]["guest_count"] == body["guest_count"]
    status, answer, _ = call_admin("PUT", path, caller=ADMIN, body={"version": 1, "admin_notes": "seen"})
    assert status == 200, answer
    assert answer["changed_fields"] == ["admin_notes"]
    # Once an operator has changed the booking, an edit on the version before is 409 again (If-Match)
    status, answer, _ = call_admin("PUT", path, caller=ADMIN, body={"version": 1, "time_slot": "15:00"})
    assert (status, answer["code"]) == (409, "VERSION_CONFLICT")


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"version": 1, "status": "cancelled"}, {"If-Match": '"2"'}, 400, "INVALID_PAYLOAD"),
        ({"version": 1}, {}, 400, "INVALID_PAYLOAD"),  # nothing to change
        ({"version": 1, "package_price": 1}, {}, 400, "INVALID_PAYLOAD"),  # not editable / unknown
        ({"version": 1, "status": None}, {}, 400, "INVALID_PAYLOAD"),  # required field cleared
        ({"version": 1, "customer": {"email": "not-an-email"}}, {}, 400, "INVALID_PAYLOAD"),
        ({"version": 1, "guest_count": 0}, {}, 400, "INVALID_PAYLOAD"),
        ("[1, 2]", {}, 400, "INVALID_PAYLOAD"),
        ("{not json", {}, 400, "INVALID_PAYLOAD"),
    ],
)
def test_bad_edits_are_rejected_and_write_nothing(
    tenants: dict[str, Any], body: Any, headers: dict[str, str], status: int, code: str
) -> None:
    before = snapshot_tables()
    answer_status, answer, _ = call_admin(
        "PUT", f"/api/bookings/{tenants['test_a']}", caller=ADMIN, body=body, headers=headers
    )
    assert (answer_status, answer["code"]) == (status, code), answer
    assert snapshot_tables() == before


def test_an_edit_records_who_and_emits_only_the_changed_fields(tenants: dict[str, Any]) -> None:
    booking_id = tenants["test_a"]
    edit = {
        "version": 1,
        "activity_date": "2026-05-01",
        "customer": {"email": "New.Address@example.com", "name": "Test_A Customer"},  # name unchanged
        "special_requests": None,  # cleared
        "transport": {"hotel_name": "Beach Hotel"},
    }
    status, answer, _ = call_admin("PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body=edit)
    assert status == 200, answer
    booking = answer["booking"]
    assert answer["changed_fields"] == ["activity_date", "customer_email", "hotel_name", "special_requests"]
    assert (booking["version"], booking["updated_by"]) == (2, "ops@demo.example")
    assert "special_requests" not in booking
    assert booking["customer_email"] == "New.Address@example.com"

    events = [e for e in outbox_events(booking_id) if e["origin"].startswith("admin:")]
    (event,) = events
    assert event["event_type"] == "booking.updated"
    assert event["changed_fields"] == answer["changed_fields"]
    assert event["actor"] == "ops@demo.example"
    # the indexes follow: the booking is found by its new date and its new email
    assert _ids(activity_date_from="2026-05-01") == [booking_id]
    assert _ids(q="new.address@example.com") == [booking_id]
    assert _ids(q="alice@example.com") == []


def test_a_status_change_is_its_own_event_and_a_no_op_emits_nothing(tenants: dict[str, Any]) -> None:
    booking_id = tenants["test_b"]
    status, answer, _ = call_admin(
        "PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body={"version": 1, "status": "confirmed"}
    )
    assert (status, answer["changed_fields"], answer["event_id"]) == (200, [], None)
    status, answer, _ = call_admin(
        "PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body={"version": 1, "status": "no_show"}
    )
    assert status == 200
    (event,) = [e for e in outbox_events(booking_id) if e["origin"].startswith("admin:")]
    assert event["event_type"] == "booking.status_changed"


def test_unknown_booking_ids_are_404(tenants: dict[str, Any]) -> None:
    for booking_id in ("00000000-0000-4000-8000-000000000000", "not-a-uuid", "%2e%2e"):
        status, body, _ = call_admin("GET", f"/api/bookings/{booking_id}", caller=ADMIN)
        assert (status, body["code"]) == (404, "BOOKING_NOT_FOUND")


def test_bodies_that_are_not_utf8_json_are_4xx(tenants: dict[str, Any]) -> None:
    import base64

    from infra import topology
    from infra.local.invoke import LocalLambdaContext, load_handler
    from tests.conftest import load_event

    path = f"/api/bookings/{tenants['test_a']}"
    event = load_event("admin_api/edit_booking")
    event.update(path=path, pathParameters={"booking_id": tenants["test_a"]})
    event["requestContext"]["authorizer"] = {"claims": ADMIN}
    fn = topology.ADMIN_API
    handler = load_handler(fn)
    for body, b64, content_type, expected in (
        (base64.b64encode(b"\xa5\x0b\xff").decode(), True, "application/json", 400),
        ('{"version": 1, "status": "cancelled"}', False, "text/plain", 415),
    ):
        event.update(body=body, isBase64Encoded=b64)
        event["headers"]["Content-Type"] = content_type
        event["multiValueHeaders"]["Content-Type"] = [content_type]
        response = handler(event, LocalLambdaContext(function_name=fn.name, timeout_seconds=fn.timeout_seconds))
        assert response["statusCode"] == expected, response
