"""Cost benchmark: what AWS bills per million requests of each entry point. Prints figures; asserts nothing.

Each entry point runs the real handlers, in this process, against in-process moto (`mock_aws`) holding the
topology's own tables, queues and key (infra/local/resources.create_resources) and the local sandboxes
(Rooms Event Hub, Beds24, a website's receiver) on loopback. Queues are drained as Lambda's event source
mapping does (receive, invoke, delete) and the Bookings stream is handed to its consumers through the
topology's filters: the booking's change to the outbox relay, the relay's timeline item to the realtime
broadcaster (stage `realtime`: the one read of the event's four keys' watches; with nobody subscribed
that is all, as no key's timeline is written. With `--subscribed`, one live subscriber per key (booking,
website, customer, organisation: registered and watched before each event, unmetered), so the stage
also prices the placement in each key's timeline, the subscriber queries and the four post_to_connection).
bench/cost_meter.py counts every AWS call and sizes every item (the billing rules are there). The figures
are per request, averaged over `--requests` after `--warm` unmetered requests (warm execution
environments: cold starts are bench/cold_start.py's business).

Lambda duration is measured here, on moto (about 1 ms per DynamoDB call against 3-10 ms on AWS), so the
GB-seconds are a floor; every other figure is counted, not estimated.

Run: python bench/cost.py [--json] [--requests 10]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python"), str(ROOT / "bench")]
for _name, _value in {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench-local-only",
    "AWS_SECRET_ACCESS_KEY": "bench-local-only",
    "POWERTOOLS_SERVICE_NAME": "bookinghub",
    "POWERTOOLS_METRICS_NAMESPACE": "BookingHubBench",
    "POWERTOOLS_TRACE_DISABLED": "true",  # X-Ray is priced on its own (and sampled); not counted here
}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from cost_meter import CostMeter, StageUse  # noqa: E402 - after the path and environment are set

# Public prices (us-east-1, 2026): per unit
PRICES = {
    "api_request": 3.50e-6,  # API Gateway REST, first 333M
    "write_unit": 1.25e-6,  # DynamoDB on-demand write request unit
    "read_unit": 0.25e-6,  # DynamoDB on-demand read request unit
    "sqs_request": 0.40e-6,  # SQS standard, per 64 KB request
    "kms": 0.03 / 10_000,
    "secretsmanager": 0.05 / 10_000,
    "lambda_request": 0.20e-6,
    "lambda_gb_second": 0.0000133334,  # arm64
    "log_byte": 0.50 / 1024**3,  # CloudWatch Logs ingestion
    "websocket_message": 1.00e-6,  # API Gateway WebSocket, per message of up to 32 KB (frames are smaller)
}
# --subscribed: one live subscriber per filter key of every event (the watched case)
SUBSCRIBED = {"on": False}
BENCH_MANAGEMENT_URL = "https://bench.execute-api.us-east-1.amazonaws.com/prod"  # moto's management API
# Lambda's own START / END / REPORT lines for an invocation, ingested like ours (bytes, typical lengths)
PLATFORM_LOG_BYTES = 320

WEBSITE_ID, WEBSITE_KEY, WEBSITE_SECRET = "test-website", "test_sk_xxxxx", "whsec_bench_secret"
STRIPE_SECRET = "whsec_bench_stripe"  # noqa: S105 - a local sandbox secret
BEDS24_SECRET = "beds24-webhook-secret-for-bench"  # noqa: S105 - a local sandbox secret
ORG = "demo-org"


class CountingStream(io.TextIOBase):
    """Where handlers' stdout, stderr and log records go while measured: counted (UTF-8 bytes), dropped."""

    def __init__(self, meter: CostMeter) -> None:
        self.meter = meter

    def write(self, text: str) -> int:
        self.meter.logged(len(text.encode("utf-8")))
        if os.environ.get("BENCH_SHOW_LOGS"):
            sys.__stderr__.write(text)
        return len(text)


class Hub:
    """The handlers as Lambda runs them, each invocation timed and its output counted."""

    def __init__(self, meter: CostMeter, resources: Any) -> None:
        self.meter, self.resources = meter, resources
        self.sink = CountingStream(meter)

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        from infra import topology
        from infra.local.invoke import LocalLambdaContext, load_handler

        fn = topology.function(function)
        handler = load_handler(fn)
        context = LocalLambdaContext(function_name=fn.name, timeout_seconds=fn.timeout_seconds)
        for log_handler in logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"]).handlers:
            if isinstance(log_handler, logging.StreamHandler):
                log_handler.setStream(self.sink)  # Powertools' Logger keeps its own stdout handle
        with contextlib.redirect_stdout(self.sink), contextlib.redirect_stderr(self.sink):
            started = time.perf_counter()
            response = handler(event, context)
            elapsed = time.perf_counter() - started
        if self.meter.active:
            self.meter.lambda_ran(fn.memory_mb, elapsed)
            self.meter.logged(PLATFORM_LOG_BYTES)
        return response

    def http(self, function: str, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """An API Gateway REST request to `function`."""
        if self.meter.active:
            self.meter.api_request()
        response = self.invoke(function, event)
        return int(response["statusCode"]), json.loads(response["body"] or "{}")

    def drain(self, queue: str, function: str) -> int:
        """What the event source mapping does: receive a batch, invoke, delete the successes."""
        from bookinghub.aws.clients import client
        from infra import topology
        from infra.local.workers import failed_message_ids, sqs_record

        fn = topology.function(function)
        assert fn.queue is not None
        url = self.resources.queue_urls[queue]
        with self._unmetered():
            arn = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        handled = 0
        # The mapping's empty long polls are a fixed cost per queue (about 5 pollers x 3 a minute, ~650k
        # receives or $0.26 a month whatever the traffic), not a cost per message: stop when the queue is
        # empty (an unmetered look) instead of counting a final empty receive against the request.
        while self.queued(queue):
            received = client("sqs").receive_message(
                QueueUrl=url, MaxNumberOfMessages=fn.queue.batch_size, AttributeNames=["All"], WaitTimeSeconds=0
            )
            messages = received.get("Messages", [])
            if not messages:
                break
            event = {"Records": [sqs_record(m, arn["Attributes"]["QueueArn"], "us-east-1") for m in messages]}
            failed = failed_message_ids(self.invoke(function, event), [m["MessageId"] for m in messages])
            if failed:
                raise SystemExit(f"{function} failed {len(failed)} of {len(messages)} messages: {event}")
            client("sqs").delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
            )
            handled += len(messages)
        return handled

    def queued(self, queue: str) -> int:
        """Messages waiting in a queue (read unmetered: what the event source mapping would find)."""
        from bookinghub.aws.clients import client

        with self._unmetered():
            attributes = client("sqs").get_queue_attributes(
                QueueUrl=self.resources.queue_urls[queue], AttributeNames=["ApproximateNumberOfMessages"]
            )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    @contextlib.contextmanager
    def stream_tail(self, function: str = "outbox_relay") -> Iterator[list[dict[str, Any]]]:
        """The stream records written inside the block (taken from moto's shard: Lambda's stream reads
        are free), as the event source mapping's filter lets them through to `function`."""
        from cost_meter import _table

        from infra import topology
        from infra.local.streams import matches_any, stream_record

        trigger = topology.function(function).stream
        assert trigger is not None
        name = self.resources.env[topology.table(trigger.table).env_var]
        arn = self.resources.stream_arns[trigger.table]
        seen = len(_table(name).stream_shard.items)
        records: list[dict[str, Any]] = []
        yield records
        patterns = topology.stream_filters(trigger)
        for raw in _table(name).stream_shard.items[seen:]:  # the live table: a transaction may swap it
            record = stream_record(json.loads(json.dumps(raw.record, default=str)), arn, "us-east-1")
            if matches_any(record, patterns):
                records.append(record)

    @contextlib.contextmanager
    def _unmetered(self) -> Iterator[None]:
        active, self.meter.active = self.meter.active, False
        try:
            yield
        finally:
            self.meter.active = active


# --- The local providers ----------------------------------------------------------------------------------


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        if hasattr(app, "stop"):
            app.stop()
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def load_event(name: str) -> dict[str, Any]:
    return dict(json.loads((ROOT / "events" / f"{name}.json").read_text()))


# --- The entry points: setup(stack) -> one(index) runs one request through every stage -------------------

EntryPoint = Callable[[Hub, CostMeter, contextlib.ExitStack], Callable[[int], None]]


def sync_webhook(hub: Hub, meter: CostMeter, stack: contextlib.ExitStack) -> Callable[[int], None]:
    """POST /api/bookings/sync (an accepted create) -> its outbox event -> relay -> BookingEvents -> echo."""
    from infra.local.sandbox.website_receiver import create_app

    secrets = {WEBSITE_ID: WEBSITE_SECRET}
    receiver = stack.enter_context(serve(create_app(secrets)))
    _website(f"{receiver}/{WEBSITE_ID}/api/webhooks/onebooking")
    template = load_event("sync_bookings/booking_created")
    body = json.loads((ROOT / "events/sync_bookings/seed_booking_created.body.json").read_text())

    def one(index: int) -> None:
        body.update(source_booking_id=f"cost-{index:06d}", booking_ref=f"HW-{index:06d}")
        event = {**template, "body": json.dumps(body)}
        with hub.stream_tail() as records, meter.measuring("request"):
            status, answer = hub.http("sync_bookings", event)
        if status != 200 or answer.get("outcome") != "created":
            raise SystemExit(f"sync not accepted: {status} {answer}")
        _relay_and_deliver(hub, meter, records)

    return one


def admin_edit_sync_back(hub: Hub, meter: CostMeter, stack: contextlib.ExitStack) -> Callable[[int], None]:
    """PUT /api/bookings/{id} -> outbox event -> relay -> BookingEvents -> signed POST to the website."""
    from infra.local.sandbox.website_receiver import create_app

    secrets = {WEBSITE_ID: WEBSITE_SECRET}
    receiver = stack.enter_context(serve(create_app(secrets)))
    _website(f"{receiver}/{WEBSITE_ID}/api/webhooks/onebooking")
    sync_template = load_event("sync_bookings/booking_created")
    body = json.loads((ROOT / "events/sync_bookings/seed_booking_created.body.json").read_text())
    edit_template = load_event("admin_api/edit_booking")

    def one(index: int) -> None:
        body.update(source_booking_id=f"edit-{index:06d}", booking_ref=f"HE-{index:06d}")
        with hub.stream_tail() as created:  # the booking to edit (its own echo is drained, unmetered)
            status, synced = hub.http("sync_bookings", {**sync_template, "body": json.dumps(body)})
        assert status == 200, synced
        _relay_and_deliver(hub, meter, created, metered=False)
        booking_id = synced["booking_id"]
        event = json.loads(json.dumps(edit_template))
        event.update(
            path=f"/api/bookings/{booking_id}",
            pathParameters={"id": booking_id},
            body=json.dumps({"status": "cancelled", "admin_notes": f"Flight changed {index}"}),
        )
        event["headers"]["If-Match"] = '"1"'
        event["multiValueHeaders"]["If-Match"] = ['"1"']
        with hub.stream_tail() as records, meter.measuring("request"):
            status, answer = hub.http("admin_api", event)
        if status != 200:
            raise SystemExit(f"admin edit refused: {status} {answer}")
        _relay_and_deliver(hub, meter, records)

    return one


def stripe_pincode(hub: Hub, meter: CostMeter, stack: contextlib.ExitStack) -> Callable[[int], None]:
    """Stripe webhook (checkout.session.completed) -> pass -> PassIssuance -> pincode from Rooms."""
    import stripe

    from bookinghub.core.settings import get_settings
    from infra.local.sandbox.rooms_event_hub import create_app, seed_rooms_demo

    rooms = stack.enter_context(serve(create_app()))
    os.environ.update(STRIPE_WEBHOOK_SECRET=STRIPE_SECRET, HUB_ALLOW_INSECURE_WEBHOOKS="true")
    get_settings.cache_clear()
    _website(None)
    seed_rooms_demo(rooms)
    template = load_event("stripe_webhook/checkout_session_completed")
    payload = json.loads(template["body"])

    def one(index: int) -> None:
        payload["id"] = f"evt_cost_{index:06d}"
        payload["data"]["object"].update(id=f"cs_cost_{index:06d}", payment_intent=f"pi_cost_{index:06d}")
        text = json.dumps(payload)
        signature = stripe.WebhookSignature.generate_signature_header(text, STRIPE_SECRET, int(time.time()))
        event = json.loads(json.dumps(template))
        event["body"] = text
        event["headers"]["Stripe-Signature"] = signature
        event["multiValueHeaders"]["Stripe-Signature"] = [signature]
        with meter.measuring("request"):
            status, answer = hub.http("stripe_webhook", event)
        if status != 200:
            raise SystemExit(f"stripe webhook refused: {status} {answer}")
        with meter.measuring("consumer"):
            if hub.drain("PassIssuance", "issue_pincodes") != 1:
                raise SystemExit("no pass was queued for its pincode")

    return one


def beds24_event(hub: Hub, meter: CostMeter, stack: contextlib.ExitStack) -> Callable[[int], None]:
    """A Beds24 webhook -> stored event -> Beds24Events -> consumer re-reads the booking and applies it."""
    from bookinghub.beds24.logic.properties import register_property
    from bookinghub.core.settings import get_settings
    from infra.local.sandbox.beds24 import DEMO_PROPERTY_ID, DEMO_REFRESH_TOKEN, create_app

    sent: list[tuple[str, bytes, dict[str, str]]] = []

    def capture(url: str, *, data: bytes, headers: dict[str, str], timeout: float) -> Any:
        sent.append((url, data, dict(headers)))
        return type("Answer", (), {"status_code": 200})()

    hook = f"https://hub.example.com/api/integrations/beds24/webhook?token={BEDS24_SECRET}"
    sandbox = create_app(credit_limit=100_000, seed_demo=False, sender=capture, webhook_url=hook)
    sandbox.webhooks.retry_delay = 0
    base = stack.enter_context(serve(sandbox))
    os.environ.update(HUB_ALLOW_INSECURE_WEBHOOKS="true")
    get_settings.cache_clear()
    register_property(
        organisation_id=ORG,
        property_id="beach-hotel",
        name="Beach Hotel",
        beds24_property_id=DEMO_PROPERTY_ID,
        refresh_token=DEMO_REFRESH_TOKEN,
        webhook_secret=BEDS24_SECRET,
        base_url=f"{base}/v2",
        room_mapping={"501": "Deluxe Double", "502": "Family Suite"},
        time_zone="Asia/Bangkok",
        default_country="TH",
    )
    import requests

    token = requests.get(f"{base}/v2/authentication/token", headers={"refreshToken": DEMO_REFRESH_TOKEN}, timeout=5)
    headers = {"token": token.json()["token"]}
    webhook = load_event("beds24_webhook/booking_modified")
    arrival = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 10 * 86400))
    departure = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 13 * 86400))

    def one(index: int) -> None:
        booking = {"roomId": 501, "arrival": arrival, "departure": departure, "numAdult": 2, "firstName": "Anna"}
        booking.update(lastName=f"Lee{index}", email=f"anna{index}@example.com", country2="AU", price=10500)
        answer = requests.post(f"{base}/v2/bookings", json=[booking], headers=headers, timeout=5)
        assert answer.status_code == 201, answer.text
        assert sandbox.wait_for_webhooks(5)
        _url, data, sent_headers = sent.pop()
        event = json.loads(json.dumps(webhook))
        event.update(body=data.decode(), queryStringParameters={"token": BEDS24_SECRET})
        event["multiValueQueryStringParameters"] = {"token": [BEDS24_SECRET]}
        for name, value in sent_headers.items():
            event["headers"][name], event["multiValueHeaders"][name] = value, [value]
        with meter.measuring("request"):
            status, stored = hub.http("beds24_webhook", event)
        if status != 200 or stored.get("status") != "queued":
            raise SystemExit(f"beds24 webhook not queued: {status} {stored}")
        with meter.measuring("consumer"):
            if hub.drain("Beds24Events", "beds24_events") != 1:
                raise SystemExit("the beds24 event was not applied")

    return one


def _website(webhook_url: str | None) -> None:
    from bookinghub.websites.logic.registry import register_website

    os.environ.update(HUB_ALLOW_INSECURE_WEBHOOKS="true")
    register_website(
        website_id=WEBSITE_ID,
        organisation_id=ORG,
        name="Test Website",
        domain="test.example.com",
        webhook_url=webhook_url,
        api_key=WEBSITE_KEY,
        webhook_secret=WEBSITE_SECRET if webhook_url else None,
    )


def _relay_and_deliver(hub: Hub, meter: CostMeter, records: list[dict[str, Any]], *, metered: bool = True) -> None:
    """The stream's outbox records -> outbox_relay -> BookingEvents drained by booking_events; the relay's
    timeline items -> realtime_broadcaster (the timeline placement and the fan-out's subscriber queries)."""
    if not records:
        return
    if SUBSCRIBED["on"]:  # before the relay, which checks the watches once it has written the event
        _subscribe_every_key(records)
    relay = meter.measuring("relay") if metered else contextlib.nullcontext()
    with hub.stream_tail("realtime_broadcaster") as events, relay:
        result = hub.invoke("outbox_relay", {"Records": records})
        assert result == {"batchItemFailures": []}, result
    if events:
        with meter.measuring("realtime") if metered else contextlib.nullcontext():
            result = hub.invoke("realtime_broadcaster", {"Records": events})
            assert result == {"batchItemFailures": []}, result
    if not hub.queued("BookingEvents"):
        return  # an echo no subscription wants: decided by the relay, nothing for a consumer to run
    with meter.measuring("consumer") if metered else contextlib.nullcontext():
        hub.drain("BookingEvents", "booking_events")


def _subscribe_every_key(records: list[dict[str, Any]]) -> None:
    """One live subscriber (its own website-key connection) per filter key of each event the relay's
    stream records make, as a subscribe leaves it: the key watched, the subscription live. Unmetered:
    subscribing is not the entry point's cost."""
    from bookinghub.aws import keys
    from bookinghub.aws.codec import from_item
    from bookinghub.bookings.dal.bookings import change_event
    from bookinghub.bookings.dal.logs import NotAnOutboxEvent, outbox_event
    from bookinghub.realtime.dal import connections
    from bookinghub.realtime.logic.scope import Scope
    from bookinghub.realtime.logic.watch import filter_keys, user_of

    scope = Scope.of_website(WEBSITE_ID, ORG)
    for record in records:
        new, old = record["dynamodb"].get("NewImage") or {}, record["dynamodb"].get("OldImage")
        try:
            is_booking = new.get("SK", {}).get("S") == keys.BOOKING_SK
            event = change_event(new, old) if is_booking else outbox_event(new)
        except NotAnOutboxEvent:
            continue
        if event is None:
            continue
        email = from_item(new).get("customer_email") if is_booking else None
        for key in filter_keys(event, user_of(event, email)):
            connection_id = f"bench-{key}"
            connections.put_connection(connection_id, scope)
            connections.watch(key, ORG)  # a website's subscription: every key in its organisation's watches
            connections.add_subscription(connection_id, key, scope, state="live", watch_in=ORG)


ECHOES = {"sync_webhook"}  # entry points whose downstream stages end in an echo the consumer skips
ENTRY_POINTS: dict[str, EntryPoint] = {
    "sync_webhook": sync_webhook,
    "stripe_pincode": stripe_pincode,
    "beds24_event": beds24_event,
    "admin_edit_sync_back": admin_edit_sync_back,
}


# --- Filtered listings: what a page of GET /api/bookings?status=... reads --------------------------------


def listing(bookings: int, matching: int, page: int = 50) -> dict[str, Any]:
    """One website's `bookings` bookings, `matching` of them cancelled (clones of a real synced booking
    item, written unmetered), and the first page of `?status=cancelled` through admin_api."""
    import boto3
    from moto import mock_aws

    meter = CostMeter()
    meter.install()
    with mock_aws():
        _reset_hub_caches()
        from infra.local.resources import create_resources

        resources = create_resources(boto3.Session(region_name="us-east-1"))
        os.environ.update(resources.env)
        _reset_hub_caches()
        hub = Hub(meter, resources)
        _website(None)
        body = json.loads((ROOT / "events/sync_bookings/seed_booking_created.body.json").read_text())
        status, synced = hub.http(
            "sync_bookings", {**load_event("sync_bookings/booking_created"), "body": json.dumps(body)}
        )
        assert status == 200, synced
        from bookinghub.aws.clients import client

        ddb, table = client("dynamodb"), resources.env["BOOKINGS_TABLE_NAME"]
        original = ddb.get_item(
            TableName=table, Key={"PK": {"S": f"BOOKING#{synced['booking_id']}"}, "SK": {"S": "BOOKING"}}
        )
        template, old_id = original["Item"], synced["booking_id"]
        clones = []
        for n in range(bookings):
            booking_id = f"00000000-0000-4000-8000-{n:012d}"
            item = json.loads(json.dumps(template).replace(old_id, booking_id))
            day = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}"
            item["date_key"] = {"S": f"{day}#{booking_id}"}  # the Bookings* indexes' sort key
            item["status"] = {"S": "cancelled" if n % max(1, bookings // max(1, matching)) == 0 else "confirmed"}
            item["list_key"] = {"S": f"{WEBSITE_ID}#{item['status']['S']}"}  # its listing partition
            clones.append({"PutRequest": {"Item": item}})
        for start in range(0, len(clones), 25):
            ddb.batch_write_item(RequestItems={table: clones[start : start + 25]})
        event = load_event("admin_api/list_bookings")
        event["queryStringParameters"] = {"website_id": WEBSITE_ID, "status": "cancelled", "limit": str(page)}
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in event["queryStringParameters"].items()}
        with meter.measuring("request") as use:
            status, answer = hub.http("admin_api", event)
        assert status == 200, answer
        return {
            "bookings_in_partition": bookings,
            "cancelled": sum(1 for c in clones if c["PutRequest"]["Item"]["status"]["S"] == "cancelled"),
            "returned": len(answer.get("bookings") or answer.get("items") or []),
            "queries": use.calls["dynamodb.Query"],
            "items_read": use.items_read,
            "fetched": use.items_fetched,
            "read_units": use.read_units,
        }


def print_listings() -> None:
    print("\n== GET /api/bookings?website_id=...&status=cancelled&limit=50 (BookingsByWebsiteStatus: one partition) ==")
    for bookings, matching in ((200, 100), (1000, 20)):
        row = listing(bookings, matching)
        print(
            f"  {row['bookings_in_partition']:5} bookings, {row['cancelled']:4} cancelled: "
            f"{row['returned']:3} returned, "
            f"{row['queries']} queries, {row['items_read']:5} index entries read, {row['fetched']:3} bookings fetched, "
            f"{row['read_units']:g} RRU"
        )


# --- Running and pricing ----------------------------------------------------------------------------------


def measure(name: str, requests: int, warm: int) -> tuple[CostMeter, int]:
    import boto3
    from moto import mock_aws

    meter = CostMeter()
    meter.install()
    with mock_aws(), contextlib.ExitStack() as stack:
        _reset_hub_caches()
        from infra.local.resources import create_resources

        resources = create_resources(boto3.Session(region_name="us-east-1"))
        os.environ.update(resources.env)
        _reset_hub_caches()
        hub = Hub(meter, resources)
        one = ENTRY_POINTS[name](hub, meter, stack)
        for index in range(warm):
            one(1_000_000 + index)
        meter.stages.clear()
        meter.writes.clear()
        for index in range(requests):
            one(index)
    return meter, requests


def _reset_hub_caches() -> None:
    from bookinghub.aws.clients import client, endpoint_client
    from bookinghub.core.settings import get_settings

    get_settings.cache_clear()
    client.cache_clear()
    endpoint_client.cache_clear()  # the management API's: hooked by this entry point's meter
    with contextlib.suppress(ImportError):
        from bookinghub.aws.kms import forget_decrypted

        forget_decrypted()
    with contextlib.suppress(ImportError):
        from bookinghub.beds24.dal.properties import forget_recent_properties

        forget_recent_properties()
    with contextlib.suppress(ImportError):
        from bookinghub.delivery.dal.endpoints import forget_recent_endpoints
        from bookinghub.websites.dal.websites import forget_recent_api_keys

        forget_recent_api_keys()
        forget_recent_endpoints()


def total(meter: CostMeter) -> StageUse:
    out = StageUse()
    for use in meter.stages.values():
        out.calls.update(use.calls)
        for attribute in (
            "write_units",
            "read_units",
            "stream_records",
            "sqs_requests",
            "lambda_invocations",
            "lambda_gb_seconds",
            "api_requests",
            "log_bytes",
        ):
            setattr(out, attribute, getattr(out, attribute) + getattr(use, attribute))
    return out


def dollars(use: StageUse, per: int) -> dict[str, float]:
    """USD per request of each line, for a use measured over `per` requests."""
    kms = sum(n for call, n in use.calls.items() if call.startswith("kms."))
    secrets = sum(n for call, n in use.calls.items() if call.startswith("secretsmanager."))
    return {
        "API Gateway REST": use.api_requests * PRICES["api_request"] / per,
        "DynamoDB writes": use.write_units * PRICES["write_unit"] / per,
        "DynamoDB reads": use.read_units * PRICES["read_unit"] / per,
        "SQS": use.sqs_requests * PRICES["sqs_request"] / per,
        "KMS": kms * PRICES["kms"] / per,
        "Secrets Manager": secrets * PRICES["secretsmanager"] / per,
        "Lambda requests": use.lambda_invocations * PRICES["lambda_request"] / per,
        "Lambda GB-s": use.lambda_gb_seconds * PRICES["lambda_gb_second"] / per,
        "CloudWatch Logs": use.log_bytes * PRICES["log_byte"] / per,
        "WebSocket messages": use.calls["apigatewaymanagementapi.PostToConnection"] * PRICES["websocket_message"] / per,
    }


def savings(meter: CostMeter, per: int, *, echo: bool) -> dict[str, float]:
    """USD per million requests what is left of issue 11's data-model list would save, from what was written
    (the timeline items and an echo's relay are kept on purpose: they are shown for the arithmetic)."""
    writes = meter.writes
    booking_index = sum(w.index_units - w.index_units_keys_only for w in writes if w.table.endswith("Bookings"))
    sync_log = sum(w.units + w.index_units for w in writes if w.kind.startswith("SYNCLOG"))
    outbox = sum(w.units for w in writes if w.kind.endswith("/EVENT"))
    relay = meter.stages.get("relay", StageUse())
    consumer = meter.stages.get("consumer", StageUse())
    # Only a website's own change is an echo: the relay, queue and consumer then do nothing useful
    downstream = sum(dollars(relay, per).values()) + sum(dollars(consumer, per).values()) if echo else 0.0
    return {
        "bookings GSIs keys-only (INCLUDE lies between)": booking_index * PRICES["write_unit"] / per * 1e6,
        "sync log as one log line instead of an item": sync_log * PRICES["write_unit"] / per * 1e6,
        "timeline event items (kept: realtime, GET .../events)": outbox * PRICES["write_unit"] / per * 1e6,
        "downstream of an echo (relay: timeline + subscriptions)": downstream * 1e6,
    }


def report(name: str, meter: CostMeter, per: int) -> dict[str, Any]:
    use = total(meter)
    return {
        "usd_per_million": sum(dollars(use, per).values()) * 1e6,
        "calls": {call: count / per for call, count in sorted(use.calls.items())},
        "write_units": use.write_units / per,
        "read_units": use.read_units / per,
        "log_bytes": round(use.log_bytes / per),
        "stages": {
            stage: {
                "usd_per_million": sum(dollars(s, per).values()) * 1e6,
                "lambda_ms": s.lambda_gb_seconds,
                "write_units": s.write_units / per,
                "read_units": s.read_units / per,
                "calls": {call: count / per for call, count in sorted(s.calls.items())},
            }
            for stage, s in meter.stages.items()
        },
        "writes": _writes(meter, per),
        "savings_usd_per_million": savings(meter, per, echo=name in ECHOES),
    }


def _writes(meter: CostMeter, per: int) -> dict[str, dict[str, float]]:
    rows: dict[str, Counter[str]] = {}
    for write in meter.writes:
        row = rows.setdefault(f"{write.table.split('-')[-1]}:{write.kind}", Counter())
        row["items"] += 1
        row["units"] += write.units
        row["index_units"] += write.index_units
        row["index_units_keys_only"] += write.index_units_keys_only
    return {kind: {k: v / per for k, v in row.items()} for kind, row in sorted(rows.items())}


def print_report(name: str, meter: CostMeter, per: int) -> None:
    use = total(meter)
    print(f"\n== {name}: {per} requests, per request ==")
    for stage, stage_use in meter.stages.items():
        calls = ", ".join(f"{call} {n / per:g}" for call, n in sorted(stage_use.calls.items()))
        print(f"  [{stage}] {calls or 'no AWS calls'}")
    print("  DynamoDB items written (table:PK/SK kind: items, table units, GSI units, GSI units if keys-only):")
    for kind, row in _writes(meter, per).items():
        print(
            f"    {kind:<42} {row['items']:4g} items  {row['units']:5g} WRU  {row['index_units']:5g} GSI WRU"
            f"  ({row['index_units_keys_only']:g} keys-only)"
        )
    lines = [
        ("API Gateway REST", f"{use.api_requests / per:g} req x $3.50/M"),
        ("DynamoDB writes", f"{use.write_units / per:g} WRU x $1.25/M"),
        ("DynamoDB reads", f"{use.read_units / per:g} RRU x $0.25/M"),
        ("SQS", f"{use.sqs_requests / per:g} req x $0.40/M"),
        ("KMS", f"{sum(n for c, n in use.calls.items() if c.startswith('kms.')) / per:g} calls x $0.03/10k"),
        (
            "Secrets Manager",
            f"{sum(n for c, n in use.calls.items() if c.startswith('secretsmanager.')) / per:g} calls x $0.05/10k",
        ),
        ("Lambda requests", f"{use.lambda_invocations / per:g} inv x $0.20/M"),
        ("Lambda GB-s", f"{use.lambda_gb_seconds / per:.6f} GB-s x $0.0000133334 (arm64, moto-speed duration)"),
        ("CloudWatch Logs", f"{use.log_bytes / per:.0f} B x $0.50/GB"),
    ]
    priced = dollars(use, per)
    for label, arithmetic in lines:
        print(f"  {label:<17} {arithmetic:<72} = ${priced[label] * 1e6:8.2f} /M")
    print(f"  {'TOTAL':<17} {'':<72} = ${sum(priced.values()) * 1e6:8.2f} /M")
    print(f"  stream records: {use.stream_records / per:g} (read by Lambda for free)")
    for stage, stage_use in meter.stages.items():
        priced = dollars(stage_use, per)
        parts = ", ".join(f"{label} ${usd * 1e6:.2f}" for label, usd in priced.items() if usd)
        print(
            f"  stage {stage:<9} ${sum(priced.values()) * 1e6:8.2f} /M  ({stage_use.write_units / per:g} WRU, "
            f"{stage_use.read_units / per:g} RRU: {parts})"
        )
    print("  what is left to save in the data model (issue 11's list):")
    for change, saved in savings(meter, per, echo=name in ECHOES).items():
        print(f"    {change:<62} ${saved:7.2f} /M")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the arithmetic")
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--warm", type=int, default=2, help="unmetered requests first (warm environments)")
    parser.add_argument("--only", choices=sorted(ENTRY_POINTS), action="append")
    parser.add_argument("--listings", action="store_true", help="also what a status-filtered page reads")
    parser.add_argument(
        "--subscribed", action="store_true", help="one live real-time subscriber per filter key of every event"
    )
    args = parser.parse_args()
    if args.subscribed:
        SUBSCRIBED["on"] = True
        os.environ["REALTIME_MANAGEMENT_URL"] = BENCH_MANAGEMENT_URL
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    results = {}
    for name in args.only or ENTRY_POINTS:
        meter, per = measure(name, args.requests, args.warm)
        if args.json:
            full = report(name, meter, per)
            results[name] = full
        else:
            print_report(name, meter, per)
    if args.json:
        print(json.dumps(results, indent=2))
    elif args.listings:
        print_listings()


if __name__ == "__main__":
    main()
