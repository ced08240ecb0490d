"""subscribe / unsubscribe / ping on an open connection.

A subscribe with `since` must replay what was missed and then go live with no gap and no duplicate:
1. register the subscription as `replaying` (the broadcaster then defers its events: it appends them to
   the timeline as always, and bumps the subscription's `pending` instead of posting);
2. acknowledge with the cursor the subscription starts after;
3. replay the filter's order after the cursor's position; then read `pending`, replay what came
   meanwhile, and switch to `live` only if `pending` is unchanged (else read again). The timeline is the
   buffer, and positions de-duplicate: every event is posted once, by the replay (position <= the
   subscription's final position) or by the broadcaster (position > it).
Without `since` the same path runs from the filter's last position, so no event falls between the ack
and the first live one.

First of all the key is marked watched (dal/connections.py, in the watches of the organisation its events
belong to: logic/watch.py): only watched shared keys get their events
placed in the timeline, from the watch on (so `since: "origin"` replays a shared key from when it was
first watched), and only watched keys have their subscribers read. A booking's order is always there (its
event items); it can show a hole for a moment (dal/timeline.py), which the replay steps over and records
on the subscription, so the broadcaster still posts that event when it comes.

Cursors are positions in the filter key's durable order (dal/timeline.py), found from `since=<event id>`.
Stored order has no gaps, but live frames can arrive out of it (two broadcasters post in parallel), so
the client's last id need not cover everything before it. A client that sends `seen` (the ids it got
within RESUME_OVERLAP positions before `since`) is replayed from RESUME_OVERLAP positions before its
cursor, minus what it has seen: never a gap, never a duplicate, as long as no live frame is overtaken
by more than RESUME_OVERLAP later ones. Without `seen`, the replay starts right after `since`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bookinghub.core.observability import logger
from bookinghub.realtime.adapters import management
from bookinghub.realtime.dal import connections as store
from bookinghub.realtime.dal import timeline
from bookinghub.realtime.logic.ids import id_millis
from bookinghub.realtime.logic.scope import Scope
from bookinghub.realtime.logic.watch import watch_organisation
from bookinghub.realtime.models import (
    ORIGIN_CURSOR,
    RESUME_OVERLAP,
    TIMELINE_DAYS,
    Filter,
    Ping,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    encode,
    parse_message,
)

MAX_REPLAY = 2000  # events per subscribe; more is a client that should read GET /api/bookings/{id}/events
MAX_ROUNDS = 50

Post = Callable[[str, bytes], None]


def handle(connection_id: str, body: str | None, post: Post = management.post) -> dict[str, Any] | None:
    """Act on one message; returns the frame to answer with (pong, error), None when posted already."""
    try:
        message = parse_message(body)
        if isinstance(message, Ping):
            return {"type": "pong", "at": int(time.time() * 1000)}
        scope = _scope(connection_id)
        if isinstance(message, Unsubscribe):
            store.remove_subscription(connection_id, message.filter.key)
            return {"type": "unsubscribed", "subscription": message.filter.key}
        subscribe(connection_id, scope, message, post)
        return None
    except ProtocolError as error:
        logger.info("realtime message refused", extra={"code": error.code, "connection_id": connection_id})
        return error.frame()


def _scope(connection_id: str) -> Scope:
    found = store.get_connection(connection_id)
    if found is None:
        raise ProtocolError("NOT_CONNECTED", "This connection is not registered; reconnect")
    return found[0]


def admit(scope: Scope, wanted: Filter) -> str | None:
    """Refuse a filter outside the caller's scope; an unknown id reads as not visible (no leak). Returns
    the organisation the filter's booking, website or provider is of (None for a `user_id`)."""
    value, key = wanted.value, wanted.key
    refused = ProtocolError("SUBSCRIPTION_REFUSED", f"No {wanted.field} {value!r} is visible to you", key)
    if wanted.field == "booking_id":
        from bookinghub.bookings.dal.bookings import get_booking
        from bookinghub.realtime.logic.timeline import is_booking_id

        booking = get_booking(value) if is_booking_id(value) else None
        if booking is None or not scope.sees(str(booking.get("organisation_id")), str(booking.get("website_id"))):
            raise refused
        return str(booking.get("organisation_id"))
    if wanted.field == "website_id":
        from bookinghub.websites.dal.websites import get_website

        website = get_website(value)
        if website is None or not scope.sees(website.organisation_id, website.id):
            raise refused
        return website.organisation_id
    if wanted.field == "provider_id":
        if not scope.sees_organisation(value):
            raise refused
        return value
    # user_id: anyone may ask; only the bookings they may read reach them (the broadcaster checks)
    return None


def subscribe(connection_id: str, scope: Scope, message: Subscribe, post: Post) -> None:
    key = message.filter.key
    watch_in = watch_organisation(scope, message.filter, admit(scope, message.filter))
    origin = message.since == ORIGIN_CURSOR
    if (
        message.since is not None
        and not origin
        and id_millis(message.since) < (time.time() - TIMELINE_DAYS * 86400) * 1000
    ):
        raise ProtocolError("CURSOR_EXPIRED", f"since is older than the {TIMELINE_DAYS}-day timeline", key)
    # Watched before the start is read: a broadcaster that then finds the key unwatched read it before
    # this write, so its event takes no position in the key at all (it is before this subscription)
    store.watch(key, watch_in)
    cursor: str | None
    position: int
    if origin:
        position, cursor = 0, ORIGIN_CURSOR  # every event the timeline keeps came after that subscription
    elif message.since is not None:
        found = timeline.position_of(key, message.since)
        if found is None:
            raise ProtocolError(
                "CURSOR_UNKNOWN", "since is not an event of this subscription's timeline; subscribe without it", key
            )
        position, cursor = found, message.since
    else:
        position, cursor = timeline.latest(key)
        if cursor is None:  # nothing kept yet: resuming from here means from the timeline's start
            cursor = ORIGIN_CURSOR
    skip: set[str] = set()
    start = position
    if message.since is not None and message.seen is not None:
        start, skip = max(0, position - RESUME_OVERLAP), {message.since, *message.seen}
    try:
        store.add_subscription(connection_id, key, scope, state="replaying", watch_in=watch_in)
    except store.TooManySubscriptions:
        raise ProtocolError("TOO_MANY_SUBSCRIPTIONS", "This connection has all the subscriptions it may", key) from None
    except store.ConnectionMissing:
        raise ProtocolError("NOT_CONNECTED", "This connection is not registered; reconnect", key) from None
    try:
        post(connection_id, encode({"type": "ack", "subscription": key, "cursor": cursor, "position": position}))
        replayed = _replay_then_go_live(connection_id, scope, key, start, skip, post)
    except management.ConnectionGone:
        store.delete_connection(connection_id)
        return
    logger.info("realtime subscription live", extra={"subscription": key, "replayed": replayed})


# Holes a booking subscription remembers below its position (their events are still to come live)
MAX_MISSING = 64


def _replay_then_go_live(connection_id: str, scope: Scope, key: str, start: int, skip: set[str], post: Post) -> int:
    cursor, replayed = start, 0
    read: set[int] = set()  # positions read (a booking's order can have a hole the relay has yet to fill)
    for _ in range(MAX_ROUNDS):
        current = store.get_subscription(connection_id, key)
        if current is None:  # unsubscribed (or disconnected) meanwhile
            return replayed
        seen = current.pending
        # A booking's order is read again from the start each round: a hole may have been filled since
        after = start if timeline.is_booking_key(key) else cursor
        for whole in timeline.pages(key, after):
            page = [ref for ref in whole if ref.position not in read]
            # only what is posted is read whole: a website's entries are references to the events
            wanted = [ref for ref in page if scope.sees(ref.organisation_id, ref.website_id) and ref.id not in skip]
            events = timeline.bodies(key, wanted[: max(0, MAX_REPLAY - replayed)])
            for ref in page:
                if replayed >= MAX_REPLAY:
                    store.remove_subscription(connection_id, key)
                    raise ProtocolError(
                        "REPLAY_TOO_LONG", f"More than {MAX_REPLAY} events to replay; read the timeline", key
                    )
                if ref.id in events:
                    post(connection_id, encode(events[ref.id].frame(key)))
                cursor, replayed = max(cursor, ref.position), replayed + 1
                read.add(ref.position)
        missing = frozenset(sorted(set(range(start + 1, cursor + 1)) - read)[-MAX_MISSING:])
        if store.go_live(connection_id, key, seen_pending=seen, position=cursor, missing=missing):
            return replayed
    raise RuntimeError(f"subscription {key} kept receiving events while replaying")
