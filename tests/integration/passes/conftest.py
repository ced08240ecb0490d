"""Fixtures of the payments -> passes -> pincodes tests: moto (the `aws` fixture), the Rooms Event Hub
sandbox on a loopback werkzeug server, demo-org's Rooms integration pointing at it, and Stripe-signed
webhook requests built from the sample events."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
import stripe
from botocore.exceptions import ClientError
from werkzeug.serving import make_server

from infra.local.invoke import invoke
from infra.local.resources import LocalResources
from infra.local.sandbox.rooms_event_hub import create_app, seed_rooms_demo
from tests.conftest import load_event, reset_caches

STRIPE_SECRET = "whsec_test_passes_integration"
PAYMENT_INTENT = "pi_3SampleIntent0001"
GUEST_EMAIL = "john@example.com"
OTHER_ORG_KEY = "other_org_sk_zzzzz"


@dataclass
class RoomsSandbox:
    base_url: str

    def calls(self) -> list[dict[str, Any]]:
        response = requests.get(f"{self.base_url}/_calls", timeout=5)
        response.raise_for_status()
        return list(response.json())

    def misbehave(self, *, times: int, fail_with: int | None = None, delay_seconds: float = 0) -> None:
        command: dict[str, Any] = {"times": times, "delay_seconds": delay_seconds}
        if fail_with is not None:
            command["fail_with"] = fail_with
        requests.post(f"{self.base_url}/_control", json=command, timeout=5).raise_for_status()


@pytest.fixture
def rooms() -> Iterator[RoomsSandbox]:
    app = create_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield RoomsSandbox(base_url=f"http://127.0.0.1:{server.port}")
    finally:
        app.stop()  # releases a delayed answer at once
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def hub(aws: LocalResources, test_website: Any, rooms: RoomsSandbox, monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto + test-website (demo-org, key test_sk_xxxxx) + demo-org's Rooms integration on the sandbox."""
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET)
    monkeypatch.setenv("HUB_ALLOW_INSECURE_WEBHOOKS", "true")  # the sandbox is plain http on loopback
    monkeypatch.setenv("HUB_ROOMS_TIMEOUT_SECONDS", "2")
    reset_caches()
    return seed_rooms_demo(rooms.base_url)


# --- Stripe webhook requests ----------------------------------------------------------------------------


def stripe_event(sample: str = "checkout_session_completed", **changes: Any) -> dict[str, Any]:
    """A sample Stripe event (events/stripe_webhook/<sample>.json's body); `changes` replace top-level
    keys, `object=` entries are merged into data.object and `metadata=` replaces its metadata."""
    event = json.loads(load_event(f"stripe_webhook/{sample}")["body"])
    obj = event["data"]["object"]
    obj.update(changes.pop("object", {}))
    if "metadata" in changes:
        obj["metadata"] = changes.pop("metadata")
    event.update(changes)
    return event


def metadata(**changes: Any) -> dict[str, Any]:
    """The sample metadata with fields replaced (None removes one)."""
    base = stripe_event()["data"]["object"]["metadata"]
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: str, *, secret: str = STRIPE_SECRET, timestamp: int | None = None) -> str:
    return str(stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp or int(time.time())))


def webhook_request(payload: str, signature: str | None) -> dict[str, Any]:
    event = load_event("stripe_webhook/checkout_session_completed")
    event["body"] = payload
    for headers in (event["headers"], event["multiValueHeaders"]):
        headers.pop("Stripe-Signature")
        if signature is not None:
            headers["Stripe-Signature"] = signature if headers is event["headers"] else [signature]
    return event


def post_stripe(payload: dict[str, Any] | str, *, signature: str | None = "sign") -> tuple[int, dict[str, Any]]:
    """POST a Stripe event through the stripe_webhook handler; signed with the test secret by default."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    header = sign(text) if signature == "sign" else signature
    response = invoke("stripe_webhook", webhook_request(text, header))
    return response["statusCode"], json.loads(response["body"])


# --- The PassIssuance queue and its consumer ------------------------------------------------------------


def sqs() -> Any:
    return boto3.client("sqs", region_name="us-east-1")


def receive(aws: LocalResources, queue: str = "PassIssuance", dlq: bool = False) -> list[dict[str, Any]]:
    url = (aws.dlq_urls if dlq else aws.queue_urls)[queue]
    response = sqs().receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"], WaitTimeSeconds=0
    )
    return list(response.get("Messages", []))


def sqs_event(messages: list[dict[str, Any]], aws: LocalResources) -> dict[str, Any]:
    """Lambda's SQS event for received messages (the sample event as template)."""
    arn = sqs().get_queue_attributes(QueueUrl=aws.queue_urls["PassIssuance"], AttributeNames=["QueueArn"])
    template = load_event("issue_pincodes/pass_queued")["Records"][0]
    records = []
    for message in messages:
        record = json.loads(json.dumps(template))
        record.update(
            messageId=message["MessageId"],
            receiptHandle=message["ReceiptHandle"],
            body=message["Body"],
            md5OfBody=message["MD5OfBody"],
            attributes=message["Attributes"],
            eventSourceARN=arn["Attributes"]["QueueArn"],
        )
        records.append(record)
    return {"Records": records}


def run_consumer(aws: LocalResources) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Receive what is visible on PassIssuance and hand it to issue_pincodes, deleting what succeeded
    (as Lambda's event source mapping does). Returns (messages, the consumer's response)."""
    messages = receive(aws)
    if not messages:
        return [], None
    result = invoke("issue_pincodes", sqs_event(messages, aws))
    failed = {failure["itemIdentifier"] for failure in result["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] not in failed:
            sqs().delete_message(QueueUrl=aws.queue_urls["PassIssuance"], ReceiptHandle=message["ReceiptHandle"])
    return messages, result


def let_backoff_pass(aws: LocalResources, messages: list[dict[str, Any]]) -> None:
    """What the passing of time does for a postponed message: make it visible again now."""
    for message in messages:
        try:
            sqs().change_message_visibility(
                QueueUrl=aws.queue_urls["PassIssuance"], ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        except ClientError as error:  # a message the consumer already finished (deleted)
            if error.response["Error"]["Code"] not in ("ReceiptHandleIsInvalid", "MessageNotInflight"):
                raise


def get_pass(pass_id: str, api_key: str = "test_sk_xxxxx") -> tuple[int, dict[str, Any]]:
    event = load_event("passes/get_pass")
    event["path"] = f"/api/passes/{pass_id}"
    event["pathParameters"] = {"pass_id": pass_id}
    event["headers"]["X-API-Key"] = api_key
    event["multiValueHeaders"]["X-API-Key"] = [api_key]
    response = invoke("passes", event)
    return response["statusCode"], json.loads(response["body"])


def find_pass(query: dict[str, str] | None, api_key: str | None = "test_sk_xxxxx") -> tuple[int, dict[str, Any]]:
    event = load_event("passes/find_by_payment_intent")
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    for headers in (event["headers"], event["multiValueHeaders"]):
        headers.pop("X-API-Key")
        if api_key is not None:
            headers["X-API-Key"] = api_key if headers is event["headers"] else [api_key]
    response = invoke("passes", event)
    return response["statusCode"], json.loads(response["body"])


def call_logs() -> list[dict[str, Any]]:
    """Every integration call log row, oldest first (payloads parsed)."""
    from bookinghub.aws.clients import client
    from bookinghub.aws.codec import from_item
    from bookinghub.core.settings import get_settings

    items = [from_item(i) for i in client("dynamodb").scan(TableName=get_settings().integration_logs_table)["Items"]]
    rows = sorted((i for i in items if i.get("entity") == "integration_log"), key=lambda i: i["SK"])
    for row in rows:
        for name in ("request_payload", "response_payload"):
            if isinstance(row.get(name), str):
                row[name] = json.loads(row[name])
    return rows
