"""Before the hub writes its values to Beds24 (logic/writeback.py): Beds24's own change since the hub's
last pull is read and ingested first, so the write never overwrites a change the hub has not seen.

The booking is read at Beds24 (one GET, by id) and applied as a pull would apply it (logic/apply.py):
unchanged since the last pull, nothing happens; changed, the per-field rules judge each pending field
against it (bookinghub.conflicts): Beds24's value of a field it did not change keeps the hub's write
queued, a field it did change is a conflict under the organisation's rule (`source_wins`: Beds24's value
applies and nothing is written; `hub_wins`: the hub's value is queued again, judged; `manual`: an open
conflict, the write waits for a person). The caller then sends what is still queued.

Left open: Beds24 offers no conditional write, so a change made at Beds24 between this read and the POST
(milliseconds) is still overwritten; its webhook then shows the hub's value won.
"""

from __future__ import annotations

from typing import Any

from bookinghub.beds24.client.api import Beds24Client
from bookinghub.beds24.dal import reservations as reservation_store
from bookinghub.beds24.logic.apply import apply_booking, mark_deleted, parse_booking
from bookinghub.beds24.models.entities import Beds24Property
from bookinghub.core.observability import logger

SOURCE = "writeback"  # the reservation's `last_source` when the guard brought Beds24's change in
_RACE_RETRIES = 3


class CatchUpRaced(Exception):
    """The reservation kept changing while Beds24's newer version was applied: retry the write-back."""


def catch_up(prop: Beds24Property, beds24: Beds24Client, stored: dict[str, Any]) -> dict[str, Any] | None:
    """The reservation once Beds24's current version of it is applied (None: Beds24 no longer has it, or
    it is deleted). Raises what the client raises (the write-back retries), and CatchUpRaced."""
    booking_id = int(stored["beds24_booking_id"])
    current = beds24.get_booking(prop.beds24_property_id, booking_id)
    if current is None:
        mark_deleted(prop, booking_id, None, source=SOURCE)
        logger.warning("beds24 write-back: the booking is gone at Beds24", extra={"reservation_id": stored["id"]})
        return None
    booking = parse_booking(current)
    for _ in range(_RACE_RETRIES):
        outcome = apply_booking(prop, booking, source=SOURCE, send_writes=False)
        if outcome.kind == "unchanged":
            return stored  # the hub has this very version: nothing at Beds24 is unseen
        fresh = reservation_store.get_reservations([str(stored["id"])]).get(str(stored["id"]))
        if fresh is None or fresh.get("deleted"):
            return None
        # Stale: the hub had it already, or a pull or edit raced the write (then apply it again)
        if outcome.kind != "stale" or str(fresh.get("modified_time") or "") >= (booking.modified_time or ""):
            if outcome.kind == "updated":
                logger.info(
                    "beds24 write-back: Beds24's change since the last pull applied first",
                    extra={"reservation_id": stored["id"], "modified_time": booking.modified_time},
                )
            return fresh
        stored = fresh
    raise CatchUpRaced(f"reservation {stored['id']} kept changing while Beds24's version was applied")
