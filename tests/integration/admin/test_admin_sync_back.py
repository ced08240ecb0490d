"""An operator's edit reaches the source website's webhook, signed, with only the changed fields.

PUT /api/bookings/{id} -> the booking's stream (its change stamped on it) -> outbox_relay -> BookingEvents ->
booking_events -> Deliveries -> deliver_webhooks -> signed POST to the website's receiver (a live sandbox on 127.0.0.1).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from infra.local.invoke import invoke
from infra.local.resources import LocalResources
from tests.integration.admin.conftest import call_admin, claims
from tests.integration.conftest import outbox_events, post_sync, seed_body
from tests.integration.delivery.conftest import pump
from tests.integration.test_website_webhooks_delivery import (
    SECRET,
    Receiver,
    relay_to_queue,
    sqs_event,
    verify_like_the_seed,
)


def test_an_admin_edit_is_delivered_to_the_website_signed(
    hook_website: Any, receiver: Receiver, aws: LocalResources
) -> None:
    status, synced = post_sync(seed_body(source_booking_id="src-e2e-1"))
    assert status == 200, synced
    booking_id = synced["booking_id"]

    edit = {"status": "cancelled", "admin_notes": "Flight changed", "guest_count": 2}  # guest_count unchanged
    status, answer, _ = call_admin(
        "PUT", f"/api/bookings/{booking_id}", caller=claims("admin"), body=edit, headers={"If-Match": '"1"'}
    )
    assert status == 200, answer
    assert answer["changed_fields"] == ["admin_notes", "status"]

    # The website's own create is not even queued (no subscription wants it): only the operator's edit
    messages = relay_to_queue(booking_id, aws)
    origins = sorted(json.loads(m["Body"])["origin"] for m in messages)
    assert origins == ["admin:ops@demo.example"]
    assert [e["origin"] for e in outbox_events(booking_id)] == ["website:test-website", "admin:ops@demo.example"]
    assert invoke("booking_events", sqs_event(messages, aws)) == {"batchItemFailures": []}
    pump(aws)

    (delivery,) = receiver.deliveries()  # the website's own change is not echoed back
    assert verify_like_the_seed(delivery, SECRET)
    body = delivery["body"]
    assert body["event"] == "booking.status_changed"
    assert body["source_booking_id"] == "src-e2e-1"
    assert body["updated_fields"] == ["admin_notes", "status"]
    assert body["data"] == {"admin_notes": "Flight changed", "status": "cancelled"}
    assert body["updated_by"] == "ops@demo.example"
    assert delivery["webhook_id"] == answer["event_id"]


ADMIN_DOC = Path(__file__).resolve().parents[3] / "docs" / "admin-api.md"


def documented_test_webhook_answer() -> tuple[int, dict[str, Any]]:
    """The answer docs/admin-api.md shows for its test-webhook curl: `# <status> {json}`."""
    section = ADMIN_DOC.read_text().split("### `POST /api/admin/test-webhook`", 1)[1].split("\n### ", 1)[0]
    found = re.search(r"^# (\d{3}) (\{.*\})$", section, re.MULTILINE)
    assert found, "no answer in the doc's example"
    return int(found[1]), json.loads(found[2])


def _shape(value: Any) -> Any:
    """The keys of an answer, nested; placeholders and measured values aside."""
    return {k: _shape(v) for k, v in value.items()} if isinstance(value, dict) else None


def test_the_manual_test_webhook_sends_the_requested_event_and_answers_its_result(
    hook_website: Any, receiver: Receiver, aws: LocalResources
) -> None:
    _, synced = post_sync(seed_body(source_booking_id="src-e2e-2"))
    request = {"website_id": "test-website", "booking_id": synced["booking_id"], "event": "booking.updated"}
    status, answer, _ = call_admin("POST", "/api/admin/test-webhook", caller=claims("admin"), body=request)
    assert status == 200, answer
    assert answer["result"]["outcome"] == "succeeded"
    assert answer["result"]["status_code"] == 200
    # What the docs show is what an operator gets (it said 202 "Webhook queued for delivery")
    documented_status, documented = documented_test_webhook_answer()
    assert (documented_status, _shape(documented)) == (status, _shape(answer))
    assert documented["result"]["outcome"] == "succeeded"

    (delivery,) = receiver.deliveries()  # sent inline, nothing left to pump
    assert verify_like_the_seed(delivery, SECRET)
    assert delivery["webhook_id"] == answer["event_id"]
    # The requested event, although the booking's status is among the fields (it went out as
    # booking.status_changed before)
    assert delivery["body"]["event"] == "booking.updated"
    assert delivery["body"]["data"]["status"] == "confirmed"
    assert "customer_email" in delivery["body"]["updated_fields"]

    receiver.fail_next(503)
    request["event"] = "booking.status_changed"
    status, answer, _ = call_admin("POST", "/api/admin/test-webhook", caller=claims("admin"), body=request)
    assert status == 200, answer
    assert (answer["result"]["outcome"], answer["result"]["status_code"]) == ("retrying", 503)
    pump(aws)  # the retry, on its schedule
    assert [d["body"]["event"] for d in receiver.deliveries()] == ["booking.updated", "booking.status_changed"]
