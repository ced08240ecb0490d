"""GET /api/bookings/{booking_id}/events: a booking's timeline, under the admin API's tenancy."""

from __future__ import annotations

import pytest

from infra import topology
from tests.integration.admin.conftest import call_admin, claims
from tests.integration.realtime.conftest import Posts, broadcast_all, make_booking, update_booking

pytestmark = pytest.mark.usefixtures("test_website", "watching")
TIMELINE = topology.function("realtime_timeline")


def test_timeline_lists_events_in_order_and_after_a_sequence(posts: Posts) -> None:
    booking = make_booking("tl-1")
    update_booking("tl-1", 3, "2026-02-21T10:00:00Z")
    broadcast_all(booking, posts)
    path = f"/api/bookings/{booking}/events"
    status, body, _ = call_admin("GET", path, caller=claims("admin"), function=TIMELINE)
    assert status == 200, body
    listed = [(e["sequence"], e["event_type"]) for e in body["events"]]
    assert listed == [(1, "booking.created"), (2, "booking.updated")]
    assert body["window_days"] == 7
    status, body, _ = call_admin("GET", path, caller=claims("admin"), query={"after": 1}, function=TIMELINE)
    assert [e["sequence"] for e in body["events"]] == [2]


def test_timeline_tenancy_and_bad_input(posts: Posts) -> None:
    booking = make_booking("tl-2")
    broadcast_all(booking, posts)
    path = f"/api/bookings/{booking}/events"
    for caller in (claims("admin", org="rival-org"), claims("staff", websites=("other-website",))):
        status, body, _ = call_admin("GET", path, caller=caller, function=TIMELINE)
        assert (status, body["code"]) == (404, "BOOKING_NOT_FOUND")
    assert call_admin("GET", path, caller=claims("staff", websites=("test-website",)), function=TIMELINE)[0] == 200
    assert call_admin("GET", path, caller=None, function=TIMELINE)[0] == 401
    status, body, _ = call_admin("GET", path, caller=claims("admin"), query={"after": -1}, function=TIMELINE)
    assert (status, body["code"]) == (400, "INVALID_PAYLOAD")
    assert call_admin("GET", "/api/bookings/nope/events", caller=claims("admin"), function=TIMELINE)[0] == 404
