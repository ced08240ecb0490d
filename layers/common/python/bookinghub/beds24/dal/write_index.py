"""Reservations with a write-back to Beds24 pending, found by when it is overdue (Bookings table, GSI2).

A reservation whose markers (`hub_edits`) hold a field queued for Beds24 carries GSI2PK=`BEDS24_WRITES`,
GSI2SK=`<due>#<reservation id>`, set in the very write that queued it (dal/reservations.py) and removed by
the write that leaves nothing queued. `due` is the oldest queued field's time plus GRACE_SECONDS, longer
than a queued message normally lives: a reservation still indexed past it lost its message (the send
after the write failed) and the sweep queues it again (logic/write_sweep.py). Sparse: only the few
reservations waiting for Beds24 are in the index.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import to_attr, to_item
from bookinghub.aws.query import query_items
from bookinghub.core.clock import to_iso
from bookinghub.core.settings import get_settings

PENDING_PK = "BEDS24_WRITES"
INDEX_ATTRIBUTES = ("GSI2PK", "GSI2SK")
# A message's normal life: an attempt now, then up to 5 receives 6 minutes apart while Beds24 is down
GRACE_SECONDS = 15 * 60


def is_queued(marker: Any) -> bool:
    return isinstance(marker, dict) and marker.get("sync") == "queued"


def index_keys(reservation_id: str, markers: dict[str, Any] | None, *, deleted: bool = False) -> dict[str, str]:
    """The index attributes of a reservation with these markers ({}: nothing waits for Beds24)."""
    queued = [str(m.get("queued_at") or m.get("at") or "") for m in (markers or {}).values() if is_queued(m)]
    if deleted or not queued:
        return {}
    oldest = datetime.fromisoformat(min(queued).replace("Z", "+00:00"))
    return due_keys(reservation_id, to_iso(oldest + timedelta(seconds=GRACE_SECONDS)))


def due_keys(reservation_id: str, due: str) -> dict[str, str]:
    return {"GSI2PK": PENDING_PK, "GSI2SK": f"{due}#{reservation_id}"}


def overdue(now: str, *, limit: int) -> list[tuple[str, str]]:
    """(reservation id, its GSI2SK) of the reservations whose write-back was due before `now`."""
    items = query_items(
        {
            "TableName": get_settings().bookings_table,
            "IndexName": "GSI2",
            "KeyConditionExpression": "GSI2PK = :pk AND GSI2SK < :now",
            "ExpressionAttributeValues": {":pk": to_attr(PENDING_PK), ":now": to_attr(now)},
            "ProjectionExpression": "id, GSI2SK",
        },
        limit=limit,
    )
    return [(str(item["id"]), str(item["GSI2SK"])) for item in items]


def push_due(reservation_id: str, read_sk: str, due: str) -> bool:
    """Move the reservation's due time on (to `due`), unless it changed since the read (its write-back
    finished, or a newer write re-indexed it): True when moved, so one sweep queues it once."""
    ddb = client("dynamodb")
    try:
        ddb.update_item(
            TableName=get_settings().bookings_table,
            Key=to_item({"PK": keys.reservation_pk(reservation_id), "SK": keys.RESERVATION_SK}),
            UpdateExpression="SET GSI2SK = :next",
            ConditionExpression="GSI2SK = :read",
            ExpressionAttributeValues={
                ":read": to_attr(read_sk),
                ":next": to_attr(due_keys(reservation_id, due)["GSI2SK"]),
            },
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True
