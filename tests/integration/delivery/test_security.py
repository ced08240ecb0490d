"""SSRF at every attempt, secret rotation, and seed 003's trusted producer routes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bookinghub.delivery.logic.fanout import fan_out
from infra.local.invoke import invoke
from infra.local.resources import LocalResources
from tests.conftest import load_event, reset_caches
from tests.integration.delivery.conftest import (
    Receiver,
    admin_event,
    deliveries_of,
    pump,
    subscription,
)


def test_a_host_that_now_resolves_inside_the_network_is_refused_at_the_attempt(
    website: Any, receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.core import urls

    answers = {"hooks.example.com": ["93.184.216.34"]}
    monkeypatch.setattr(urls, "resolve", lambda host: answers[host])
    endpoint, _ = subscription("https://hooks.example.com/in")  # public when registered
    answers["hooks.example.com"] = ["10.0.0.7"]  # DNS rebinding
    fan_out(admin_event())
    pump(delivery_env)
    (delivery,) = deliveries_of(endpoint)
    assert delivery.status == "failed"
    assert "destination refused" in (delivery.last_error or "")
    for metadata in ("169.254.169.254", "[::ffff:169.254.169.254]", "[fd00::1]"):
        answers["hooks.example.com"] = ["93.184.216.34"]
        other, _ = subscription("https://hooks.example.com/x")
        from bookinghub.delivery.dal import endpoints as store

        stored, _ = store.get_endpoint(other)
        assert stored is not None
        store.put_endpoint(stored.model_copy(update={"url": f"https://{metadata}/latest"}), new=False)
        fan_out(admin_event())
        pump(delivery_env)
        assert {d.status for d in deliveries_of(other)} == {"failed"}, metadata


def test_plain_http_is_refused_unless_loopback_is_allowed(
    website: Any, receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, _ = subscription(receiver.url("/plain"))
    monkeypatch.setenv("HUB_ALLOW_INSECURE_WEBHOOKS", "false")  # as on AWS
    reset_caches()
    fan_out(admin_event())
    pump(delivery_env)
    assert receiver.received == []
    assert {d.status for d in deliveries_of(endpoint)} == {"failed"}


def test_rotation_signs_with_both_until_the_grace_period_ends(
    website: Any, receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.core.auth import principal_from_claims
    from bookinghub.delivery.logic.admin import rotate_secret

    endpoint, old = subscription(receiver.url("/rot"))
    principal = principal_from_claims(
        {
            "sub": "s",
            "email": "ops@demo.example",
            "token_use": "id",
            "cognito:groups": "admin",
            "custom:organisation_id": "demo-org",
        }
    )
    new = rotate_secret(principal, endpoint)["secret"]
    assert new != old
    fan_out(admin_event())
    pump(delivery_env)
    (got,) = [r for r in receiver.delivered() if r["path"] == "/rot"]
    assert Webhook(new).verify(got["body"], got["headers"])
    assert Webhook(old).verify(got["body"], got["headers"])
    assert len(got["headers"]["X-Webhook-Signature"].split(",")) == 2

    monkeypatch.setenv("HUB_DELIVERY_ROTATION_GRACE_SECONDS", "0")
    reset_caches()
    newest = rotate_secret(principal, endpoint)["secret"]
    fan_out(admin_event())
    pump(delivery_env)
    last = [r for r in receiver.delivered() if r["path"] == "/rot"][-1]
    assert Webhook(newest).verify(last["body"], last["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(last["body"], last["headers"])


PRODUCER_TOKEN = "producer-secret-for-tests"


def _producer(method: str, body: Any = None, token: str | None = PRODUCER_TOKEN, **query: str) -> Any:
    event = load_event("admin_api/list_bookings")
    event.update(
        resource="/api/webhooks/booking-events",
        path="/api/webhooks/booking-events",
        httpMethod=method,
        pathParameters=None,
        queryStringParameters=query or None,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} or None,
        body=json.dumps(body) if body is not None else None,
        isBase64Encoded=False,
    )
    event["requestContext"].pop("authorizer", None)
    event["headers"] = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    response = invoke("booking_events_api", event)
    return response["statusCode"], json.loads(response["body"])


def test_seed_003_producer_routes(website: Any, receiver: Receiver, delivery_env: LocalResources) -> None:
    from bookinghub.aws.keys import booking_id_for
    from tests.integration.conftest import post_sync, seed_body, snapshot_tables

    endpoint, _ = subscription(receiver.url("/make"), event_types=["booking.cancelled"])
    assert _producer("GET", token=None)[0] == 401
    assert _producer("GET", token="wrong")[0] == 401
    status, health = _producer("GET", organisation_id="demo-org")
    assert status == 200, health
    assert health["status"] == "healthy"
    assert [e["id"] for e in health["endpoints"]] == [endpoint]

    status, answer = post_sync(seed_body(source_booking_id="src-prod-1"))
    assert status == 200, answer
    booking_id = booking_id_for("test-website", "src-prod-1")
    pump(delivery_env)  # the sync's own event fanned out first, so what follows starts from rest
    before = snapshot_tables()
    assert _producer("POST", {"event_type": "booking.cancelled", "booking_id": "x"})[0] == 400
    assert _producer("POST", {"event_type": "booking.cancelled", "booking_id": booking_id}, token="no")[0] == 401
    assert snapshot_tables() == before  # a refused event creates no delivery
    status, answer = _producer(
        "POST",
        {
            "event_type": "booking.cancelled",
            "booking_id": booking_id,
            "changed_fields": ["status"],
            "data": {"status": "cancelled"},
        },
    )
    assert status == 202, answer
    assert answer["queued"] == 2  # the subscription, and the website's sync back (not its own change)
    pump(delivery_env)
    (made,) = [json.loads(r["body"]) for r in receiver.delivered() if r["path"] == "/make"]
    assert made["event_type"] == "booking.cancelled"
    assert made["booking_details"]["booking_number"] == "HW-000023"
    assert made["client_info"]["email"] == "john@example.com"
