"""Cross-booking order of the timeline (issue 14): events of different bookings written concurrently,
within one millisecond, and resumes from every cut point, never miss or repeat an event.

The events are booking domain events of distinct bookings of test-website, fed to the broadcaster
directly (several at once, as parallel stream shards would); ids are minted at one frozen millisecond.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from clients.realtime_client import Cursor
from tests.integration.conftest import TEST_KEY
from tests.integration.realtime.conftest import Posts, broadcast_item, send, stored_event, website_connection

KEY = "website_id:test-website"
FILTER = {"website_id": "test-website"}
FROZEN_MS = int(time.time() * 1000)  # one millisecond, within the 7-day window
FROZEN_AT = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(FROZEN_MS // 1000)) + f".{FROZEN_MS % 1000:03d}000Z"

pytestmark = pytest.mark.usefixtures("test_website", "watching")


def _event(n: int) -> Any:
    from bookinghub.bookings.models.events import BookingDomainEvent

    return BookingDomainEvent(
        event_id=f"evt-order-{n}-{uuid.uuid4().hex[:6]}",
        event_type="booking.updated",
        booking_id=str(uuid.uuid4()),
        website_id="test-website",
        organisation_id="demo-org",
        source_booking_id=f"order-{n}",
        origin="website:test-website",
        changed_fields=["guest_count"],
        data={"guest_count": n, "customer_email": f"guest{n}@example.com"},
        occurred_at=FROZEN_AT,
    )


@pytest.fixture
def same_millisecond(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every id is of the same millisecond (only the random part orders them): every event here
    occurred at FROZEN_AT, and an id's time is its change's."""


def _resume(name: str, posts: Posts, **cursor: Any) -> list[dict[str, Any]]:
    website_connection(name, TEST_KEY)
    send(name, posts, action="subscribe", filter=FILTER, **cursor)
    errors = [f for f in posts.frames[name] if f["type"] == "error"]
    assert errors == []
    return posts.events(name)


def test_an_event_stored_after_a_later_id_is_still_replayed_after_that_id(posts: Posts) -> None:
    """The filed case: two bookings' events get ids in one millisecond, the higher id is stored first,
    a client takes it as its cursor; the lower one, stored next, must reach it on resume."""
    from bookinghub.realtime.dal import timeline as store

    one, two = (stored_event(_event(n)) for n in (1, 2))
    low_item, high_item = sorted((one, two), key=lambda item: str(item["rt"]))
    low, high = store.event_of_item(low_item), store.event_of_item(high_item)
    store.put_copies(high, str(high_item["SK"]), {KEY})
    (cursor,) = [e.id for e in store.after(KEY)]
    assert cursor == high.id
    store.put_copies(low, str(low_item["SK"]), {KEY})
    assert [e["id"] for e in _resume("late", posts, since=cursor)] == [low.id]
    assert [e["id"] for e in _resume("late2", posts, since=cursor, seen=[])] == [low.id]


def test_concurrent_writers_in_one_millisecond_and_a_resume_at_every_cut(same_millisecond: None, posts: Posts) -> None:
    from bookinghub.realtime.dal import timeline as store

    writers, per_writer = 6, 3
    snapshots: list[list[str]] = []
    done = threading.Event()

    def read_while_writing() -> None:  # a client resuming at whatever moment it happens to
        while not done.is_set():
            snapshots.append([e.id for e in store.after(KEY)])

    def write(w: int) -> None:
        for n in range(per_writer):
            broadcast_item(stored_event(_event(w * 10 + n)), posts)

    reader = threading.Thread(target=read_while_writing)
    reader.start()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(write, range(writers)))
    done.set()
    reader.join()
    final = list(store.after(KEY))
    order = [e.id for e in final]
    assert len(order) == len(set(order)) == writers * per_writer
    assert [e.positions[KEY] for e in final] == list(range(1, len(final) + 1))  # gapless
    assert order != sorted(order) or writers == 1  # ids alone would not give this order (random parts)
    # Whatever a reader saw while the writers ran is a prefix of the final order: a cursor taken there
    # has everything before it
    cuts = {tuple(s) for s in snapshots if s} | {tuple(order[:k]) for k in range(1, len(order) + 1)}
    for n, cut in enumerate(sorted(cuts, key=len)):
        assert list(cut) == order[: len(cut)]
        replayed = [e["id"] for e in _resume(f"cut-{n}", posts, since=cut[-1])]
        assert replayed == order[len(cut) :]


def test_live_frames_out_of_order_then_a_resume_gets_exactly_the_missing_ones(posts: Posts) -> None:
    """Live frames of two bookings can arrive out of their order; the client's cursor (clients/) keeps the
    furthest position and what it saw before it, and the resume fills exactly the holes."""
    from bookinghub.realtime.dal import timeline as store

    for n in range(10):
        broadcast_item(stored_event(_event(n)), posts)
    frames = [e.frame(KEY) for e in store.after(KEY)]
    for cut in range(2, len(frames) + 1):
        for hole in range(cut - 1):  # the frame at `hole` was overtaken and never arrived
            cursor = Cursor()
            for frame in frames[:cut]:
                if frame["position"] != frames[hole]["position"]:
                    cursor.add(frame)
            fields = cursor.subscribe_fields()
            replayed = [e["id"] for e in _resume(f"live-{cut}-{hole}", posts, **fields)]
            assert replayed == [frames[hole]["id"]] + [f["id"] for f in frames[cut:]], (cut, hole)


def test_a_redelivered_event_keeps_its_places(posts: Posts) -> None:
    from bookinghub.realtime.dal import timeline as store

    event = _event(1)
    item = stored_event(event)
    first = broadcast_item(item, posts)
    assert first is not None
    again_positions = store.put_copies(store.event_of_item(item, "guest1@example.com"), str(item["SK"]), {KEY})
    broadcast_item(stored_event(event), posts)  # the stream delivers it again
    assert [e.id for e in store.after(KEY)] == [next(iter(store.after(KEY))).id]
    assert again_positions == {k: 1 for k in again_positions}
    assert store.last_position(KEY) == 1


def test_a_subscription_to_an_empty_timeline_resumes_from_its_start(posts: Posts) -> None:
    """Subscribed before the filter's first event, dropped, then events happen: the ack's cursor (the
    timeline's origin) brings them all on resume, once each; the client keeps that cursor."""
    website_connection("early", TEST_KEY)
    send("early", posts, action="subscribe", filter=FILTER)
    (ack,) = [f for f in posts.frames["early"] if f["type"] == "ack"]
    assert (ack["cursor"], ack["position"]) == ("origin", 0)
    cursor = Cursor(ack["cursor"], ack["position"])
    items = [stored_event(_event(n)) for n in range(3)]  # while the client is away
    for item in items:
        broadcast_item(item, posts)
    placed = [str(item["rt"]) for item in items]
    replayed = _resume("early-again", posts, **cursor.subscribe_fields())
    assert [e["id"] for e in replayed] == placed
    # A resume with what it has seen gets nothing twice
    again = _resume("early-third", posts, since="origin", seen=placed[:2])
    assert [e["id"] for e in again] == placed[2:]
