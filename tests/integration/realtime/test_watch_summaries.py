"""Where watches are kept (dal/connections.py) and when the outbox relay reads them (logic/watch.py).

The hub's watches are one item (one read unit) while they fit; keys that do not fit go to their
organisation's item, then to their own, and each level passed over is marked `overflow`. Concurrent
writers never lose each other's keys. The relay reads the watches after it has written the event item:
a subscription registered between the two is found, one registered after starts at or after the event.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.integration.conftest import TEST_KEY, outbox_events
from tests.integration.realtime.conftest import (
    Posts,
    broadcast_item,
    make_booking,
    operator_connection,
    send,
    update_booking,
    website_connection,
)

pytestmark = pytest.mark.usefixtures("test_website")
ORG = "demo-org"


def _item(key: dict[str, str]) -> dict[str, Any]:
    from bookinghub.aws.clients import client
    from bookinghub.aws.codec import from_item, to_item
    from bookinghub.core.settings import get_settings

    table = get_settings().realtime_connections_table
    found = client("dynamodb").get_item(TableName=table, Key=to_item(key), ConsistentRead=True).get("Item")
    return from_item(found) if found else {}


def _size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it, near enough: names and values, numbers at most 21 bytes."""
    return sum(len(str(k).encode()) + (21 if isinstance(v, int) else len(str(v).encode())) for k, v in item.items())


def _reads(call: Any) -> tuple[Any, list[str]]:
    """What `call()` returns, and the DynamoDB operations it made."""
    from bookinghub.aws.clients import client

    made: list[str] = []

    def count(model: Any, **_: Any) -> None:
        made.append(model.name)

    events = client("dynamodb").meta.events
    events.register("before-call.dynamodb.*", count)
    try:
        return call(), made
    finally:
        events.unregister("before-call.dynamodb.*", count)


def test_a_few_watches_are_one_item_read_once() -> None:
    from bookinghub.realtime.dal import connections

    for key in ("website_id:test-website", "booking_id:b1", "user_id:john@example.com"):
        connections.watch(key, ORG)
    hub = _item(connections.HUB_SUMMARY)
    assert {k for k in hub if ":" in k} == {"website_id:test-website", "booking_id:b1", "user_id:john@example.com"}
    assert int(hub["b"]) == sum(connections._size(k) for k in hub if ":" in k)
    keys = ["booking_id:b2", "website_id:test-website", "user_id:john@example.com", "provider_id:demo-org"]
    found, made = _reads(lambda: connections.watched(keys, ORG))
    assert found == {"website_id:test-website", "user_id:john@example.com"}
    assert made == ["BatchGetItem"]  # the hub's item alone: one read unit


def test_thousands_of_watched_bookings_overflow_to_their_organisation_then_their_own_items() -> None:
    """Each summary stays under SUMMARY_BYTES (one read unit); every key is still found, at the cost of
    the levels below the marks; an unwatched key of a quiet organisation still costs one read."""
    from bookinghub.realtime.dal import connections

    keys = [f"booking_id:00000000-0000-4000-8000-{n:012d}" for n in range(300)]
    for key in keys:
        connections.watch(key, ORG)
    hub, org = _item(connections.HUB_SUMMARY), _item(connections._organisation_summary(ORG))
    for summary in (hub, org):
        assert int(summary["b"]) <= connections.SUMMARY_BYTES
        assert _size(summary) < 4096  # one read unit, strongly consistent
    assert int(hub["overflow"]) > time.time()
    assert int(org["overflow"]) > time.time()
    in_summaries = {k for k in hub if ":" in k} | {k for k in org if ":" in k}
    own = [key for key in keys if key not in in_summaries]
    assert own  # the rest: items of their own
    assert all(_item(connections._watch_key(key)) for key in own)
    for key in (keys[0], keys[-1], own[0]):
        assert connections.watched([key, "website_id:test-website"], ORG) == {key}
    found, made = _reads(lambda: connections.watched(["booking_id:nobody", "provider_id:demo-org"], ORG))
    assert found == set()
    assert made == ["BatchGetItem", "BatchGetItem", "BatchGetItem"]  # hub, organisation (+ across), own
    # Another organisation's events: past the hub's mark, its own summary has no mark
    found, made = _reads(lambda: connections.watched(["provider_id:other-org"], "other-org"))
    assert (found, made) == (set(), ["BatchGetItem", "BatchGetItem"])


def test_expired_keys_make_room_again() -> None:
    from bookinghub.realtime.dal import connections

    long_ago = time.time() - connections.WATCH_SECONDS - 60
    old = [f"booking_id:00000000-0000-4000-8000-{n:012d}" for n in range(120)]
    for key in old:
        connections.watch(key, ORG, now=long_ago)
    assert int(_item(connections.HUB_SUMMARY).get("overflow") or 0) < time.time()  # long expired
    connections.watch("website_id:test-website", ORG)  # the hub's item is full of expired keys: pruned
    hub = _item(connections.HUB_SUMMARY)
    assert "website_id:test-website" in hub
    assert int(hub["b"]) == sum(connections._size(k) for k in hub if ":" in k)  # counted exactly
    assert int(hub.get("overflow") or 0) < time.time()  # no live mark: readers stop at the hub's item


@pytest.fixture
def atomic_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each request to an item atomically; moto's in-process backend does not (two
    threads can both create a missing item, or both read a number before either ADDs to it, or one
    serialise an item another is changing). Serialise its requests, so the test is of the conditions
    our writes carry, not of moto."""
    import threading

    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    real = DynamoHandler.call_action

    def serialised(self: Any) -> Any:
        with lock:
            return real(self)

    monkeypatch.setattr(DynamoHandler, "call_action", serialised)


@pytest.mark.usefixtures("atomic_items")
def test_concurrent_watch_writers_lose_no_key() -> None:
    """Sixteen subscribes at once, each with its own key, into the same items (and past their room)."""
    from bookinghub.realtime.dal import connections

    keys = [f"user_id:customer-{n:03d}-with-a-long-address@example.com" for n in range(90)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: connections.watch(key, ORG), keys))
    assert connections.watched(keys, ORG) == set(keys)
    for summary in (_item(connections.HUB_SUMMARY), _item(connections._organisation_summary(ORG))):
        assert int(summary.get("b") or 0) == sum(connections._size(k) for k in summary if ":" in k)
        assert int(summary.get("b") or 0) <= connections.SUMMARY_BYTES


def test_a_superadmins_customer_watch_covers_an_organisation_that_appears_later(posts: Posts) -> None:
    """A superadmin's `user_id` is watched in every organisation: kept in the hub's watches (or, when
    full, the cross-organisation ones), never in one organisation's."""
    from bookinghub.realtime.dal import connections
    from bookinghub.websites.logic.registry import register_website

    for n in range(200):  # the hub's item full: the superadmin's key goes to the cross-organisation one
        connections.watch(f"booking_id:00000000-0000-4000-8000-{n:012d}", ORG)
    operator_connection("sa", "superadmin", org="")
    send("sa", posts, action="subscribe", filter={"user_id": "Late@Example.com"})
    assert "user_id:late@example.com" in _item(connections._organisation_summary(None))
    register_website(
        website_id="late-website",
        organisation_id="late-org",
        name="Late",
        domain="late.example.com",
        api_key="late_sk_zzzzz",
        webhook_secret="whsec_late",
    )
    from tests.integration.conftest import post_sync, seed_body

    customer = {**seed_body()["customer"], "email": "late@example.com"}
    status, body = post_sync(seed_body(source_booking_id="late-1", customer=customer), api_key="late_sk_zzzzz")
    assert status in (200, 201), body
    (item,) = outbox_events(str(body["booking_id"]))
    assert item["rtw"] == "u:late@example.com"  # the relay found the customer watched
    broadcast_item(item, posts)
    assert [e["booking_id"] for e in posts.events("sa")] == [body["booking_id"]]


def test_a_subscription_made_between_the_item_write_and_the_relays_check_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The order the relay keeps: write the event item, then read the watches. A subscribe that runs
    whole between the two (its watch, its start, its replay) finds the item in its replay; the relay then
    finds its key watched and hands the event on, and the subscriber still gets it once."""
    from bookinghub.realtime.dal import connections

    posts = Posts()
    booking = make_booking("ws-1")
    update_booking("ws-1", 5, "2026-02-21T10:00:00Z")  # both wait for the relay
    website_connection("c1", TEST_KEY)
    original = connections.watched
    calls: list[int] = []

    def subscribe_then_read(keys: list[str], organisation_id: str | None, now: float | None = None) -> set[str]:
        if not calls:  # the creation's item is written; the relay has yet to read the watches
            send("c1", posts, action="subscribe", filter={"booking_id": booking}, since="origin")
        calls.append(1)
        return original(keys, organisation_id, now)

    monkeypatch.setattr(connections, "watched", subscribe_then_read)
    items = sorted(outbox_events(booking), key=lambda i: int(i["seq"]))
    assert [item.get("rtw") for item in items] == ["b", "b"]  # both found watched, after their writes
    assert [e["sequence"] for e in posts.events("c1")] == [1]  # the replay had the creation's item
    for item in items:
        broadcast_item(item, posts)
    assert [e["sequence"] for e in posts.events("c1")] == [1, 2]  # each once: the replay covered 1


def test_a_relay_whose_watch_read_fails_is_retried_and_marks_the_item_once(
    monkeypatch: pytest.MonkeyPatch, posts: Posts
) -> None:
    """The stream retries a record the relay failed (here its watch read): the item is there already,
    the retry reads the watches again and marks it; a further redelivery marks nothing more."""
    from bookinghub.bookings.logic.outbox import relay_stream_record
    from bookinghub.realtime.dal import connections
    from tests.integration.conftest import stream_records

    website_connection("c1", TEST_KEY)
    send("c1", posts, action="subscribe", filter={"website_id": "test-website"})
    booking = make_booking("ws-2")
    (record,) = [r for r in stream_records() if r["dynamodb"]["NewImage"]["SK"]["S"] == "BOOKING"]
    original = connections.watched

    def throttled(*_: Any, **__: Any) -> set[str]:
        raise RuntimeError("ProvisionedThroughputExceeded")

    monkeypatch.setattr(connections, "watched", throttled)
    image, old = record["dynamodb"]["NewImage"], record["dynamodb"].get("OldImage")
    with pytest.raises(RuntimeError):
        relay_stream_record("INSERT", image, old)
    (item,) = outbox_events(booking)
    assert "rtw" not in item  # written, not yet checked
    monkeypatch.setattr(connections, "watched", original)
    relay_stream_record("INSERT", image, old)  # the stream's retry
    relay_stream_record("INSERT", image, old)  # and a redelivery
    (item,) = outbox_events(booking)
    assert item["rtw"] == "w"
    from bookinghub.aws.codec import to_item
    from bookinghub.bookings.dal.logs import hand_to_realtime, outbox_event

    assert hand_to_realtime(outbox_event(to_item(item)), "bw") is False  # only the first mark is kept
