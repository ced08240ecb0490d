"""Which of a booking event's filter keys are watched, and where a subscription's watch is kept.

The check runs in the outbox relay, right after it has written the event's item (the booking's order):
only an event with a watched key is handed to the broadcaster (the relay marks its item, and the
broadcaster's stream filter takes only marked items), so a change nobody watches costs the relay two
strongly consistent reads and never invokes the broadcaster. Why after the write, and strongly
consistent: a subscription marks its key watched before it reads where it starts (logic/subscribe.py).
A check that finds a key unwatched therefore read before that mark, after the event's item existed: in
a booking's order the item is at or before the subscription's start (its replay has it); in a shared
key's the event takes no position at all, so nothing is skipped. A check that finds it watched hands
the event on, and the broadcaster reads the subscribers after placing it (a subscription registered
meanwhile replays it from the timeline). A check made before the write could miss a watch registered
between the two, and that subscriber would never get the event.

Watches are kept per organisation (dal/connections.py): a key of a booking, a website or an
organisation in that organisation's; a `user_id` in the subscriber's organisation's, or the hub's for a
superadmin (who sees that customer's bookings in every organisation, including ones that first appear
later). So an event reads two items: its organisation's watches and the hub's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bookinghub.bookings.models.events import BookingDomainEvent
from bookinghub.realtime.dal import connections as store
from bookinghub.realtime.logic.scope import Scope
from bookinghub.realtime.models import Filter


def user_of(event: BookingDomainEvent, email: str | None = None) -> str | None:
    """The customer (user_id filter): their email, from `email` (the booking as the change left it),
    the event, or else the booking itself."""
    email = email or event.data.get("customer_email")
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


def watched_keys(event: BookingDomainEvent, user_id: str | None) -> set[str]:
    """The event's watched keys (read after its item is written: see the module's docstring)."""
    return store.watched(filter_keys(event, user_id), event.organisation_id)


# The relay's mark on a watched event item: a letter per watched key, then the customer's key's value
# when it is watched (the booking's email as the change left it: the event need not carry it, and the
# booking can change again before the broadcaster runs). A few bytes: the update stays one write unit
# more often than with the keys spelt out.
_LETTERS = {"booking_id": "b", "website_id": "w", "user_id": "u", "provider_id": "p"}


def encode_watched(watched: set[str]) -> str:
    fields = {key.split(":", 1)[0]: key.split(":", 1)[1] for key in watched}
    letters = "".join(letter for name, letter in _LETTERS.items() if name in fields)
    return f"{letters}:{fields['user_id']}" if "user_id" in fields else letters


def decode_watched(mark: str, event: BookingDomainEvent) -> set[str]:
    """The keys a mark names, for its event."""
    letters, _, user_id = mark.partition(":")
    values = {"booking_id": event.booking_id, "website_id": event.website_id, "provider_id": event.organisation_id}
    values["user_id"] = user_id
    return {f"{name}:{values[name]}" for name, letter in _LETTERS.items() if letter in letters and values[name]}


def watch_organisation(scope: Scope, wanted: Filter, organisation_id: str | None) -> str | None:
    """Whose watches hold a subscription's key: the organisation of the booking, website or provider it
    names (`organisation_id`, found when it was admitted); for a `user_id`, the subscriber's own
    organisation, as it reads no other (None, the hub's, for a superadmin or a scope without one)."""
    if wanted.field != "user_id":
        return organisation_id
    return None if scope.role == "superadmin" else scope.organisation_id


# --- deploying the watch summaries: copying the per-key watches written before them -----------------


# Where a copy went (dal/connections.copy_watch's levels)
MIGRATION_LEVELS = ("hub", "cross-organisation", "own item, levels marked overflow")


@dataclass
class WatchMigration:
    read: int = 0  # per-key watch items read
    expired: int = 0  # skipped: no longer watched
    current: int = 0  # the summaries held them as late already (a second run, a subscribe meanwhile)
    copied: dict[str, int] = field(default_factory=lambda: {level: 0 for level in MIGRATION_LEVELS})


def migrate_watches(
    now: float | None = None, progress: Callable[[WatchMigration], None] | None = None, *, every: int = 500
) -> WatchMigration:
    """Copy every live per-key watch (`WATCH#<key>`, as the relay before the summaries wrote them) into
    the summaries, as a subscribe's watch(key, None) would, keeping its expiry; expired ones are skipped.
    Read a Scan page at a time. Safe before the deploy (the old relay reads only the per-key items, which
    are left as they are), after it, twice, and beside subscribes: every write moves an expiry forwards
    only, and a key's bytes are counted once per summary. `progress` is called every `every` items."""
    now = time.time() if now is None else now
    report = WatchMigration()
    for filter_key, until in store.own_watches():
        report.read += 1
        if until <= now:
            report.expired += 1
        else:
            placed = store.copy_watch(filter_key, until, now)
            if placed is None:
                report.current += 1
            else:
                report.copied[MIGRATION_LEVELS[placed]] += 1
        if progress is not None and report.read % every == 0:
            progress(report)
    return report
