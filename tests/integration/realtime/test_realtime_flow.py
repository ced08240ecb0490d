"""Connect, subscribe, broadcast, catch up: the real-time logic on moto, posts captured."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import SYNC_KEY_OTHER, TEST_KEY
from tests.integration.realtime.conftest import (
    Posts,
    broadcast_all,
    make_booking,
    operator_connection,
    send,
    update_booking,
    website_connection,
)

pytestmark = pytest.mark.usefixtures("test_website")


def test_each_filter_receives_the_event(posts: Posts) -> None:
    booking = make_booking("rt-1")
    broadcast_all(booking, posts)  # the creation, before anyone listens
    filters = {
        "c-booking": {"booking_id": booking},
        "c-website": {"website_id": "test-website"},
        "c-user": {"user_id": "John@Example.com"},  # emails match case-insensitively
        "c-provider": {"provider_id": "demo-org"},
    }
    for connection_id, wanted in filters.items():
        operator_connection(connection_id, "admin")
        assert send(connection_id, posts, action="subscribe", filter=wanted) is None
        (ack,) = posts.frames[connection_id]
        assert ack["type"] == "ack"
        assert ack["cursor"] is not None
    update_booking("rt-1", 3, "2026-02-21T10:00:00Z")
    broadcast_all(booking, posts)
    for connection_id in filters:
        events = [e for e in posts.events(connection_id) if e["event_type"] == "booking.updated"]
        assert len(events) == 1, connection_id
        assert events[0]["booking_id"] == booking
        assert events[0]["sequence"] == 2
        assert events[0]["data"]["guest_count"] == 3


def test_ping_pong_and_bad_messages_get_error_frames(posts: Posts) -> None:
    operator_connection("c1", "admin")
    assert send("c1", posts, action="ping")["type"] == "pong"  # type: ignore[index]
    from bookinghub.realtime.logic.subscribe import handle

    assert handle("c1", "not json", post=posts)["code"] == "INVALID_MESSAGE"  # type: ignore[index]
    assert send("c1", posts, action="dance")["code"] == "UNKNOWN_ACTION"  # type: ignore[index]
    two = send("c1", posts, action="subscribe", filter={"booking_id": "a", "website_id": "b"})
    assert two["code"] == "INVALID_MESSAGE"  # type: ignore[index]
    bad_since = send("c1", posts, action="subscribe", filter={"provider_id": "demo-org"}, since="nope")
    assert bad_since["code"] == "INVALID_MESSAGE"  # type: ignore[index]
    assert send("unknown", posts, action="subscribe", filter={"provider_id": "demo-org"})["code"] == "NOT_CONNECTED"  # type: ignore[index]


def test_tenancy_refuses_filters_outside_the_scope_and_filters_events(posts: Posts, other_website: Any) -> None:
    mine = make_booking("rt-2")
    website_connection("w-test", TEST_KEY)
    website_connection("w-other", SYNC_KEY_OTHER)
    operator_connection("staff-other", "staff", websites="other-website")
    operator_connection("admin-elsewhere", "admin", org="another-org")
    refused = {
        ("w-other", "booking_id", mine),
        ("w-other", "website_id", "test-website"),
        ("w-test", "provider_id", "another-org"),
        ("staff-other", "booking_id", mine),
        ("admin-elsewhere", "website_id", "test-website"),
        ("admin-elsewhere", "provider_id", "demo-org"),
        ("w-test", "booking_id", "00000000-0000-0000-0000-000000000000"),  # unknown reads the same
    }
    for connection_id, field, value in refused:
        frame = send(connection_id, posts, action="subscribe", filter={field: value})
        assert (frame or {}).get("code") == "SUBSCRIPTION_REFUSED", (connection_id, field)
    # Allowed filters that select bookings the caller may not read deliver none of them
    for connection_id in ("w-other", "staff-other"):
        assert send(connection_id, posts, action="subscribe", filter={"provider_id": "demo-org"}) is None
    assert send("admin-elsewhere", posts, action="subscribe", filter={"user_id": "john@example.com"}) is None
    assert send("w-test", posts, action="subscribe", filter={"website_id": "test-website"}) is None
    update_booking("rt-2", 4, "2026-02-21T10:00:00Z")
    broadcast_all(mine, posts)
    assert [e["sequence"] for e in posts.events("w-test")] == [1, 2]
    for connection_id in ("w-other", "staff-other", "admin-elsewhere"):
        assert posts.events(connection_id) == [], connection_id


def test_connect_refuses_missing_bad_and_inactive_credentials() -> None:
    from bookinghub.core.errors import AuthFailed
    from bookinghub.realtime.logic.connect import connect

    with pytest.raises(AuthFailed):
        connect("x", None, None)
    with pytest.raises(AuthFailed):
        connect("x", {"api_key": "wrong"}, None)
    from infra.local.invoke import invoke

    answer = invoke("realtime_connect", {"requestContext": {"connectionId": "x"}, "queryStringParameters": None})
    assert answer["statusCode"] == 401
    ok = invoke(
        "realtime_connect", {"requestContext": {"connectionId": "y"}, "queryStringParameters": {"api_key": TEST_KEY}}
    )
    assert ok["statusCode"] == 200


def test_gone_connection_is_deleted_and_the_rest_still_receive(posts: Posts) -> None:
    from bookinghub.realtime.dal import connections

    booking = make_booking("rt-3")
    for connection_id in ("alive", "gone"):
        website_connection(connection_id, TEST_KEY)
        send(connection_id, posts, action="subscribe", filter={"booking_id": booking})
    posts.gone.add("gone")
    update_booking("rt-3", 5, "2026-02-21T10:00:00Z")
    results = broadcast_all(booking, posts)  # the creation, then the update
    assert [(r.posted, r.gone) for r in results] == [(1, 1), (1, 0)]
    assert connections.get_connection("gone") is None
    assert next(iter(connections.subscribers(f"booking_id:{booking}"))).connection_id == "alive"
    assert [e["sequence"] for e in posts.events("alive")] == [1, 2]


@pytest.mark.usefixtures("watching")
def test_redelivered_event_keeps_its_id_and_sequence(posts: Posts) -> None:
    from bookinghub.realtime.dal import timeline

    booking = make_booking("rt-4")
    broadcast_all(booking, posts)
    broadcast_all(booking, posts)  # the stream redelivers
    update_booking("rt-4", 6, "2026-02-21T10:00:00Z")
    broadcast_all(booking, posts)
    entries = list(timeline.after(f"booking_id:{booking}"))
    assert [e.sequence for e in entries] == [1, 2]
    assert entries[0].id < entries[1].id


@pytest.mark.usefixtures("watching")
def test_catch_up_from_since_then_live_without_gap_or_duplicate(posts: Posts) -> None:
    booking = make_booking("rt-5")
    seen: set[str] = set()
    broadcast_all(booking, posts, seen)
    website_connection("first", TEST_KEY)
    send("first", posts, action="subscribe", filter={"website_id": "test-website"})
    cursor, position = posts.frames["first"][0]["cursor"], posts.frames["first"][0]["position"]
    # A burst while the client is away
    for n in range(2, 7):
        update_booking("rt-5", n, f"2026-02-21T10:0{n}:00Z")
    broadcast_all(booking, posts, seen)
    website_connection("again", TEST_KEY)

    # One more event arrives in the middle of the replay: the broadcaster must defer it, not post it
    def arrives_mid_replay() -> None:
        update_booking("rt-5", 7, "2026-02-21T10:07:00Z")
        broadcast_all(booking, posts, seen)

    posts.on_post = lambda: setattr(posts, "on_post", arrives_mid_replay)  # after the ack, at the 1st replay
    send("again", posts, action="subscribe", filter={"website_id": "test-website"}, since=cursor)
    update_booking("rt-5", 8, "2026-02-21T10:08:00Z")
    broadcast_all(booking, posts, seen)  # live again
    frames = posts.frames["again"]
    assert frames[0] == {
        "type": "ack",
        "subscription": "website_id:test-website",
        "cursor": cursor,
        "position": position,
    }
    assert [e["sequence"] for e in posts.events("again")] == [2, 3, 4, 5, 6, 7, 8]
    assert [e["position"] for e in posts.events("again")] == list(range(position + 1, position + 8))
    ids = [e["id"] for e in posts.events("again")]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_unsubscribe_stops_events_and_disconnect_forgets_everything(posts: Posts) -> None:
    from bookinghub.realtime.dal import connections
    from bookinghub.realtime.logic.connect import disconnect

    booking = make_booking("rt-6")
    website_connection("c", TEST_KEY)
    send("c", posts, action="subscribe", filter={"booking_id": booking})
    send("c", posts, action="subscribe", filter={"website_id": "test-website"})
    assert send("c", posts, action="unsubscribe", filter={"booking_id": booking}) == {
        "type": "unsubscribed",
        "subscription": f"booking_id:{booking}",
    }
    update_booking("rt-6", 2, "2026-02-21T10:00:00Z")
    broadcast_all(booking, posts)
    assert {e["subscription"] for e in posts.events("c")} == {"website_id:test-website"}
    disconnect("c")
    assert connections.get_connection("c") is None
    assert list(connections.subscribers("website_id:test-website")) == []


def test_large_event_travels_as_a_reference(posts: Posts) -> None:
    booking = make_booking("rt-7")
    website_connection("c", TEST_KEY)
    send("c", posts, action="subscribe", filter={"booking_id": booking})
    status_body = {
        "event": "booking.updated",
        "source_booking_id": "rt-7",
        "updated_at": "2026-02-21T10:00:00Z",
        "customer": {"name": "John Doe", "email": "john@example.com", "special_requests": "x" * 4000},
    }
    from tests.integration.conftest import post_sync

    assert post_sync(status_body)[0] == 200
    from bookinghub.realtime.models import TimelineEvent

    big = TimelineEvent("0" * 26, booking, 9, "booking.updated", "t", {"blob": "y" * 40000}, "w", "o", None)
    frame = big.frame("booking_id:x")
    assert frame["type"] == "event_ref"
    assert "data" not in frame
    assert frame["url"] == f"/api/bookings/{booking}/events?after=8"
    broadcast_all(booking, posts)
    assert posts.events("c")[-1]["type"] == "event"  # a normal one still travels whole


def test_subscription_limit(posts: Posts) -> None:
    from bookinghub.realtime.models import MAX_SUBSCRIPTIONS

    operator_connection("c", "superadmin", org="")
    for n in range(MAX_SUBSCRIPTIONS):
        assert send("c", posts, action="subscribe", filter={"user_id": f"u{n}@x.test"}) is None
    assert send("c", posts, action="subscribe", filter={"user_id": "u0@x.test"}) is None  # the same one again
    over = send("c", posts, action="subscribe", filter={"user_id": "one-more@x.test"})
    assert over is not None
    assert over["code"] == "TOO_MANY_SUBSCRIPTIONS"


def test_a_conflict_reaches_the_bookings_subscribers(posts: Posts) -> None:
    from tests.integration.admin.conftest import call_admin, claims
    from tests.integration.conftest import post_sync

    booking = make_booking("rt-conflict", version=1)
    broadcast_all(booking, posts)
    operator_connection("c-ops", "admin")
    assert send("c-ops", posts, action="subscribe", filter={"booking_id": booking}) is None
    edit = {"activity_date": "2026-03-05"}
    assert call_admin("PUT", f"/api/bookings/{booking}", caller=claims("admin"), body=edit)[0] == 200
    change = {
        "event": "booking.updated",
        "source_booking_id": "rt-conflict",
        "version": 2,
        "activity_date": "2026-03-09",
    }
    assert post_sync(change)[1]["conflict_fields"] == ["activity_date"]  # dates: manual by default

    broadcast_all(booking, posts)

    (event,) = [e for e in posts.events("c-ops") if e["event_type"] == "booking.conflict_detected"]
    assert (event["data"]["field"], event["data"]["hub_value"], event["data"]["source_value"]) == (
        "activity_date",
        "2026-03-05",
        "2026-03-09",
    )
