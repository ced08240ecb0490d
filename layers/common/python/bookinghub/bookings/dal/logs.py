"""Sync log rows (IntegrationLogs table, retention by TTL) and timeline event items (Bookings table).

Event items (SK=EVENT#...) are the durable timeline of a booking: the outbox relay writes one per
booking change (marked `relayed`: already handed to the queue), and a test webhook or the PMS outbox
writes its own (relayed from the stream). The item of a change a website's sync applied is marked
`inbound_sync` and is also that sync's seed 002 log row (direction inbound, status success, the applied
columns in the payload's shape, masked when read): one write serves both, and it exists exactly when the
change does (the relay writes it, idempotent by event id, from the booking's stream).

A sync log row of its own is one small PutItem, no transaction and no index: keyed by its booking
(PK=SYNCLOG#{booking_id}, SK={created_at}#{id}), the masked payload stored zlib-compressed. Those are
the outbound deliveries (sync back), an applied sync that made no event (it only recorded conflicts),
and inbound logs written before the timeline carried them. `list_sync_logs` reads both.
"""

from __future__ import annotations

import base64
import json
import time
import zlib
from typing import Any

from pydantic import ValidationError

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.aws.query import query_items
from bookinghub.bookings.models.events import BookingDomainEvent, SyncLog
from bookinghub.bookings.models.payload_shape import sync_payload
from bookinghub.core.security import mask_pii
from bookinghub.core.settings import get_settings

# An event item that is also its change's inbound sync log
INBOUND_SYNC = "inbound_sync"
# The event's place in its booking's realtime order (bookinghub/realtime): its sequence, 1, 2, 3... in the
# order the booking's changes were made, and the realtime id computed from it (the subscribers' cursor)
SEQUENCE, REALTIME_ID = "seq", "rt"
# Set by the outbox relay on an event item with a watched key, which the realtime broadcaster's stream
# filter then takes (infra/topology/realtime.py WATCHED_MARK): which of its keys the relay found watched
# (realtime/logic/watch.py), or CHECK_WATCHES for an item the broadcaster must number and check itself
REALTIME_WATCHED, CHECK_WATCHES = "rtw", "*"
# Attributes of an event item that are storage layout, not part of the event
_OUTBOX_STORAGE_ATTRIBUTES = {"PK", "SK", "entity", "relayed", INBOUND_SYNC, SEQUENCE, REALTIME_ID, REALTIME_WATCHED}
# Logs without a booking (a refused sync back before the booking was known) are kept by website
_NO_BOOKING = "WEBSITE:"


def _log_partition(log: SyncLog) -> str:
    return keys.sync_log_pk(log.booking_id or f"{_NO_BOOKING}{log.website_id}")


def sync_log_item(log: SyncLog) -> dict[str, Any]:
    retention = get_settings().log_retention_days * 86400
    # The id and time are the sort key and the booking the partition: not stored again
    item: dict[str, Any] = {
        "PK": _log_partition(log),
        "SK": f"{log.created_at}#{log.id}",
        **log.model_dump(exclude={"payload", "id", "booking_id", "created_at"}, exclude_none=True),
        "expires_at": int(time.time()) + retention,
    }
    if log.payload is not None:
        # JSON text keeps the audit row exactly as sent, whatever its shape; compressed, it stays one unit
        item["payload"] = zlib.compress(json.dumps(log.payload, separators=(",", ":")).encode())
    return item


def sync_log_from_item(item: dict[str, Any]) -> SyncLog:
    created_at, log_id = str(item["SK"]).rsplit("#", 1)
    partition = str(item["PK"]).removeprefix("SYNCLOG#")
    payload = item.get("payload")
    if isinstance(payload, bytes | bytearray):
        payload = json.loads(zlib.decompress(payload))
    elif isinstance(payload, str):
        payload = json.loads(payload)
    fields = {k: v for k, v in item.items() if k not in ("PK", "SK", "expires_at", "payload")}
    return SyncLog.model_validate(
        {
            **fields,
            "id": log_id,
            "created_at": created_at,
            "booking_id": None if partition.startswith(_NO_BOOKING) else partition,
            "payload": payload,
        }
    )


def put_sync_log(log: SyncLog) -> None:
    client("dynamodb").put_item(TableName=get_settings().integration_logs_table, Item=to_item(sync_log_item(log)))


def list_sync_logs(booking_id: str, *, inbound: list[SyncLog] | None = None) -> list[SyncLog]:
    """A booking's sync logs (inbound and outbound), oldest first: its log rows and the inbound syncs its
    timeline carries (`inbound`: those, when the caller has read the timeline already)."""
    request = {
        "TableName": get_settings().integration_logs_table,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": to_attr(keys.sync_log_pk(booking_id))},
    }
    rows = [sync_log_from_item(item) for item in query_items(request)]
    if inbound is None:
        inbound = booking_timeline(booking_id)[1]
    return sorted([*rows, *inbound], key=lambda log: (log.created_at, log.id))


def inbound_sync_log(event: BookingDomainEvent) -> SyncLog:
    """The seed 002 log row of the inbound sync that made `event` (its timeline item is marked so): what
    it applied, in the payload's shape, emails and phones masked. Its id is the event's."""
    return SyncLog(
        id=event.event_id,
        booking_id=event.booking_id,
        website_id=event.website_id,
        direction="inbound",
        event_type=event.event_type,
        payload=mask_pii(sync_payload(event.event_type, event.source_booking_id, event.data)),
        status="success",
        created_at=event.occurred_at,
    )


def event_item(
    domain_event: BookingDomainEvent | dict[str, Any],
    *,
    relayed: bool = False,
    inbound_sync: bool = False,
    sequence: int | None = None,
) -> dict[str, Any]:
    """The timeline item of a domain event, stored beside its booking. `relayed`: written by the outbox
    relay, which has queued the event already (the relay passes such items over). `inbound_sync`: the
    change is a website's sync, and the item is its sync log too. `sequence`: its place in the booking's
    realtime order, when the write that made it numbered it (the booking's `seq`); an item without one
    is numbered by the realtime broadcaster (claim_sequence).

    Nothing twice: the time is the sort key's, `changed_fields` is left out when it is the data's own
    keys, and the data (JSON text, so the event keeps its exact shape) is stored zlib-compressed and
    base64-encoded (`data_z`) when that is shorter: a creation's event stays one write unit."""
    event = domain_event.model_dump(exclude_none=True) if isinstance(domain_event, BookingDomainEvent) else domain_event
    item = {
        "PK": keys.booking_pk(event["booking_id"]),
        "SK": keys.event_sk(event["occurred_at"], event["event_id"]),
        "entity": "event",
        **{k: v for k, v in event.items() if k not in ("data", "occurred_at")},
    }
    text = json.dumps(event["data"], separators=(",", ":"), default=str)
    packed = base64.b64encode(zlib.compress(text.encode(), 9)).decode()
    if len(packed) + 2 < len(text):
        item["data_z"] = packed
    else:
        item["data"] = text
    if item.get("changed_fields") == sorted(event["data"]):
        del item["changed_fields"]
    if relayed:
        item["relayed"] = True
    if inbound_sync:
        item[INBOUND_SYNC] = True
    if sequence is not None:
        item.update(_numbered(event, sequence))
    return item


def _numbered(event: dict[str, Any], sequence: int) -> dict[str, Any]:
    from bookinghub.realtime.logic.ids import event_id_for

    return {SEQUENCE: sequence, REALTIME_ID: event_id_for(event["occurred_at"], sequence, event["event_id"])}


class NotAnOutboxEvent(Exception):
    """A stream record of another item of the Bookings table (a booking, a website...)."""

    def __init__(self, sk: Any) -> None:
        super().__init__("not an outbox event")
        self.sk = sk


class MalformedOutboxEvent(Exception):
    """An outbox item that is not a valid event: it can never become one by retrying."""

    def __init__(self, pk: Any, sk: Any, reason: str) -> None:
        super().__init__(reason)
        self.pk, self.sk, self.reason = pk, sk, reason


def outbox_event(new_image: dict[str, Any]) -> BookingDomainEvent:
    """The domain event of a stream record's NewImage (DynamoDB-typed)."""
    item = from_item(new_image)
    if not str(item.get("SK", "")).startswith(keys.EVENT_SK_PREFIX):
        raise NotAnOutboxEvent(item.get("SK"))
    try:
        return event_from_outbox_item(item)
    except (ValidationError, ValueError) as error:
        raise MalformedOutboxEvent(item.get("PK"), item.get("SK"), str(error)) from None


def event_from_outbox_item(item: dict[str, Any]) -> BookingDomainEvent:
    """The inverse of event_item: the event item (plain Python values) back into its event."""
    fields = {k: v for k, v in item.items() if k not in _OUTBOX_STORAGE_ATTRIBUTES and k != "data_z"}
    if "data_z" in item:
        fields["data"] = json.loads(zlib.decompress(base64.b64decode(str(item["data_z"]))))
    else:
        data = fields.get("data")
        fields["data"] = json.loads(data) if isinstance(data, str) else data
    if "occurred_at" not in fields:
        fields["occurred_at"] = str(item["SK"]).removeprefix(keys.EVENT_SK_PREFIX).split("#", 1)[0]
    if "changed_fields" not in fields and isinstance(fields["data"], dict):
        fields["changed_fields"] = sorted(fields["data"])
    return BookingDomainEvent.model_validate(fields)


def list_events(booking_id: str) -> list[BookingDomainEvent]:
    """The booking's domain events (its outbox items, kept beside it), oldest first."""
    return booking_timeline(booking_id)[0]


def booking_timeline(booking_id: str) -> tuple[list[BookingDomainEvent], list[SyncLog]]:
    """The booking's domain events, oldest first, and the inbound sync logs among them: one Query."""
    request = {
        "TableName": get_settings().bookings_table,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :events)",
        "ExpressionAttributeValues": to_item({":pk": keys.booking_pk(booking_id), ":events": keys.EVENT_SK_PREFIX}),
        "ConsistentRead": True,
    }
    events: list[BookingDomainEvent] = []
    inbound: list[SyncLog] = []
    for item in query_items(request):
        event = event_from_outbox_item(item)
        events.append(event)
        if item.get(INBOUND_SYNC):
            inbound.append(inbound_sync_log(event))
    return events, inbound


def put_timeline_event(event: BookingDomainEvent, *, inbound_sync: bool = False, sequence: int | None = None) -> bool:
    """The relay's timeline item of a booking change (`inbound_sync`: a website's sync made it, and the
    item is its sync log; `sequence`: the one the change's write gave it); False if it is there already
    (a retried record)."""
    ddb = client("dynamodb")
    try:
        ddb.put_item(
            TableName=get_settings().bookings_table,
            Item=to_item(event_item(event, relayed=True, inbound_sync=inbound_sync, sequence=sequence)),
            ConditionExpression="attribute_not_exists(PK)",
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def hand_to_realtime(event: BookingDomainEvent, watched: str) -> bool:
    """Mark the relay's event item for the realtime broadcaster (its stream filter takes the marking
    update): `watched`, what the relay found watched after writing the item (realtime/logic/watch.py
    encodes it), or CHECK_WATCHES for the broadcaster to check itself. Only the first marking is kept
    (a redelivered record's check comes later, and the broadcaster has the first); False if the item
    was marked already."""
    ddb = client("dynamodb")
    key = {"PK": keys.booking_pk(event.booking_id), "SK": keys.event_sk(event.occurred_at, event.event_id)}
    try:
        ddb.update_item(
            TableName=get_settings().bookings_table,
            Key=to_item(key),
            UpdateExpression="SET #w = :w",
            ConditionExpression="attribute_exists(PK) AND attribute_not_exists(#w)",
            ExpressionAttributeNames={"#w": REALTIME_WATCHED},
            ExpressionAttributeValues=to_item({":w": watched}),
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


# --- the booking's realtime order (read by bookinghub/realtime) ------------------------------------------


def recent_event_items(booking_id: str, since: str) -> list[dict[str, Any]]:
    """The booking's event items that occurred at or after `since` (an ISO time), as stored (plain
    values): one strongly consistent Query of the booking's partition, from that time on."""
    request = {
        "TableName": get_settings().bookings_table,
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :from AND :to",
        "ExpressionAttributeValues": to_item(
            {
                ":pk": keys.booking_pk(booking_id),
                ":from": f"{keys.EVENT_SK_PREFIX}{since}",
                ":to": f"{keys.EVENT_SK_PREFIX}~",  # past every timestamp
            }
        ),
        "ConsistentRead": True,
    }
    return list(query_items(request))


def event_items(keys_: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Event items by (booking id, sort key), strongly consistent (one BatchGetItem per 100)."""
    from bookinghub.aws.batch import batch_get

    wanted = [{"PK": keys.booking_pk(booking_id), "SK": sk} for booking_id, sk in keys_]
    return batch_get(get_settings().bookings_table, wanted) if wanted else []


def claim_sequence(item: dict[str, Any]) -> dict[str, Any] | None:
    """Number an event item written without a sequence (the PMS outbox, conflict events, a change written
    by an older writer): the booking's next sequence, recorded on the item; returns the item as numbered
    (the one it already had, if an earlier delivery numbered it), None when its booking is gone.

    Two single-item writes: the booking's counter, then the item. A delivery stopped between the two
    leaves that sequence unused (a gap the realtime readers step over); its redelivery takes the next."""
    ddb = client("dynamodb")
    table = get_settings().bookings_table
    key = {"PK": item["PK"], "SK": item["SK"]}
    found = ddb.get_item(TableName=table, Key=to_item(key), ConsistentRead=True).get("Item")
    if found is None:
        return None
    current = from_item(found)
    if SEQUENCE in current:
        return current
    try:
        counted = ddb.update_item(
            TableName=table,
            Key=to_item({"PK": item["PK"], "SK": keys.BOOKING_SK}),
            UpdateExpression="SET #seq = if_not_exists(#seq, :zero) + :one",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames={"#seq": SEQUENCE},
            ExpressionAttributeValues=to_item({":zero": 0, ":one": 1}),
            ReturnValues="UPDATED_NEW",
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return None
    occurred = str(current["SK"]).removeprefix(keys.EVENT_SK_PREFIX).split("#", 1)[0]  # (the key's)
    numbered = _numbered({**current, "occurred_at": occurred}, int(from_item(counted["Attributes"])[SEQUENCE]))
    try:
        ddb.update_item(
            TableName=table,
            Key=to_item(key),
            UpdateExpression="SET #seq = :seq, #rt = :rt",
            ConditionExpression="attribute_not_exists(#seq)",
            ExpressionAttributeNames={"#seq": SEQUENCE, "#rt": REALTIME_ID},
            ExpressionAttributeValues=to_item({":seq": numbered[SEQUENCE], ":rt": numbered[REALTIME_ID]}),
        )
    except ddb.exceptions.ConditionalCheckFailedException:  # a concurrent delivery numbered it first
        again = ddb.get_item(TableName=table, Key=to_item(key), ConsistentRead=True).get("Item")
        return from_item(again) if again else None
    return {**current, **numbered}
