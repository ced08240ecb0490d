"""Placing an event in the shared keys' timelines without transactions (dal/timeline.py): what a placement
that stops half-way leaves, and that its retry fills it in with no gap and no duplicate in any key's order.

Faults are injected into the single-item writes the placement makes (`_put_new`: the entries and the
placement record; `_advance`: the counters), the way a Lambda that times out or a throttled call stops
it; the stream then delivers the event again (`broadcast` once more). The events' items are written to
the Bookings table as the relay writes them (their bookings' order).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import TEST_KEY
from tests.integration.realtime.conftest import Posts, broadcast_item, send, stored_event, website_connection

WEBSITE = "website_id:test-website"
PROVIDER = "provider_id:demo-org"

pytestmark = pytest.mark.usefixtures("test_website", "watching")


def _event(n: int, booking_id: str | None = None) -> Any:
    from bookinghub.bookings.models.events import BookingDomainEvent
    from bookinghub.core.clock import iso_now

    return BookingDomainEvent(
        event_id=f"evt-place-{n}-{uuid.uuid4().hex[:6]}",
        event_type="booking.updated",
        booking_id=booking_id or str(uuid.uuid4()),
        website_id="test-website",
        organisation_id="demo-org",
        source_booking_id=f"place-{n}",
        origin="website:test-website",
        changed_fields=["guest_count"],
        data={"guest_count": n, "customer_email": f"guest{n}@example.com"},
        occurred_at=iso_now(),
    )


class Crash(RuntimeError):
    """The Lambda stopped here (a timeout, a throttled call that ran out of retries)."""


def _fail_once(monkeypatch: pytest.MonkeyPatch, name: str, when: Callable[..., bool]) -> list[Any]:
    """Make dal/timeline.<name> raise Crash the first time `when(*args)` holds; returns the calls made."""
    from bookinghub.realtime.dal import timeline as store

    real = getattr(store, name)
    calls: list[Any] = []
    failed: list[Any] = []

    def flaky(*args: Any) -> Any:
        calls.append(args)
        if not failed and when(*args):
            failed.append(args)
            raise Crash(f"{name} stopped")
        return real(*args)

    monkeypatch.setattr(store, name, flaky)
    return failed


def _orders_are_whole(*keys: str) -> dict[str, list[str]]:
    """Each key's order: positions 1..n with no hole, no event twice, the counter at n."""
    from bookinghub.realtime.dal import timeline as store

    orders = {}
    for key in keys:
        refs = [ref for page in store.pages(key) for ref in page]
        assert [ref.position for ref in refs] == list(range(1, len(refs) + 1)), key
        assert len({ref.id for ref in refs}) == len(refs), key
        assert store.last_position(key) == len(refs), key
        orders[key] = [ref.id for ref in refs]
    return orders


def _broadcast(event: Any, posts: Posts) -> Any:
    return broadcast_item(stored_event(event), posts)


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda item: item["PK"].startswith("ID#"), id="before-the-placement-record"),
        pytest.param(lambda item: item["PK"] == f"TL#{WEBSITE}", id="before-the-website-entry"),
        pytest.param(lambda item: item["PK"] == f"TL#{PROVIDER}", id="after-two-keys"),
    ],
)
def test_a_placement_stopped_half_way_is_completed_by_its_redelivery(
    monkeypatch: pytest.MonkeyPatch, posts: Posts, stop: Callable[[dict[str, Any]], bool]
) -> None:
    before = _event(0)
    _broadcast(before, posts)
    event = _event(1)
    _fail_once(monkeypatch, "_put_new", stop)
    with pytest.raises(Crash):
        _broadcast(event, posts)
    monkeypatch.undo()
    later = _event(2)  # another booking's event is placed meanwhile
    _broadcast(later, posts)
    result = _broadcast(event, posts)  # the stream delivers it again
    assert result is not None
    orders = _orders_are_whole(WEBSITE, PROVIDER)
    from bookinghub.realtime.dal import timeline as store

    (placed,) = [e for e in store.after(WEBSITE) if e.data["guest_count"] == 1]
    assert orders[WEBSITE].count(placed.id) == orders[PROVIDER].count(placed.id) == 1
    assert next(e.data["guest_count"] for e in store.after(WEBSITE)) == 0
    # A client that saw it resumes from its place, and is replayed what came after, once
    assert store.position_of(WEBSITE, placed.id) == orders[WEBSITE].index(placed.id) + 1
    website_connection("resumer", TEST_KEY)
    send("resumer", posts, action="subscribe", filter={"website_id": "test-website"}, since=placed.id)
    assert [f["id"] for f in posts.events("resumer")] == orders[WEBSITE][orders[WEBSITE].index(placed.id) + 1 :]


def test_an_entry_written_but_its_counter_not_advanced_keeps_its_place(
    monkeypatch: pytest.MonkeyPatch, posts: Posts
) -> None:
    """The writer stops between its entry and its counter: the next writer finds the place taken,
    advances the counter for it, and takes the next one; the redelivery keeps the place it had."""
    from bookinghub.realtime.dal import timeline as store

    event = _event(1)
    _fail_once(monkeypatch, "_advance", lambda key, position, event_id: key == WEBSITE)
    with pytest.raises(Crash):
        _broadcast(event, posts)
    monkeypatch.undo()
    assert store.last_position(WEBSITE) == 0  # its entry is at 1, the counter still says 0
    _broadcast(_event(2), posts)
    _broadcast(event, posts)
    orders = _orders_are_whole(WEBSITE, PROVIDER)
    assert len(orders[WEBSITE]) == 2
    first = next(iter(store.after(WEBSITE)))
    assert first.data["guest_count"] == 1
    assert store.position_of(WEBSITE, first.id) == 1


def test_a_position_recorded_but_taken_by_another_event_before_the_retry(
    monkeypatch: pytest.MonkeyPatch, posts: Posts
) -> None:
    """The writer recorded where it would go and stopped before its entry; another event took that
    place: the retry takes the next free one and records it, so `since` finds it there."""
    from bookinghub.realtime.dal import timeline as store

    _broadcast(_event(0), posts)
    event = _event(1)
    _fail_once(monkeypatch, "_put_new", lambda item: item["PK"] == f"TL#{WEBSITE}")
    with pytest.raises(Crash):
        _broadcast(event, posts)
    monkeypatch.undo()
    other = _event(2)
    _broadcast(other, posts)  # takes position 2 of the website, where the stopped one meant to go
    _broadcast(event, posts)
    orders = _orders_are_whole(WEBSITE, PROVIDER)
    assert [e.data["guest_count"] for e in store.after(WEBSITE)] == [0, 2, 1]
    last = orders[WEBSITE][-1]
    assert store.position_of(WEBSITE, last) == 3


def test_concurrent_redeliveries_of_one_event_place_it_once(posts: Posts) -> None:
    from concurrent.futures import ThreadPoolExecutor

    event = _event(1)
    others = [_event(n) for n in range(2, 6)]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda e: _broadcast(e, posts), [event, event, *others, event]))
    orders = _orders_are_whole(WEBSITE, PROVIDER)
    assert len(orders[WEBSITE]) == len(orders[PROVIDER]) == 5


def test_the_counter_never_goes_back_when_the_ttl_empties_a_key(posts: Posts) -> None:
    """A key idle past the window loses its entries to the TTL; its counter stays, so the next event
    lands after every position a live subscriber can hold."""
    from bookinghub.aws.clients import client
    from bookinghub.core.settings import get_settings
    from bookinghub.realtime.dal import timeline as store

    for n in range(3):
        _broadcast(_event(n), posts)
    table = get_settings().realtime_timeline_table
    for ref in [ref for page in store.pages(WEBSITE) for ref in page]:
        client("dynamodb").delete_item(
            TableName=table, Key={"PK": {"S": f"TL#{WEBSITE}"}, "SK": {"S": store.copy_sk(ref.position)}}
        )
    assert list(store.after(WEBSITE)) == []
    assert store.last_position(WEBSITE) == 3
    _broadcast(_event(3), posts)
    assert [ref.position for page in store.pages(WEBSITE) for ref in page] == [4]


def test_placing_uses_no_transaction(monkeypatch: pytest.MonkeyPatch, posts: Posts) -> None:
    """Single-item conditional writes only: a transaction costs twice the write units per item."""
    from bookinghub.aws.clients import client

    dynamodb = client("dynamodb")

    def refuse(**_: Any) -> None:
        raise AssertionError("the timeline placement made a transaction")

    monkeypatch.setattr(dynamodb, "transact_write_items", refuse)
    for n in range(3):
        _broadcast(_event(n), posts)
    _orders_are_whole(WEBSITE, PROVIDER)


def test_a_subscription_made_before_a_counter_caught_up_acks_after_the_entry(
    monkeypatch: pytest.MonkeyPatch, posts: Posts
) -> None:
    """An entry is written and its writer stopped before advancing the counter: a new subscription's
    cursor is that entry, at its position, so the client neither drops the next event nor gets it twice."""
    from clients.realtime_client import Cursor

    event = _event(1)
    _fail_once(monkeypatch, "_advance", lambda key, position, event_id: key == WEBSITE)
    with pytest.raises(Crash):
        _broadcast(event, posts)
    monkeypatch.undo()
    website_connection("newcomer", TEST_KEY)
    send("newcomer", posts, action="subscribe", filter={"website_id": "test-website"})
    (ack,) = [f for f in posts.frames["newcomer"] if f["type"] == "ack"]
    assert ack["position"] == 1
    assert posts.events("newcomer") == []  # it is the cursor: not replayed
    cursor = Cursor(ack["cursor"], ack["position"])
    _broadcast(_event(2), posts)
    (live,) = posts.events("newcomer")
    assert live["position"] == 2
    assert not cursor.has_seen(live)
