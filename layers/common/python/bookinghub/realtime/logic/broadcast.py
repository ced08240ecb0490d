"""The broadcaster: a booking's event item -> the watched keys' timelines -> every subscription that matches.

Every event is in its booking's own order already: its event item (Bookings table), written before the
stream brings it here. Only the watched keys (dal/connections.py: subscribed to now, or within the
resume window) get it in theirs and have their subscribers read. The outbox relay checks them once the
item is written (logic/watch.py) and hands on only an event with a watched key: one nobody watches
never reaches this function.
Placing comes first, so a subscriber that is replaying finds the event in the timeline, and one that
reconnects later can catch up on it. A subscription only gets events of bookings its scope may read.
A gone connection (410) is forgotten; a throttled post fails the event after the other posts, so it is
redelivered (a subscriber may then see it twice: clients de-duplicate by id, see clients/).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bookinghub.bookings.dal.logs import event_from_outbox_item
from bookinghub.core.observability import logger, metrics
from bookinghub.realtime.adapters import management
from bookinghub.realtime.dal import connections as store
from bookinghub.realtime.dal import timeline as timeline_store
from bookinghub.realtime.logic import timeline
from bookinghub.realtime.logic.subscribe import Post
from bookinghub.realtime.logic.watch import decode_watched, user_of, watched_keys
from bookinghub.realtime.models import TimelineEvent, encode


@dataclass
class Fanout:
    posted: int = 0
    deferred: int = 0
    gone: int = 0
    throttled: int = 0


def broadcast(item: dict[str, Any], post: Post = management.post, mark: str | None = None) -> Fanout:
    """Broadcast one numbered event item of the Bookings table (plain values). `mark`: the keys the
    outbox relay found watched, read after the item was written (logic/watch.py); None for an item
    written on its own, whose keys are read here, after it was numbered."""
    event = event_from_outbox_item(item)
    watching = watched_keys(event, user_of(event)) if mark is None else decode_watched(mark, event)
    if not watching:
        metrics.add_metric(name="RealtimeEventsUnwatched", unit="Count", value=1)
        return Fanout()
    # The customer's key is only needed where it is watched (the relay found it from the booking)
    user_id = next((key.split(":", 1)[1] for key in watching if key.startswith("user_id:")), None)
    entry = timeline.place(timeline_store.event_of_item(item, user_id), str(item["SK"]), watching)
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
                if fresh is None or _covered(entry, key, fresh):
                    continue
            elif _covered(entry, key, subscription):
                continue
            targets.append((subscription.connection_id, key))
    return targets


def _covered(entry: TimelineEvent, key: str, subscription: store.Subscription) -> bool:
    """Whether the subscription's replay, which read the key's order up to its position (but for the
    holes it found there, see dal/timeline.py), included the entry."""
    replayed_to, position = subscription.position, entry.positions.get(key)
    if replayed_to is None or position is None:
        return False
    return position <= replayed_to and position not in subscription.missing
