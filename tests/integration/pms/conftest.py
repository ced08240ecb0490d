"""PMS integration tests: in-process moto with the topology's resources, the Cloudbeds sandbox on loopback,
handlers invoked as Lambda would, consumers drained from their queues."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra import topology
from infra.local.resources import LocalResources
from infra.local.sandbox import cloudbeds_data
from infra.local.sandbox.cloudbeds import CloudbedsSandbox
from infra.local.servers import ServerThread
from tests.integration.admin.conftest import call_admin, claims
from tests.integration.beds24.hub import drain
from tests.integration.conftest import DEMO_ORG

MOCK_TOKEN = "mock_dev_token_123"  # the seed's token
CB_TOKEN = "cloudbeds_hook_token_0001"
ADMIN = claims("admin")
SEED_BODY = {
    "booking": {
        "id": "test-booking-001",
        "status": "confirmed",
        "guest": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+1-555-9999"},
        "stay": {"checkIn": "2025-12-20", "checkOut": "2025-12-23", "room": "305"},
        "totals": {"amount": 750.00, "currency": "USD"},
        "channel": "OTA",
    }
}


def fn(name: str) -> topology.Function:
    return topology.function(name)


def admin(method: str, path: str, *, caller: dict[str, str] | None = ADMIN, **options: Any) -> tuple[int, Any]:
    status, body, _ = call_admin(method, path, caller=caller, function=fn("pms_admin"), **options)
    return status, body


def post_webhook(
    body: Any,
    *,
    provider: str = "mock",
    slug: str | None = "demo-hotel",
    token: str | None = MOCK_TOKEN,
    query: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    sent = dict(headers or {})
    if slug is not None:
        sent["x-hotel-slug"] = slug
    if token is not None:
        sent["x-provider-token"] = token
    status, answer, _ = call_admin(
        "POST",
        f"/api/pms/{provider}/bookings",
        caller=None,
        body=body,
        query=query,
        headers=sent,
        function=fn("pms_webhook"),
    )
    return status, answer


def drain_events(aws: LocalResources) -> tuple[int, int]:
    return drain(aws, "PMSEvents", "pms_events")


def drain_sync(aws: LocalResources) -> tuple[int, int]:
    return drain(aws, "PMSSync", "pms_sync")


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The real policy (1 s x2, 3 retries), with the sleeps recorded instead of slept."""
    from bookinghub.pms.adapters.policy import RetryPolicy
    from bookinghub.pms.providers import cloudbeds

    slept: list[float] = []
    monkeypatch.setattr(cloudbeds, "RETRY_POLICY", RetryPolicy(sleep=slept.append))
    monkeypatch.setenv("HUB_ALLOW_INSECURE_WEBHOOKS", "true")  # the sandbox is plain http on loopback
    return slept


@pytest.fixture
def demo_hotel(aws: LocalResources) -> dict[str, Any]:
    status, body = admin(
        "POST",
        "/api/pms/configurations",
        body={
            "hotel_slug": "demo-hotel",
            "provider": "mock",
            "name": "Demo Hotel",
            "webhook_token": MOCK_TOKEN,
            "sync_schedule": "0 */6 * * *",
        },
    )
    assert status == 201, body
    return body["configuration"]


@pytest.fixture
def cloudbeds() -> Iterator[tuple[CloudbedsSandbox, str]]:
    sandbox = CloudbedsSandbox()
    sandbox.rate_limit = 1000  # pacing has its own tests; these check the hub's flows
    server = ServerThread("cloudbeds-test", "127.0.0.1", 0, sandbox)
    server.start()
    yield sandbox, f"http://127.0.0.1:{server.port}/api/v1.3"
    server.stop()


@pytest.fixture
def cloudbeds_hotel(aws: LocalResources, cloudbeds: tuple[CloudbedsSandbox, str]) -> dict[str, Any]:
    _, url = cloudbeds
    status, body = admin(
        "POST",
        "/api/pms/configurations",
        body={
            "hotel_slug": "cb-hotel",
            "provider": "cloudbeds",
            "webhook_token": CB_TOKEN,
            "credentials": {"api_key": cloudbeds_data.DEMO_API_KEY},
            "settings": {"property_id": cloudbeds_data.DEMO_PROPERTY_ID, "base_url": url},
        },
    )
    assert status == 201, body
    return body["configuration"]


def hub_bookings(caller: dict[str, str] = ADMIN, **query: Any) -> list[dict[str, Any]]:
    status, body, _ = call_admin("GET", "/api/bookings", caller=caller, query={"limit": 100, **query})
    assert status == 200, body
    return list(body["bookings"])


__all__ = ["DEMO_ORG"]
