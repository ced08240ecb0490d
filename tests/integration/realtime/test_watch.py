"""Watched keys: an event is always in its booking's own order (its event item in the Bookings table, the
booking's timeline), and placed in a shared key's timeline only while that key is subscribed to (or left
within the resume window); only watched keys have their subscribers read."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.conftest import TEST_KEY, outbox_events
from tests.integration.realtime.conftest import (
    Posts,
    broadcast_item,
    make_booking,
    relay_check,
    send,
    update_booking,
    website_connection,
)

pytestmark = pytest.mark.usefixtures("test_website")
WEBSITE, ORG = "website_id:test-website", "demo-org"


def _timeline_items() -> list[dict[str, Any]]:
    from bookinghub.aws.clients import client
    from bookinghub.core.settings import get_settings

    return client("dynamodb").scan(TableName=get_settings().realtime_timeline_table).get("Items") or []


def _broadcast_next(booking_id: str, posts: Posts, done: set[str]) -> Any:
    """The booking's oldest event not broadcast yet, as the stream delivers it."""
    item = next(i for i in sorted(outbox_events(booking_id), key=lambda i: i["SK"]) if i["event_id"] not in done)
    done.add(item["event_id"])
    return broadcast_item(item, posts)


def _broadcaster_records(since: int) -> list[dict[str, Any]]:
    """The Bookings stream's records from `since` on that the broadcaster's stream filter lets through."""
    import json

    from moto.dynamodb.models import dynamodb_backends

    from bookinghub.core.settings import get_settings
    from infra import topology
    from infra.local.streams import matches_any, stream_record

    table = dynamodb_backends["123456789012"]["us-east-1"].get_table(get_settings().bookings_table)
    trigger = topology.function("realtime_broadcaster").stream
    assert trigger is not None
    patterns = topology.stream_filters(trigger)
    shard: Any = table.stream_shard
    raws = [json.loads(json.dumps(raw.record, default=str)) for raw in shard.items[since:]]
    records = [
        stream_record(raw, "arn:aws:dynamodb:us-east-1:123456789012:table/b/stream/x", "us-east-1") for raw in raws
    ]
    return [record for record in records if matches_any(record, patterns)]


def _stream_length() -> int:
    from moto.dynamodb.models import dynamodb_backends

    from bookinghub.core.settings import get_settings

    table = dynamodb_backends["123456789012"]["us-east-1"].get_table(get_settings().bookings_table)
    shard: Any = table.stream_shard
    return len(shard.items)


def test_an_event_of_unwatched_keys_is_kept_in_its_booking_order_only(posts: Posts) -> None:
    """The relay checks the watches once it has written the event item: nobody watches, so it reads the
    hub's watches (one item) and marks nothing, and the broadcaster's filter lets no record through."""
    from bookinghub.aws.clients import client
    from bookinghub.realtime.dal import timeline
    from tests.integration.conftest import relay_stream

    booking = make_booking("w-1")
    start = _stream_length()
    made: list[tuple[str, str]] = []

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        tables = params.get("RequestItems") or {params.get("TableName", ""): None}
        made.extend((model.name, str(name).rsplit("-", 1)[-1]) for name in tables)

    events = client("dynamodb").meta.events
    events.register("before-parameter-build.dynamodb.*", count)
    try:
        relay_stream()
    finally:
        events.unregister("before-parameter-build.dynamodb.*", count)
    realtime = [call for call in made if call[1].startswith("Realtime")]
    assert realtime == [("BatchGetItem", "RealtimeConnections")]  # the hub's watches; no write, no subscriber
    assert ("UpdateItem", "Bookings") not in made  # nothing marked
    assert _broadcaster_records(start) == []  # the broadcaster is never invoked
    (item,) = outbox_events(booking)
    assert broadcast_item(item, posts).posted == 0
    assert _timeline_items() == []  # nothing of it in RealtimeTimeline
    assert [e.sequence for e in timeline.after(f"booking_id:{booking}")] == [1]  # GET .../events has it
    for shared in (WEBSITE, "provider_id:demo-org", "user_id:john@example.com"):
        assert list(timeline.after(shared)) == []


def test_a_watched_change_is_marked_once_and_reaches_the_broadcaster_once(posts: Posts) -> None:
    """A watched change: the relay marks its item with the keys it found, the broadcaster's filter takes
    that marking (once: a redelivered record, or a later update of the item, is not taken again)."""
    from infra.local.invoke import invoke
    from tests.integration.conftest import relay_stream, stream_records

    website_connection("c1", TEST_KEY)
    send("c1", posts, action="subscribe", filter={"website_id": "test-website"})
    make_booking("w-1b")
    records = stream_records()
    start = _stream_length()
    assert invoke("outbox_relay", {"Records": records}) == {"batchItemFailures": []}
    assert invoke("outbox_relay", {"Records": records}) == {"batchItemFailures": []}  # redelivered
    relay_stream()
    (marked,) = _broadcaster_records(start)
    assert marked["eventName"] == "MODIFY"
    assert marked["dynamodb"]["NewImage"]["rtw"] == {"S": "w"}  # the website only (its subscriber's key)
    from bookinghub.aws.codec import from_item

    assert broadcast_item(from_item(marked["dynamodb"]["NewImage"]), posts).posted == 1
    assert [e["type"] for e in posts.events("c1")] == ["event"]


def test_a_subscription_watches_its_key_and_only_that_key_is_placed(posts: Posts) -> None:
    from bookinghub.realtime.dal import timeline

    booking = make_booking("w-2")
    done: set[str] = set()
    _broadcast_next(booking, posts, done)  # before anyone subscribed: in no timeline
    website_connection("c1", TEST_KEY)
    send("c1", posts, action="subscribe", filter={"website_id": "test-website"})
    assert posts.frames["c1"][0]["cursor"] == "origin"
    update_booking("w-2", 4, "2026-02-21T10:00:00Z")
    _broadcast_next(booking, posts, done)
    (event,) = posts.events("c1")
    # position 1 in the website's order; sequence 2 in the booking's, which kept the unwatched creation
    assert (event["position"], event["sequence"], event["data"]["guest_count"]) == (1, 2, 4)
    assert [e.sequence for e in timeline.after(f"booking_id:{booking}")] == [1, 2]
    assert list(timeline.after("provider_id:demo-org")) == []  # nobody watches the organisation
    assert list(timeline.after("user_id:john@example.com")) == []


def test_a_client_that_dropped_resumes_within_the_window_and_misses_nothing(posts: Posts) -> None:
    from bookinghub.realtime.dal import connections
    from bookinghub.realtime.logic.connect import disconnect

    booking = make_booking("w-3")
    done: set[str] = set()
    website_connection("c1", TEST_KEY)
    send("c1", posts, action="subscribe", filter={"website_id": "test-website"})
    _broadcast_next(booking, posts, done)
    (first,) = posts.events("c1")
    disconnect("c1")  # the last subscriber leaves: the key stays watched for the window from now
    assert connections.watch(WEBSITE, ORG) >= time.time() + 7 * 86400  # (read back: written a moment ago)
    for n, at in ((5, "2026-02-21T10:00:00Z"), (6, "2026-02-21T11:00:00Z")):
        update_booking("w-3", n, at)
        _broadcast_next(booking, posts, done)
    website_connection("c2", TEST_KEY)
    send("c2", posts, action="subscribe", filter={"website_id": "test-website"}, since=first["id"], seen=[])
    assert [(e["position"], e["data"]["guest_count"]) for e in posts.events("c2")] == [(2, 5), (3, 6)]


def test_a_watch_expires_after_the_window_and_is_refreshed_at_most_every_few_minutes(posts: Posts) -> None:
    from bookinghub.realtime.dal import connections

    now = time.time()
    long_ago = now - connections.WATCH_SECONDS - 1
    assert connections.watch(WEBSITE, ORG, now=long_ago) == int(long_ago) + connections.WATCH_SECONDS
    assert connections.watched([WEBSITE], ORG, now=now) == set()  # expired (TTL deletes lazily: not gone yet)
    booking = make_booking("w-4")
    _broadcast_next(booking, posts, set())
    from bookinghub.realtime.dal import timeline

    assert list(timeline.after(WEBSITE)) == []  # expired: not placed in the website's order
    until = connections.watch(WEBSITE, ORG, now=now)  # watched again
    assert connections.watch(WEBSITE, ORG, now=now + 60) == until  # a minute later: not rewritten
    later = now + connections.WATCH_REFRESH_SECONDS + 1
    assert connections.watch(WEBSITE, ORG, now=later) == int(later) + connections.WATCH_SECONDS
    assert connections.watched([WEBSITE, "provider_id:demo-org"], ORG, now=now) == {WEBSITE}


def test_a_subscribe_that_starts_while_an_event_is_placed_gets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The broadcaster read the watch (the subscribe had marked it), the subscribe then read its start,
    the event is placed after that start and broadcast before the subscription is registered: the
    subscription's replay delivers it."""
    from bookinghub.realtime.dal import timeline
    from bookinghub.realtime.logic import broadcast as broadcaster

    posts = Posts()
    booking = make_booking("w-5")
    done: set[str] = set()
    website_connection("c1", TEST_KEY)
    original_latest = timeline.latest

    def start_then_broadcast(key: str) -> tuple[int, str | None]:
        start = original_latest(key)
        monkeypatch.setattr(timeline, "latest", original_latest)
        _broadcast_next(booking, posts, done)  # placed at position 1, nobody subscribed yet to post to
        return start

    monkeypatch.setattr(timeline, "latest", start_then_broadcast)
    send("c1", posts, action="subscribe", filter={"website_id": "test-website"})
    assert [(f["type"], f.get("position")) for f in posts.frames["c1"]] == [("ack", 0), ("event", 1)]
    assert broadcaster.store.subscribers(WEBSITE)  # and it went live
    update_booking("w-5", 7, "2026-02-21T10:00:00Z")
    _broadcast_next(booking, posts, done)
    assert [e["position"] for e in posts.events("c1")] == [1, 2]


def test_an_event_that_read_the_watch_before_the_subscribe_takes_no_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other side of the race: the broadcaster read the key unwatched, then the subscribe ran whole:
    the event is before the subscription (in no position of the key), so no later event leaves a gap."""
    from bookinghub.realtime.dal import connections

    posts = Posts()
    booking = make_booking("w-6")
    done: set[str] = set()
    website_connection("c1", TEST_KEY)
    original = connections.watched

    def read_then_subscribe(keys: list[str], organisation_id: str | None, now: float | None = None) -> set[str]:
        found = original(keys, organisation_id, now)
        monkeypatch.setattr(connections, "watched", original)
        send("c1", posts, action="subscribe", filter={"website_id": "test-website"})
        return found

    monkeypatch.setattr(connections, "watched", read_then_subscribe)
    assert _broadcast_next(booking, posts, done).posted == 0
    from bookinghub.realtime.dal import timeline

    assert list(timeline.after(WEBSITE)) == []  # no position in the key: before the subscription
    update_booking("w-6", 8, "2026-02-21T10:00:00Z")
    _broadcast_next(booking, posts, done)
    assert [(e["position"], e["sequence"]) for e in posts.events("c1")] == [(1, 2)]
    website_connection("c2", TEST_KEY)
    send("c2", posts, action="subscribe", filter={"website_id": "test-website"}, since="origin")
    assert [e["position"] for e in posts.events("c2")] == [1]  # origin: from when the key was first watched


def test_a_booking_subscription_made_after_the_event_item_starts_at_it_and_one_made_before_gets_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A booking's order is its event items, written before the broadcaster reads the watches: a booking
    subscription made between the two starts at the event (its ack's cursor), so the broadcaster that
    finds the key unwatched owes it nothing; one made before the item is written finds the key watched
    by then and gets the event live."""
    from bookinghub.realtime.dal import connections

    posts = Posts()
    booking = make_booking("w-7")  # the relay has yet to run
    website_connection("c1", TEST_KEY)
    original = connections.watched

    def read_then_subscribe(keys: list[str], organisation_id: str | None, now: float | None = None) -> set[str]:
        found = original(keys, organisation_id, now)
        monkeypatch.setattr(connections, "watched", original)
        send("c1", posts, action="subscribe", filter={"booking_id": booking})
        return found

    monkeypatch.setattr(connections, "watched", read_then_subscribe)
    (item,) = outbox_events(booking)  # the relay wrote the event item, then read the watches
    assert "rtw" not in item  # found unwatched: not handed to the broadcaster
    assert broadcast_item(item, posts).posted == 0
    (ack,) = [f for f in posts.frames["c1"] if f["type"] == "ack"]
    assert (ack["position"], ack["cursor"]) == (1, item["rt"])  # the event is at its start: not owed
    assert posts.events("c1") == []
    update_booking("w-7", 5, "2026-02-21T10:00:00Z")  # made after the subscription: watched, sent live
    done = {item["event_id"]}
    _broadcast_next(booking, posts, done)
    assert [(e["position"], e["sequence"], e["data"]["guest_count"]) for e in posts.events("c1")] == [(2, 2, 5)]


def test_a_hole_in_a_booking_order_is_stepped_over_and_its_event_still_sent_live(posts: Posts) -> None:
    """An event item written with its change (a conflict event, the PMS outbox) can appear before the one
    the relay has yet to write: a replay steps over the hole, and the subscription gets that event live."""
    from bookinghub.aws.clients import client
    from bookinghub.aws.codec import to_item
    from bookinghub.core.settings import get_settings

    booking = make_booking("w-8")
    update_booking("w-8", 5, "2026-02-21T10:00:00Z")
    first, second = sorted(outbox_events(booking), key=lambda i: int(i["seq"]))
    table = get_settings().bookings_table
    client("dynamodb").delete_item(TableName=table, Key=to_item({"PK": first["PK"], "SK": first["SK"]}))
    website_connection("c1", TEST_KEY)
    send("c1", posts, action="subscribe", filter={"booking_id": booking}, since="origin")
    assert [e["sequence"] for e in posts.events("c1")] == [2]  # the hole at 1 stepped over
    client("dynamodb").put_item(TableName=table, Item=to_item(first))  # the relay writes it at last
    broadcast_item(relay_check(first), posts)  # then checks the watches: the subscription watches it
    assert [e["sequence"] for e in posts.events("c1")] == [2, 1]  # sent live, once
    broadcast_item(second, posts)  # a redelivery of one it replayed is not sent again
    assert [e["sequence"] for e in posts.events("c1")] == [2, 1]


def test_an_event_item_written_on_its_own_is_numbered_once_after_the_booking_s_last(posts: Posts) -> None:
    """The PMS outbox and conflict events write their item with their change, without a sequence: the
    broadcaster gives it the booking's next one (a redelivery keeps it), and the booking's next change
    comes after it."""
    import uuid

    from bookinghub.aws.clients import client
    from bookinghub.aws.codec import from_item, to_item
    from bookinghub.bookings.dal.logs import event_item
    from bookinghub.bookings.models.events import BookingDomainEvent
    from bookinghub.core.clock import iso_now
    from bookinghub.core.settings import get_settings
    from bookinghub.realtime.dal import timeline

    booking = make_booking("w-9")
    own = BookingDomainEvent(
        event_id=str(uuid.uuid4()),
        event_type="booking.conflict_detected",
        booking_id=booking,
        website_id="test-website",
        organisation_id="demo-org",
        source_booking_id="w-9",
        origin="hub:conflicts",
        changed_fields=["guest_count"],
        data={"field": "guest_count"},
        occurred_at=iso_now(),
    )
    item = event_item(own)
    client("dynamodb").put_item(TableName=get_settings().bookings_table, Item=to_item(item))
    plain = from_item(to_item(item))
    broadcast_item(plain, posts)
    broadcast_item(plain, posts)  # redelivered: numbered once
    update_booking("w-9", 6, "2026-02-21T10:00:00Z")
    outbox_events(booking)  # (relays the update)
    assert [(e.sequence, e.event_type) for e in timeline.after(f"booking_id:{booking}")] == [
        (1, "booking.created"),
        (2, "booking.conflict_detected"),
        (3, "booking.updated"),
    ]
