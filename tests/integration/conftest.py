"""Integration tests run against in-process moto with the topology's real tables, queues and key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local import moto_dynamodb
from infra.local.resources import LocalResources, create_resources
from tests.conftest import reset_caches

# The transactions `make run` has (AWS's semantics, no table copies): the same moto as the local stack
moto_dynamodb.install()

DEMO_ORG = "demo-org"
TEST_KEY = "test_sk_xxxxx"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalResources]:
    with mock_aws():
        resources = create_resources(boto3.Session(region_name="us-east-1"))
        for name, value in resources.env.items():
            monkeypatch.setenv(name, value)
        reset_caches()
        yield resources
    reset_caches()


@pytest.fixture
def test_website(aws: LocalResources) -> Any:
    from bookinghub.websites.logic.registry import register_website

    return register_website(
        website_id="test-website",
        organisation_id=DEMO_ORG,
        name="Test Website",
        domain="test.example.com",
        api_key=TEST_KEY,
        webhook_secret="whsec_local_demo_only",
    )


def table_items(table_name: str) -> list[dict[str, Any]]:
    """Every item of a table (tests only: small data)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    return client.scan(TableName=table_name)["Items"]


# --- Inbound booking sync (tests/integration/test_booking_sync_*.py) ---------------------------------

SYNC_KEY_OTHER = "other_sk_yyyyy"


def snapshot_tables() -> dict[str, list[str]]:
    """Every item of every topology table, canonically ordered: equal snapshots mean nothing was written."""
    import json

    from infra import topology
    from infra.local.resources import table_name

    snapshot: dict[str, list[str]] = {}
    for table in topology.TABLES:
        items = _scan(table_name(table))
        snapshot[table.name] = sorted(json.dumps(item, sort_keys=True, default=repr) for item in items)  # binary: repr
    return snapshot


def _scan(table_name: str) -> list[dict[str, Any]]:
    # The hub's own cached client: creating a boto3 client costs ~50 ms
    from bookinghub.aws.clients import client

    pages = client("dynamodb").get_paginator("scan").paginate(TableName=table_name)
    return [item for page in pages for item in page["Items"]]


def sync_event(
    body: dict[str, Any] | str | bytes,
    *,
    api_key: str | None = TEST_KEY,
    b64: bool = False,
    content_type: str | None = "application/json",
) -> dict:
    """The sample POST /api/bookings/sync event with another body, key and Content-Type (None: no such header)."""
    import base64
    import json

    from tests.conftest import load_event

    event = load_event("sync_bookings/booking_created")
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    raw = raw.encode("utf-8", errors="surrogatepass") if isinstance(raw, str) else raw
    event["body"] = base64.b64encode(raw).decode() if b64 else raw.decode("utf-8", errors="surrogatepass")
    event["isBase64Encoded"] = b64
    for headers in (event["headers"], event["multiValueHeaders"]):
        single = headers is event["headers"]
        for name, value in (("X-API-Key", api_key), ("Content-Type", content_type)):
            headers.pop(name)
            if value is not None:
                headers[name] = value if single else [value]
    return event


def post_sync(body: dict[str, Any] | str | bytes, **options: Any) -> tuple[int, dict[str, Any]]:
    """Invoke the sync_bookings handler as Lambda would; returns (status, parsed JSON body)."""
    import json

    from infra.local.invoke import invoke

    response = invoke("sync_bookings", sync_event(body, **options))
    return response["statusCode"], json.loads(response["body"])


def seed_body(**changes: Any) -> dict[str, Any]:
    """Seed 002's booking.created body, with top-level fields replaced (None removes a field)."""
    from tests.conftest import load_event

    body = load_event("sync_bookings/seed_booking_created.body")
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def other_website(test_website: Any) -> Any:
    from bookinghub.websites.logic.registry import register_website

    return register_website(
        website_id="other-website",
        organisation_id=DEMO_ORG,
        name="Other Website",
        domain="other.example.com",
        api_key=SYNC_KEY_OTHER,
    )


def booking_item(booking_id: str) -> dict[str, Any] | None:
    """The booking's item as stored, storage layout (keys, index keys) included: for tests of that layout
    (bookings.dal returns the booking without it)."""
    from bookinghub.aws import keys
    from bookinghub.aws.clients import client
    from bookinghub.aws.codec import from_item
    from bookinghub.core.settings import get_settings

    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key={"PK": {"S": keys.booking_pk(booking_id)}, "SK": {"S": keys.BOOKING_SK}},
        ConsistentRead=True,
    )
    return from_item(response["Item"]) if "Item" in response else None


def stream_records() -> list[dict[str, Any]]:
    """The Bookings stream's records since the last call, as the outbox relay's trigger hands them to
    it (Lambda's record shape, through the trigger's filter)."""
    import json

    from moto.dynamodb.models import dynamodb_backends

    from bookinghub.core.settings import get_settings
    from infra import topology
    from infra.local.streams import matches_any, stream_record

    table = dynamodb_backends["123456789012"]["us-east-1"].get_table(get_settings().bookings_table)
    shard: Any = table.stream_shard
    start = getattr(shard, "relayed_up_to", 0)  # how far an earlier call has read this shard
    raws = list(shard.items[start:])
    shard.relayed_up_to = start + len(raws)
    trigger = topology.function("outbox_relay").stream
    assert trigger is not None
    patterns = topology.stream_filters(trigger)
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{table.name}/stream/local"
    records = [stream_record(json.loads(json.dumps(raw.record, default=str)), arn, "us-east-1") for raw in raws]
    return [record for record in records if matches_any(record, patterns)]


def relay_stream() -> None:
    """What the deployed stream trigger does: the Bookings stream's new records through outbox_relay
    (which writes each booking change's timeline item and queues what a delivery can come of)."""
    from infra.local.invoke import invoke

    records = stream_records()
    if records:
        assert invoke("outbox_relay", {"Records": records}) == {"batchItemFailures": []}


def outbox_events(booking_id: str) -> list[dict[str, Any]]:
    """The domain events (timeline items, SK EVENT#...) stored beside a booking, oldest first, once the
    stream's pending records have been relayed."""
    import json

    from bookinghub.aws import keys
    from bookinghub.aws.clients import client
    from bookinghub.aws.codec import from_item
    from bookinghub.core.settings import get_settings

    relay_stream()
    response = client("dynamodb").query(
        TableName=get_settings().bookings_table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :event)",
        ExpressionAttributeValues={":pk": {"S": keys.booking_pk(booking_id)}, ":event": {"S": keys.EVENT_SK_PREFIX}},
    )
    from bookinghub.bookings.dal.logs import event_from_outbox_item

    items = []
    for raw in response["Items"]:
        # The item with its event's fields as the event reads them (event_item stores the time only in the
        # sort key, leaves out changed_fields that are the data's keys, and may compress the data)
        item = from_item(raw)
        event = event_from_outbox_item(item)
        items.append({**item, **event.model_dump(exclude_none=True), "data": json.dumps(event.data)})
    return items


def sync_logs() -> list[dict[str, Any]]:
    """Every sync log, oldest first, as its SyncLog's fields, once the stream's pending records have been
    relayed: the IntegrationLogs rows and the inbound syncs' timeline items (Bookings table)."""
    from bookinghub.aws.codec import from_item
    from bookinghub.bookings.dal.logs import INBOUND_SYNC, event_from_outbox_item, inbound_sync_log, sync_log_from_item
    from bookinghub.core.settings import get_settings

    relay_stream()
    rows = [from_item(item) for item in _scan(get_settings().integration_logs_table)]
    logs = [sync_log_from_item(row) for row in rows if str(row["PK"]).startswith("SYNCLOG#")]
    items = [from_item(item) for item in _scan(get_settings().bookings_table)]
    logs += [inbound_sync_log(event_from_outbox_item(item)) for item in items if item.get(INBOUND_SYNC)]
    return [log.model_dump(exclude_none=True) for log in sorted(logs, key=lambda log: (log.created_at, log.id))]


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make each moto DynamoDB request atomic, as every DynamoDB request is in AWS.

    moto alone checks a transaction's conditions and applies its writes without a lock, and rolls a
    failed one back by restoring whole-table copies. The adapter installed above (infra.local.moto_dynamodb)
    already serializes item reads, writes and transactions; this holds a lock around every DynamoDB
    request, parsing included, for the tests that race requests.
    """
    import threading

    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    call_action = DynamoHandler.call_action

    def atomic_call_action(self: DynamoHandler) -> Any:
        with lock:
            return call_action(self)

    monkeypatch.setattr(DynamoHandler, "call_action", atomic_call_action)


@pytest.fixture
def captured_logs() -> Iterator[Callable[[], str]]:
    """What the hub's Powertools logger writes (JSON lines), captured through its own formatter.

    Powertools binds its handler to the sys.stdout of import time, which capsys does not replace.
    """
    import io
    import logging

    from bookinghub.core.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    std_logger = logging.getLogger(logger.service)
    std_logger.addHandler(handler)
    try:
        yield stream.getvalue
    finally:
        std_logger.removeHandler(handler)
