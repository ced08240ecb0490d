"""issue_pincodes: the Rooms Event Hub call, its integration logs, backoff retries for 24 h, and the DLQ."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item
from bookinghub.aws.keys import pass_id_for
from bookinghub.core.settings import get_settings
from bookinghub.payments.dal import passes as pass_store
from bookinghub.payments.logic import pincode_retry
from bookinghub.registry.logic.registry import active_rooms_integration
from infra import topology
from infra.local.resources import LocalResources
from tests.conftest import reset_caches
from tests.integration.passes.conftest import (
    GUEST_EMAIL,
    PAYMENT_INTENT,
    RoomsSandbox,
    call_logs,
    find_pass,
    let_backoff_pass,
    post_stripe,
    receive,
    run_consumer,
    stripe_event,
)

PASS_ID = pass_id_for(PAYMENT_INTENT)
RESERVATION_ID = "SAMPLE" + PASS_ID.replace("-", "")


def lock_code_items() -> list[dict[str, Any]]:
    items = client("dynamodb").scan(TableName=get_settings().bookings_table)["Items"]
    return [from_item(i) for i in items if i["SK"]["S"].startswith("LOCKCODE#")]


def pass_view() -> dict[str, Any]:
    status, body = find_pass({"payment_intent": PAYMENT_INTENT})
    assert status == 200, body
    return dict(body["pass"])


def test_pincode_is_issued_stored_encrypted_and_logged_masked(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox, captured_logs: Any
) -> None:
    post_stripe(stripe_event())

    _messages, result = run_consumer(aws)

    assert result == {"batchItemFailures": []}
    (call,) = rooms.calls()
    assert call["reservationId"] == RESERVATION_ID
    assert call["body"] == {
        "propertyId": "z71owzgoNUxJtxOC",
        "arrivalDate": "2026-03-01",
        "departureDate": "2026-03-02",
        "lockId": "access-point-uuid-or-identifier",
        "guestName": "John Smith",
        "guestPhone": "+61412345678",
        "guestEmail": GUEST_EMAIL,
    }
    pincode = call["pincode"]
    view = pass_view()
    assert (view["status"], view["pincode_status"], view["pincode"]) == ("active", "issued", pincode)

    (lock_code,) = lock_code_items()
    assert lock_code["provider"] == "rooms"
    assert lock_code["provider_ref"] == RESERVATION_ID
    assert (lock_code["starts_at"], lock_code["ends_at"]) == ("2026-03-01", "2026-03-02")
    assert lock_code["pass_id"] == PASS_ID
    assert "code" not in lock_code
    assert pincode not in json.dumps(lock_code)

    (log,) = call_logs()
    assert log["status"] == "success"
    assert log["operation"] == "create_reservation"
    assert log["http_status_code"] == 200
    assert isinstance(log["duration_ms"], int)
    assert log["request_payload"]["guestEmail"] == "j***@example.com"
    assert log["request_payload"]["guestName"] == "J*** S***"
    assert log["request_payload"]["lockId"] == "access-point-uuid-or-identifier"
    assert log["response_payload"] == {"success": True, "pincode": "***", "reservationId": RESERVATION_ID}
    rows = json.dumps(call_logs())
    assert pincode not in rows
    assert GUEST_EMAIL not in rows
    integration = active_rooms_integration(hub.organisation_id)
    assert integration is not None
    assert integration.last_used_at == log["created_at"]

    logs = captured_logs()
    assert pincode not in logs
    assert GUEST_EMAIL not in logs


def test_rooms_fails_twice_then_succeeds(hub: Any, aws: LocalResources, rooms: RoomsSandbox) -> None:
    rooms.misbehave(times=2, fail_with=503)
    post_stripe(stripe_event())

    for _ in range(2):
        messages, result = run_consumer(aws)
        assert result == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
        assert receive(aws) == []  # postponed by the backoff, not visible again at once
        assert pass_view()["pincode_status"] == "pending"
        let_backoff_pass(aws, messages)

    messages, result = run_consumer(aws)

    assert result == {"batchItemFailures": []}
    assert messages[0]["Attributes"]["ApproximateReceiveCount"] == "3"
    calls = rooms.calls()
    assert [c["status"] for c in calls] == [503, 503, 200]
    assert {c["reservationId"] for c in calls} == {RESERVATION_ID}  # a retry never makes a second reservation
    assert pass_view()["pincode"] == calls[-1]["pincode"]
    assert [(log["status"], log["http_status_code"]) for log in call_logs()] == [
        ("error", 503),
        ("error", 503),
        ("success", 200),
    ]
    assert call_logs()[0]["error_message"].startswith("HTTP 503")
    assert run_consumer(aws) == ([], None)


def test_timeout_is_logged_as_timeout_and_retried(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_ROOMS_TIMEOUT_SECONDS", "0.3")
    reset_caches()
    rooms.misbehave(times=1, delay_seconds=3)
    post_stripe(stripe_event())

    messages, result = run_consumer(aws)

    assert result["batchItemFailures"]  # type: ignore[index]
    (log,) = call_logs()
    assert (log["status"], log.get("http_status_code")) == ("timeout", None)
    assert "no answer within 0.3 s" in log["error_message"]
    let_backoff_pass(aws, messages)
    run_consumer(aws)
    assert pass_view()["pincode_status"] == "issued"


def test_rooms_down_past_the_retry_window(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox, captured_logs: Any
) -> None:
    rooms.misbehave(times=1000, fail_with=500)
    post_stripe(stripe_event())
    max_attempts = topology.queue("PassIssuance").max_receive_count
    assert max_attempts == pincode_retry.MAX_ATTEMPTS

    for attempt in range(1, max_attempts + 1):
        messages, result = run_consumer(aws)
        assert len(messages) == 1, f"attempt {attempt}"
        assert result["batchItemFailures"]  # type: ignore[index]
        expected = "failed" if attempt == max_attempts else "pending"
        assert pass_store.get_pass(PASS_ID)["pincode_status"] == expected  # type: ignore[index]
        let_backoff_pass(aws, messages)

    # The next receive finds it gone: SQS moved it to the DLQ, ready for redrive
    assert receive(aws) == []
    (dead,) = receive(aws, dlq=True)
    assert json.loads(dead["Body"]).keys() == {"pass_id", "claim"}  # ids only, no guest data
    assert json.loads(dead["Body"])["pass_id"] == PASS_ID

    view = pass_view()
    assert (view["status"], view["pincode_status"], view["pincode"]) == ("active", "failed", None)
    logs = call_logs()
    assert len(logs) == max_attempts
    assert {log["status"] for log in logs} == {"error"}
    assert {log["http_status_code"] for log in logs} == {500}

    # The waits the consumer asked SQS for add up to the 24 h window (each within its jitter)
    lines = [json.loads(line) for line in captured_logs().splitlines() if line.startswith("{")]
    delays = [line["delay_seconds"] for line in lines if line.get("message") == "pincode retry scheduled"]
    assert len(delays) == max_attempts - 1
    assert 0.8 * 86400 <= sum(delays) <= 1.2 * 86400 + 3600
    text = captured_logs()
    assert GUEST_EMAIL not in text
    assert "pincode retries exhausted" in text


def test_redriven_message_for_a_failed_pass_gets_its_pincode(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox
) -> None:
    post_stripe(stripe_event())
    pass_store.set_pincode_outcome(PASS_ID, status="failed", now="2026-03-01T00:00:00Z", attempts=31, error="down")

    _messages, result = run_consumer(aws)

    assert result == {"batchItemFailures": []}
    assert pass_view()["pincode_status"] == "issued"


def test_a_pass_that_has_a_pincode_keeps_it_without_calling_rooms(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox
) -> None:
    post_stripe(stripe_event())
    run_consumer(aws)
    first = pass_view()["pincode"]
    from bookinghub.payments.dal.pass_queue import send_pass_issuance

    send_pass_issuance(PASS_ID)  # e.g. a redrive of an old message, or a duplicate
    rooms.misbehave(times=5, fail_with=500)

    messages, result = run_consumer(aws)

    assert len(messages) == 1
    assert result == {"batchItemFailures": []}
    assert len(rooms.calls()) == 1
    assert pass_view()["pincode"] == first


def test_organisation_without_a_rooms_integration_is_retried_not_dropped(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox
) -> None:
    from tests.integration.passes.conftest import metadata

    post_stripe(stripe_event(metadata=metadata(organisation_id="org-without-rooms")))

    messages, result = run_consumer(aws)

    assert result == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    stored = pass_store.get_pass(PASS_ID)
    assert stored is not None
    assert (stored["status"], stored["pincode_status"]) == ("active", "pending")
    assert "no active rooms_event_hub integration" in stored["pincode_error"]
    assert rooms.calls() == []


def test_duplicate_message_while_the_first_is_being_handled_makes_no_second_call(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox
) -> None:
    import threading

    from bookinghub.payments.dal.pass_queue import send_pass_issuance
    from bookinghub.payments.logic.pincodes import PincodeRetry, QueuedPass, handle_queued_pass, parse_claim
    from tests.integration.passes.conftest import sqs

    post_stripe(stripe_event())
    send_pass_issuance(PASS_ID)  # a duplicate of the webhook's message
    messages = receive(aws)
    assert len(messages) == 2
    arn = sqs().get_queue_attributes(QueueUrl=aws.queue_urls["PassIssuance"], AttributeNames=["QueueArn"])
    # The webhook's message (it carries the pass's claim) first, the duplicate second
    messages.sort(key=lambda message: parse_claim(message["Body"]) is None)
    first, second = (
        QueuedPass(PASS_ID, 1, arn["Attributes"]["QueueArn"], message["ReceiptHandle"], parse_claim(message["Body"]))
        for message in messages
    )
    rooms.misbehave(times=1, delay_seconds=1.5)  # the first call is slow
    outcomes: list[Any] = []
    worker = threading.Thread(target=lambda: outcomes.append(handle_queued_pass(first)))
    worker.start()
    deadline = time.monotonic() + 10
    while not rooms.calls() and time.monotonic() < deadline:
        time.sleep(0.02)

    with pytest.raises(PincodeRetry, match="another invocation"):
        handle_queued_pass(second)

    worker.join(timeout=30)
    assert outcomes == [{"outcome": "issued", "reservation_id": RESERVATION_ID}]
    assert len(rooms.calls()) == 1
    # Its retry later finds the pincode stored: still one call
    assert handle_queued_pass(second) == {"outcome": "already_issued"}
    assert len(rooms.calls()) == 1


def test_a_pass_needing_attention_gets_no_call_and_still_its_pincode_once_activated(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox
) -> None:
    from bookinghub.payments.dal.pass_queue import send_pass_issuance

    post_stripe(stripe_event("payment_intent_succeeded", metadata={}))
    send_pass_issuance(PASS_ID)  # e.g. queued by hand before the metadata was fixed

    _, result = run_consumer(aws)

    assert result == {"batchItemFailures": []}  # nothing to ask for: dropped, not retried
    assert rooms.calls() == []
    assert post_stripe(stripe_event("checkout_session_completed"))[1]["outcome"] == "pass_activated"
    run_consumer(aws)
    assert pass_view()["pincode_status"] == "issued"
