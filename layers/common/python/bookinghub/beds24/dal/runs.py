"""Beds24 sync runs, their reconciliation reports, and the webhook events (the seed's webhook_events).

A run is one item, rewritten after each page (its counters live in memory between pages, so a page costs
one write however many bookings it holds). A reconciliation keeps the Beds24 ids it has seen one item per
page and its report in parts, so neither is bound by DynamoDB's 400 KB item limit.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.batch import batch_write
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.aws.query import query_items
from bookinghub.beds24.models.entities import SyncRun
from bookinghub.core.clock import to_iso
from bookinghub.core.settings import get_settings

# A recorded event never queued (its queue call failed) may be taken over by a redelivery after this long;
# sooner, the first delivery may still be queueing it, and the redelivery is a duplicate.
TAKEOVER_AFTER_SECONDS = 30
REPORT_PART_SIZE = 200  # discrepancy entries per report item (well below 400 KB)
SCRATCH_TTL_SECONDS = 7 * 86400  # the ids a reconciliation has seen are only needed while it runs


class EventExists(Exception):
    def __init__(self, stored: dict[str, Any]) -> None:
        super().__init__("webhook event already recorded")
        self.stored = stored


def _table() -> str:
    return get_settings().bookings_table


def _retention() -> int:
    return int(time.time()) + get_settings().log_retention_days * 86400


# --- Runs ------------------------------------------------------------------------------------------------


def put_run(run: SyncRun) -> None:
    item = {
        "PK": keys.run_pk(run.run_id),
        "SK": keys.RUN_SK,
        "entity": "sync_run",
        "GSI1PK": keys.runs_pk(run.organisation_id, run.property_id),
        "GSI1SK": f"{run.started_at}#{run.run_id}",
        **run.model_dump(),
        "expires_at": _retention(),
    }
    client("dynamodb").put_item(TableName=_table(), Item=to_item(item))


def get_run(run_id: str) -> SyncRun | None:
    response = client("dynamodb").get_item(
        TableName=_table(), Key=to_item({"PK": keys.run_pk(run_id), "SK": keys.RUN_SK}), ConsistentRead=True
    )
    return SyncRun.model_validate(from_item(response["Item"])) if "Item" in response else None


def property_runs(organisation_id: str, property_id: str, limit: int) -> list[SyncRun]:
    response = client("dynamodb").query(
        TableName=_table(),
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": to_attr(keys.runs_pk(organisation_id, property_id))},
        ScanIndexForward=False,
        Limit=limit,
    )
    return [SyncRun.model_validate(from_item(item)) for item in response["Items"]]


def put_seen(run_id: str, page: int, beds24_ids: list[int]) -> None:
    item = {"PK": keys.run_pk(run_id), "SK": f"SEEN#{page:06d}", "ids": beds24_ids}
    client("dynamodb").put_item(
        TableName=_table(), Item=to_item({**item, "expires_at": int(time.time()) + SCRATCH_TTL_SECONDS})
    )


def seen_ids(run_id: str) -> set[int]:
    return {int(i) for item in _run_items(run_id, "SEEN#") for i in item.get("ids", [])}


def put_report_page(run_id: str, page: int, entries: list[dict[str, Any]]) -> None:
    """Store one page's reconciliation entries, in parts (a page never holds more than Beds24's 100)."""
    parts = [entries[i : i + REPORT_PART_SIZE] for i in range(0, len(entries), REPORT_PART_SIZE)]
    items = [
        {
            "PK": keys.run_pk(run_id),
            "SK": f"REPORT#{page:06d}#{n:03d}",
            "entries": json.dumps(part, separators=(",", ":"), default=str),
            "expires_at": _retention(),
        }
        for n, part in enumerate(parts)
    ]
    batch_write(_table(), items)


def report_entries(run_id: str, limit: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for item in _run_items(run_id, "REPORT#"):
        entries.extend(json.loads(item["entries"]))
        if len(entries) >= limit:
            break
    return entries[:limit]


def _run_items(run_id: str, prefix: str) -> list[dict[str, Any]]:
    request = {
        "TableName": _table(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": to_attr(keys.run_pk(run_id)), ":prefix": to_attr(prefix)},
        "ConsistentRead": True,
    }
    return list(query_items(request))


# --- Webhook events -------------------------------------------------------------------------------------
#
# One small item per event (the seed's webhook_events), in its property's partition:
#   PK=HOOKS#{org}#{property}  SK={event key}  (the key starts with Beds24's modification time, so the
#   partition lists the property's recent events newest first without an index)
# written once, by the consumer, with its final status and outcome (and the log of its successful Beds24
# calls: `calls`, logic/calls.py): until then the queue message is the event's receipt (dal/queues.py).
# A webhook for another Beds24 property is written by the webhook itself (needs_attention; never queued).
# Events queued before messages carried them were written by the webhook (`queued`) and updated by the
# consumer. The raw body is kept zlib-compressed for audit and for applying the webhook as sent.


@dataclass(frozen=True)
class EventRef:
    """Where a webhook event is stored (what its queue message carries: ids only, no guest data)."""

    organisation_id: str
    property_id: str
    event_key: str

    def message(self) -> dict[str, str]:
        return {"event_key": self.event_key, "organisation_id": self.organisation_id, "property_id": self.property_id}


def _event_key(ref: EventRef) -> dict[str, Any]:
    return to_item({"PK": keys.webhooks_pk(ref.organisation_id, ref.property_id), "SK": ref.event_key})


def _iso_ago(seconds: int) -> str:
    return to_iso(datetime.now(UTC) - timedelta(seconds=seconds))


def _event_item(ref: EventRef, event: dict[str, Any], payload: bytes) -> dict[str, Any]:
    said = _said_by_key(ref.event_key)
    return {
        **from_item(_event_key(ref)),
        "entity": "beds24_webhook",
        **{k: v for k, v in event.items() if v is not None and (k not in said or said[k] != v)},
        "payload": zlib.compress(payload),
        "expires_at": _retention(),
    }


def record_event(ref: EventRef, event: dict[str, Any], payload: bytes) -> None:
    """Store a received webhook once (idempotency on its key); EventExists carries the stored one.

    Taken again by a redelivery: an event whose queueing failed (`unqueued`, written before queue messages
    carried their event), or one still `queued` and never deferred after TAKEOVER_AFTER_SECONDS.
    """
    try:
        client("dynamodb").put_item(
            TableName=_table(),
            Item=to_item(_event_item(ref, event, payload)),
            ConditionExpression=(
                "attribute_not_exists(PK) OR #status = :unqueued OR "
                "(#status = :queued AND received_at < :stale AND attribute_not_exists(deferrals))"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":unqueued": to_attr("unqueued"),
                ":queued": to_attr("queued"),
                ":stale": to_attr(_iso_ago(TAKEOVER_AFTER_SECONDS)),
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except client("dynamodb").exceptions.ConditionalCheckFailedException as error:
        raise EventExists(_event(ref, from_item(error.response.get("Item") or {}))) from None


def put_event_record(ref: EventRef, event: dict[str, Any], payload: bytes) -> bool:
    """The event's one record, written by the consumer with its outcome; False when the event is already
    recorded (a redelivery). Only a record that says the event is done stays: a `failed` one (its last
    receive, before the DLQ; an operator's replay replaces it) or one written before queue messages
    carried their event (`queued`, `unqueued`) is replaced."""
    try:
        client("dynamodb").put_item(
            TableName=_table(),
            Item=to_item(_event_item(ref, event, payload)),
            ConditionExpression="attribute_not_exists(PK) OR (#status <> :processed AND #status <> :attention)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":processed": to_attr("processed"), ":attention": to_attr("needs_attention")},
        )
    except client("dynamodb").exceptions.ConditionalCheckFailedException:
        return False
    return True


def count_deferral(ref: EventRef) -> None:
    client("dynamodb").update_item(
        TableName=_table(),
        Key=_event_key(ref),
        UpdateExpression="ADD deferrals :one",
        ExpressionAttributeValues={":one": to_attr(1)},
    )


def get_event(ref: EventRef, *, consistent: bool = True) -> dict[str, Any] | None:
    response = client("dynamodb").get_item(TableName=_table(), Key=_event_key(ref), ConsistentRead=consistent)
    return _event(ref, from_item(response["Item"])) if "Item" in response else None


def get_legacy_event(event_key: str) -> dict[str, Any] | None:
    """An event stored before the per-property layout (its message names only the key): read as it was."""
    response = client("dynamodb").get_item(
        TableName=_table(), Key=to_item({"PK": keys.webhook_pk(event_key), "SK": keys.WEBHOOK_SK}), ConsistentRead=True
    )
    return keys.without_layout(from_item(response["Item"])) if "Item" in response else None


def set_event_status(ref: EventRef, status: str, **fields: Any) -> None:
    """The event's final status (and what came of it); a None field is not written."""
    fields = {k: v for k, v in fields.items() if v is not None}
    names = {"#status": "status", **{f"#f{i}": name for i, name in enumerate(fields)}}
    values = {":status": to_attr(status), **{f":f{i}": to_attr(v) for i, v in enumerate(fields.values())}}
    sets = ["#status = :status", *(f"#f{i} = :f{i}" for i in range(len(fields)))]
    client("dynamodb").update_item(
        TableName=_table(),
        Key=_event_key(ref),
        UpdateExpression="SET " + ", ".join(sets),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def property_events(organisation_id: str, property_id: str, limit: int) -> list[dict[str, Any]]:
    """The property's events, newest modification first (its own partition: one Query, no index)."""
    response = client("dynamodb").query(
        TableName=_table(),
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": to_attr(keys.webhooks_pk(organisation_id, property_id))},
        ScanIndexForward=False,
        Limit=limit,
    )
    items = [from_item(item) for item in response["Items"]]
    return [_event(EventRef(organisation_id, property_id, str(item["SK"])), item) for item in items]


def _said_by_key(event_key: str) -> dict[str, Any]:
    """What an event's key already says (logic/webhooks.event_key: modification time, booking id, live or
    deleted, Beds24 property id), so the item does not carry it twice; nothing for a key by body hash."""
    parts = event_key.split("#")
    if len(parts) != 4 or parts[2] not in ("live", "deleted") or not parts[1].isdigit():
        return {}
    return {
        "modified_time": parts[0],
        "beds24_booking_id": int(parts[1]),
        "beds24_property_id": int(parts[3]) if parts[3].isdigit() else None,
    }


def _event(ref: EventRef, item: dict[str, Any]) -> dict[str, Any]:
    """A stored event as a record: its identity from the key (with what the key says), the body as text."""
    record = {**_said_by_key(ref.event_key), **keys.without_layout(item)}
    payload = record.get("payload")
    if isinstance(payload, bytes | bytearray):
        record["payload"] = zlib.decompress(payload).decode("utf-8")
    return {
        "event_key": ref.event_key,
        "organisation_id": ref.organisation_id,
        "property_id": ref.property_id,
        **record,
    }
