"""The broadcaster: a booking domain event -> the timeline -> every subscription that matches it.

Every event is kept in its booking's own order (the booking's timeline); only the watched shared keys
(dal/connections.py: subscribed to now, or within the resume window) get it in theirs, and an event none
of whose keys is watched reads only the booking's subscribers.
Appending comes first, so a subscriber that is replaying finds the event in the timeline, and one that
reconnects later can catch up on it. A subscription only gets events of bookings its scope may read.
A gone connection (410) is forgotten; a throttled post fails the event after the other posts, so it is
redelivered (a subscriber may then see it twice: clients de-duplicate by id, see clients/).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.core.observability import logger, metrics
from bookinghub.realtime.adapters import management
from bookinghub.realtime.dal import connections as store
from bookinghub.realtime.logic import timeline
from bookinghub.realtime.logic.subscribe import Post
from bookinghub.realtime.models import TimelineEvent, encode


@dataclass
class Fanout:
    posted: int = 0
    deferred: int = 0
    gone: int = 0
    throttled: int = 0


def user_of(event: BookingDomainEvent) -> str | None:
    """The customer (user_id filter): their email, from the event or else from the booking itself."""
    email = event.data.get("customer_email")
    if not email:
        from bookinghub.bookings.dal.bookings import get_booking

        booking = get_booking(event.booking_id) or {}
        email = booking.get("customer_email")
    return str(email).strip().lower() if email else None


def filter_keys(event: BookingDomainEvent, user_id: str | None) -> list[str]:
    """The keys a booking event can be subscribed by: its booking, website, customer and organisation."""
    values = [
        ("booking_id", event.booking_id),
        ("website_id", event.website_id),
        ("user_id", user_id),
        ("provider_id", event.organisation_id),
    ]
    return [f"{name}:{value}" for name, value in values if value]


def broadcast(event: BookingDomainEvent, post: Post = management.post) -> Fanout:
    user_id = user_of(event)
    # Read before placing: a subscription marks its key watched before it reads where it starts, so an
    # event that finds the key unwatched is before every subscription's start (it is in no key's order),
    # and one that finds it watched is placed, then handed to the subscribers read after placing
    watching = store.watched(filter_keys(event, user_id))
    # The booking's own order is always kept: it is the booking's timeline (GET .../events, issue 14).
    # So its subscribers are always read after placing, as the shared keys' are when watched: a booking
    # subscription made between the watch read and the placement starts before the event and gets it.
    entry = timeline.append(event, user_id, watching)
    if not watching:
        metrics.add_metric(name="RealtimeEventsUnwatched", unit="Count", value=1)
    result = fan_out(entry, post)
    metrics.add_metric(name="RealtimeFramesPosted", unit="Count", value=result.posted)
    logger.info(
        "realtime event broadcast",
        extra={"event_id": entry.id, "booking_id": entry.booking_id, "sequence": entry.sequence, **vars(result)},
    )
    if result.throttled:
        raise management.Throttled(f"{result.throttled} posts of {entry.id} throttled")
    return result


# Posts run in parallel: each is an HTTPS round trip to API Gateway, and a website's hundreds of
# subscribers must not wait for each other (boto3 clients are thread-safe)
POST_WORKERS = 16


def fan_out(entry: TimelineEvent, post: Post) -> Fanout:
    result = Fanout()
    targets = _live_targets(entry, result)

    def _post(target: tuple[str, str]) -> str:
        connection_id, key = target
        try:
            post(connection_id, encode(entry.frame(key)))
        except management.ConnectionGone:
            store.delete_connection(connection_id)
            return "gone"
        except management.Throttled:
            return "throttled"
        return "posted"

    if len(targets) <= 1:
        outcomes = [_post(target) for target in targets]
    else:
        with ThreadPoolExecutor(max_workers=min(POST_WORKERS, len(targets))) as pool:
            outcomes = list(pool.map(_post, targets))
    result.posted, result.gone, result.throttled = (outcomes.count(k) for k in ("posted", "gone", "throttled"))
    return result


def _live_targets(entry: TimelineEvent, result: Fanout) -> list[tuple[str, str]]:
    """(connection id, subscription key) of every subscriber that should get `entry` now; a subscriber
    still replaying gets it from its replay instead (counted as deferred)."""
    targets: list[tuple[str, str]] = []
    for key in entry.positions:  # only the keys it was placed in: a subscriber's start is before the rest
        for subscription in store.subscribers(key):
            if not subscription.scope.sees(entry.organisation_id, entry.website_id):
                continue
            if subscription.state == "replaying":
                if store.defer(subscription.connection_id, key):
                    result.deferred += 1
                    continue
                # It went live meanwhile: its replay covered the key's order up to its position
                fresh = store.get_subscription(subscription.connection_id, key)
                if fresh is None or _covered(entry, key, fresh.position):
                    continue
            elif _covered(entry, key, subscription.position):
                continue
            targets.append((subscription.connection_id, key))
    return targets


def _covered(entry: TimelineEvent, key: str, replayed_to: int | None) -> bool:
    """Whether a replay that read the key's order up to `replayed_to` included the entry."""
    return replayed_to is not None and key in entry.positions and entry.positions[key] <= replayed_to
