"""The delivery API end to end (handler invoked as API Gateway would): subscriptions with a filter get the
enriched seed 003 payload, signed, with their custom header; stats, attempts, failed list and replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks.webhooks import Webhook

from infra import topology
from infra.local.resources import LocalResources
from tests.integration.admin.conftest import call_admin, claims
from tests.integration.delivery.conftest import Receiver, Reply, admin_event, pump
from tests.unit.delivery.test_signing import verify_webhook_signature

API = topology.function("delivery_api")
ADMIN = claims("admin")


def api(method: str, path: str, body: Any = None, *, caller: dict[str, str] | None = ADMIN, **query: Any) -> Any:
    return call_admin(method, path, caller=caller, body=body, query=query or None, function=API)[:2]


def subscribe(receiver: Receiver, **fields: Any) -> dict[str, Any]:
    body = {"url": receiver.url("/make"), "event_types": ["booking.status_changed"], **fields}
    status, answer = api("POST", "/api/webhooks/endpoints", body)
    assert status == 201, answer
    return answer


def test_a_filtered_subscription_gets_the_enriched_event_signed(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.delivery.logic.fanout import fan_out

    created = subscribe(receiver, headers={"x-make-apikey": "make-key-1"}, kind="make")
    secret, endpoint = created["secret"], created["endpoint"]
    assert endpoint["header_names"] == ["x-make-apikey"]
    assert "make-key-1" not in json.dumps(created["endpoint"])

    fan_out(admin_event(event_type="booking.updated", changed_fields=["admin_notes"], data={"admin_notes": "x"}))
    fan_out(admin_event())  # booking.status_changed: the one the filter takes
    pump(delivery_env)
    to_make = [r for r in receiver.delivered() if r["path"] == "/make"]
    assert len(to_make) == 1
    got = to_make[0]
    assert got["headers"]["x-make-apikey"] == "make-key-1"
    assert Webhook(secret).verify(got["body"], got["headers"])
    stamp = got["headers"]["X-Webhook-Timestamp"]
    assert verify_webhook_signature(got["body"], got["headers"]["X-Webhook-Signature"], secret, stamp)
    payload = json.loads(got["body"])
    assert set(payload) >= {
        "event_id",
        "event_type",
        "event_time",
        "source",
        "booking_event",
        "provider_info",
        "system",
    }
    assert payload["event_type"] == "booking.status_changed"
    assert payload["booking_event"]["data"] == {"status": "cancelled", "admin_notes": "flight changed"}
    assert isinstance(payload["booking_event"]["sequence"], int)
    assert payload["provider_info"]["name"] == "Test Website"

    status, answer = api("GET", f"/api/webhooks/endpoints/{endpoint['id']}/stats")
    assert status == 200, answer
    stats = answer["stats"]
    assert (stats["sent"], stats["succeeded"], stats["failed"], stats["pending"]) == (1, 1, 0, 0)
    assert stats["success_rate"] == 100.0
    assert stats["p95_response_ms"] is not None
    assert stats["meets_targets"] == {"success_rate_above_95": True, "average_below_2s": True}


def test_failed_list_replay_and_attempts_filter(website: Any, receiver: Receiver, delivery_env: LocalResources) -> None:
    from bookinghub.delivery.logic.fanout import fan_out

    endpoint = subscribe(receiver)["endpoint"]
    receiver.by_path["/make"] = [Reply(404, body="no such hook")]  # permanent
    event = admin_event()
    fan_out(event)
    pump(delivery_env)
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    status, answer = api("GET", f"/api/webhooks/endpoints/{endpoint['id']}/failed", since=since)
    assert status == 200, answer
    (failed,) = answer["deliveries"]
    assert failed["status"] == "failed"
    assert failed["last_status_code"] == 404
    assert failed["webhook_id"] == event.event_id

    status, answer = api("POST", f"/api/webhooks/deliveries/{failed['id']}/replay")
    assert status == 202, answer
    status, again = api("POST", f"/api/webhooks/deliveries/{failed['id']}/replay")
    assert (status, again["code"]) == (409, "DELIVERY_PENDING")
    pump(delivery_env)
    status, answer = api("GET", f"/api/webhooks/deliveries/{failed['id']}")
    assert answer["delivery"]["status"] == "succeeded"
    assert answer["delivery"]["replays"] == 1
    make = [r for r in receiver.received if r["path"] == "/make"]
    assert [r["answered"] for r in make] == [404, 200]
    assert len({r["headers"]["webhook-id"] for r in make}) == 1  # the same id on the replay

    status, answer = api("GET", f"/api/webhooks/endpoints/{endpoint['id']}/attempts", status_class="4xx")
    assert [(a["status_code"], a["trigger"]) for a in answer["attempts"]] == [(404, "scheduled")]
    status, answer = api("GET", f"/api/webhooks/endpoints/{endpoint['id']}/attempts")
    assert [(a["status_code"], a["trigger"]) for a in answer["attempts"]] == [(200, "replay"), (404, "scheduled")]
    status, answer = api("GET", f"/api/webhooks/endpoints/{endpoint['id']}/failed", since=since)
    assert answer["deliveries"] == []


def test_retry_failed_webhooks_respects_max_retries(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.delivery.logic.fanout import fan_out

    subscribe(receiver)
    receiver.path_defaults["/make"] = Reply(404)
    fan_out(admin_event())
    pump(delivery_env)
    for expected in (1, 1, 0):  # max_retries 2: replayed twice, then left alone
        status, answer = api("POST", "/api/webhooks/retry-failed", {"max_retries": 2})
        assert (status, answer["replayed"]) == (202, expected), answer
        pump(delivery_env)


def test_tenancy_roles_and_bad_input(website: Any, receiver: Receiver, delivery_env: LocalResources) -> None:
    endpoint = subscribe(receiver)["endpoint"]
    rival = claims("admin", org="rival-org")
    assert api("GET", f"/api/webhooks/endpoints/{endpoint['id']}", caller=rival)[0] == 404
    assert api("GET", f"/api/webhooks/endpoints/{endpoint['id']}", caller=claims("staff"))[0] == 403
    assert api("GET", "/api/webhooks/endpoints", caller=None)[0] == 401
    listed = api("GET", "/api/webhooks/endpoints")[1]["endpoints"]
    assert {e["id"] for e in listed} == {endpoint["id"], "web_test-website"}
    from tests.integration.conftest import snapshot_tables

    before = snapshot_tables()
    for bad in (
        {"url": "https://169.254.169.254/latest/meta-data"},
        {"url": "http://10.0.0.1/hook"},
        {"url": receiver.url(), "headers": {"X-Webhook-Signature": "sha256=forged"}},
        {"url": receiver.url(), "headers": {"x-bad": "a\r\nInjected: 1"}},
        {"url": receiver.url(), "event_types": []},
        {"url": receiver.url(), "unknown": 1},
    ):
        status, answer = api("POST", "/api/webhooks/endpoints", bad)
        assert (status, answer["code"]) == (400, "INVALID_PAYLOAD"), (bad, answer)
    assert snapshot_tables() == before  # a refused endpoint leaves nothing behind
    status, answer = api(
        "GET", f"/api/webhooks/endpoints/{endpoint['id']}/failed", since="2026-01-01T00:00:00Z", cursor="x"
    )
    assert (status, answer["code"]) == (400, "INVALID_QUERY")
    status, answer = api("POST", "/api/webhooks/endpoints/web_test-website/rotate-secret")
    assert (status, answer["code"]) == (409, "MANAGED_BY_WEBSITE")


def test_conflict_events_reach_their_subscribers_and_never_the_websites_sync_back(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.delivery.logic.fanout import fan_out

    subscribe(receiver, event_types=["booking.conflict_detected", "booking.conflict_resolved"], kind="make")
    record = {"id": "c-1", "field": "activity_date", "hub_value": "2026-03-05", "source_value": "2026-03-09"}
    detected = admin_event(
        event_type="booking.conflict_detected", origin="hub:conflicts", changed_fields=["activity_date"], data=record
    )

    result = fan_out(detected)
    fan_out(admin_event())  # an operator's edit: synced back to the website, not for this subscription

    assert result.skipped == ["sync back: booking.conflict_detected is not a booking change"]
    pump(delivery_env)
    to_make = [json.loads(r["body"]) for r in receiver.delivered() if r["path"] == "/make"]
    assert [(p["event_type"], p["booking_event"]["data"]) for p in to_make] == [("booking.conflict_detected", record)]
    synced_back = [json.loads(r["body"]) for r in receiver.delivered() if r["path"] != "/make"]
    assert [p["event"] for p in synced_back] == ["booking.status_changed"]  # seed 002's body, the edit only
