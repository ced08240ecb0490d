"""Real-time tests against in-process moto: bookings made through the real sync, posts captured."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from tests.integration.conftest import outbox_events, post_sync, seed_body


class Posts:
    """Stands in for management.post: frames per connection; `gone` ids answer 410 (GoneException)."""

    def __init__(self) -> None:
        self.frames: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()
        self.throttled: set[str] = set()  # LimitExceeded even after the adapter's retries
        self.on_post: Any = None  # called before each post (to interleave a broadcast with a replay)

    def __call__(self, connection_id: str, data: bytes) -> None:
        import json

        from bookinghub.realtime.adapters.management import ConnectionGone

        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        if connection_id in self.throttled:
            from bookinghub.realtime.adapters.management import Throttled

            raise Throttled(connection_id)
        if self.on_post is not None:
            hook, self.on_post = self.on_post, None
            hook()
        self.frames[connection_id].append(json.loads(data))

    def events(self, connection_id: str) -> list[dict[str, Any]]:
        return [f for f in self.frames[connection_id] if f["type"] in ("event", "event_ref")]


@pytest.fixture
def posts() -> Posts:
    return Posts()


def make_booking(source_id: str, **changes: Any) -> str:
    status, body = post_sync(seed_body(source_booking_id=source_id, **changes))
    assert status in (200, 201), body
    return str(body["booking_id"])


def update_booking(source_id: str, guest_count: int, at: str) -> None:
    status, body = post_sync(
        {"event": "booking.updated", "source_booking_id": source_id, "guest_count": guest_count, "updated_at": at}
    )
    assert status == 200, body


def broadcast_all(booking_id: str, posts: Posts, seen: set[str] | None = None) -> list[Any]:
    """Feed the booking's event items (oldest first) to the broadcaster, as the stream would."""
    results = []
    for item in sorted(outbox_events(booking_id), key=lambda i: i["SK"]):
        if seen is not None:
            if item["event_id"] in seen:
                continue
            seen.add(item["event_id"])
        results.append(broadcast_item(item, posts))
    return results


def broadcast_item(item: dict[str, Any], posts: Posts) -> Any:
    """One event item through the broadcaster, as its stream filter and functions/realtime_broadcaster
    hand it over: an item the relay marked watched (with what it found), or one written on its own
    (numbered and checked there). One the relay found unwatched never reaches it (an empty Fanout)."""
    from bookinghub.bookings.dal.logs import CHECK_WATCHES, REALTIME_WATCHED, SEQUENCE, claim_sequence
    from bookinghub.realtime.logic.broadcast import Fanout, broadcast

    mark = item.get(REALTIME_WATCHED)
    if item.get("relayed") and mark is None:
        return Fanout()
    if SEQUENCE not in item:
        item = claim_sequence(item) or item
    return broadcast(item, post=posts, mark=None if mark in (None, CHECK_WATCHES) else str(mark))


def relay_check(item: dict[str, Any]) -> dict[str, Any]:
    """What the relay does right after writing an event item: check its keys' watches, mark it if one is
    watched; returns the item as the marking's stream record carries it (unmarked if none is)."""
    from bookinghub.bookings.dal.logs import REALTIME_WATCHED, event_from_outbox_item, hand_to_realtime
    from bookinghub.realtime.logic.watch import encode_watched, user_of, watched_keys

    event = event_from_outbox_item(item)
    watched = watched_keys(event, user_of(event))
    if not watched:
        return item
    hand_to_realtime(event, encode_watched(watched))  # (a concurrent copy may have marked it first)
    return {**item, REALTIME_WATCHED: encode_watched(watched)}


def stored_event(event: Any, sequence: int = 1) -> dict[str, Any]:
    """A domain event's item at `sequence` of its booking's order, written to the Bookings table as the
    relay writes it (the booking itself need not exist), then its watches checked as the relay does;
    returns it as stored."""
    from bookinghub.aws.clients import client
    from bookinghub.aws.codec import from_item, to_item
    from bookinghub.bookings.dal.logs import event_item
    from bookinghub.core.settings import get_settings

    item = event_item(event, relayed=True, sequence=sequence)
    client("dynamodb").put_item(TableName=get_settings().bookings_table, Item=to_item(item))
    return relay_check(from_item(to_item(item)))


def website_connection(connection_id: str, api_key: str) -> None:
    from bookinghub.realtime.logic.connect import connect

    connect(connection_id, {"api_key": api_key}, None)


def operator_connection(connection_id: str, role: str, org: str = "demo-org", websites: str = "") -> None:
    from bookinghub.realtime.logic.connect import connect

    claims = {"sub": f"user-{connection_id}", "email": f"{connection_id}@x.test", "cognito:groups": role}
    if org:
        claims["custom:organisation_id"] = org
    if websites:
        claims["custom:websites"] = websites
    connect(connection_id, None, claims)


def send(connection_id: str, posts: Posts, **message: Any) -> dict[str, Any] | None:
    import json

    from bookinghub.realtime.logic.subscribe import handle

    return handle(connection_id, json.dumps(message), post=posts)


# The shared keys of the test website's bookings (the seed booking's customer among them)
SHARED_KEYS = ("website_id:test-website", "provider_id:demo-org", "user_id:john@example.com")


@pytest.fixture
def watching(test_website: Any) -> None:
    """The test website's shared keys watched, as a subscriber would leave them: their events (and so the
    bookings' own timelines) are placed without a subscription in the test itself."""
    from bookinghub.realtime.dal.connections import watch

    for key in SHARED_KEYS:
        watch(key, "demo-org")
