"""Issue 11: a paid payment costs three small writes and no KMS call per pincode, and every guarantee
holds through faults: a redelivered event, a crash between the pass and its message, a crash between
Rooms' answer and the lock code, a claim left by a crashed consumer, and lock codes of the old format."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from bookinghub.aws.keys import pass_id_for
from bookinghub.payments.dal import pass_queue
from bookinghub.payments.dal import passes as pass_store
from bookinghub.payments.logic import stripe_webhook
from infra.local.resources import LocalResources
from tests.integration.conftest import snapshot_tables
from tests.integration.passes.conftest import (
    PAYMENT_INTENT,
    RoomsSandbox,
    find_pass,
    let_backoff_pass,
    post_stripe,
    receive,
    run_consumer,
    stripe_event,
)

PASS_ID = pass_id_for(PAYMENT_INTENT)


@pytest.fixture
def aws_calls(hub: Any) -> Iterator[Counter[str]]:
    """Every DynamoDB and KMS call the hub's cached clients make, by operation (and table for writes)."""
    from bookinghub.aws.clients import client

    calls: Counter[str] = Counter()

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        table = params.get("TableName", "")
        calls[f"{model.name} {table.split('-')[-1]}".strip()] += 1

    hooked = [client("dynamodb"), client("kms")]
    for service in hooked:
        service.meta.events.register("provide-client-params.*.*", count)
    yield calls
    for service in hooked:
        service.meta.events.unregister("provide-client-params.*.*", count)


def writes(calls: Counter[str]) -> Counter[str]:
    return Counter({k: v for k, v in calls.items() if k.split()[0] in ("PutItem", "UpdateItem", "DeleteItem")})


def pincode() -> str | None:
    status, body = find_pass({"payment_intent": PAYMENT_INTENT})
    assert status == 200, body
    return body["pass"]["pincode"]  # type: ignore[no-any-return]


def test_a_paid_payment_writes_the_pass_its_lock_code_and_one_call_log(
    aws: LocalResources, rooms: RoomsSandbox, aws_calls: Counter[str]
) -> None:
    second = stripe_event(id="evt_second", object={"id": "cs_second", "payment_intent": "pi_second"})
    for event in (stripe_event(), second):
        assert post_stripe(event)[0] == 200
    run_consumer(aws)

    # Per payment: the pass's put, its lock code's put, one call log (no idempotency records, no pass
    # rewrite); last_used_at once for both calls (it is stamped at most every 5 minutes)
    assert writes(aws_calls) == {"PutItem Bookings": 4, "PutItem IntegrationLogs": 2, "UpdateItem Bookings": 1}
    # One data key for both pincodes: no KMS call per pincode
    assert aws_calls["GenerateDataKey"] == 1
    assert aws_calls["Encrypt"] == 0
    assert snapshot_tables()["Idempotency"] == []
    assert len(rooms.calls()) == 2


def test_a_redelivered_event_answers_the_same_and_does_nothing_again(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox, aws_calls: Counter[str]
) -> None:
    first = post_stripe(stripe_event())
    run_consumer(aws)
    issued = pincode()
    before = snapshot_tables()
    aws_calls.clear()

    again = post_stripe(stripe_event())

    assert again == first == (200, {"received": True, "outcome": "pass_created", "pass_id": PASS_ID})
    assert snapshot_tables() == before
    assert receive(aws) == []
    assert len(rooms.calls()) == 1
    assert pincode() == issued
    # Its only write is the put that found the pass (a conditional put that fails)
    assert writes(aws_calls) == {"PutItem Bookings": 1}


def test_a_failed_send_undoes_queued_at_and_stripes_retry_queues_the_pass(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_send = pass_queue.send_pass_issuance

    def queue_down(pass_id: str, claim: str | None = None) -> str:
        raise ConnectionError("SQS unreachable")

    monkeypatch.setattr(pass_queue, "send_pass_issuance", queue_down)
    status, _ = post_stripe(stripe_event())
    assert status == 500
    stored = pass_store.get_pass(PASS_ID)
    assert stored is not None
    assert "queued_at" not in stored
    assert pass_store.CLAIM not in stored
    assert receive(aws) == []

    monkeypatch.setattr(pass_queue, "send_pass_issuance", real_send)
    assert post_stripe(stripe_event())[1]["outcome"] == "pass_created"  # Stripe's retry

    messages, _ = run_consumer(aws)
    assert len(messages) == 1
    assert pincode() == rooms.calls()[0]["pincode"]


def test_a_crash_between_the_pass_and_its_message_is_queued_by_the_retry_once_the_first_cannot_be_alive(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_send = pass_queue.send_pass_issuance

    def died(pass_id: str, claim: str | None = None) -> str:
        raise SystemExit("the invocation died")  # not an Exception: nothing is undone

    monkeypatch.setattr(pass_queue, "send_pass_issuance", died)
    with pytest.raises(SystemExit):
        post_stripe(stripe_event())
    monkeypatch.setattr(pass_queue, "send_pass_issuance", real_send)
    assert pass_store.get_pass(PASS_ID)["queued_at"]  # type: ignore[index]

    # A retry while the first delivery could still be sending: the same answer, nothing queued twice
    assert post_stripe(stripe_event())[1]["outcome"] == "pass_created"
    assert receive(aws) == []

    # Past the webhook's timeout the first delivery is gone: the retry queues the pass
    monkeypatch.setattr(stripe_webhook, "QUEUE_AGAIN_AFTER_SECONDS", 0)
    assert post_stripe(stripe_event())[1]["outcome"] == "pass_created"
    messages, result = run_consumer(aws)
    assert len(messages) == 1
    assert result == {"batchItemFailures": []}
    assert len(rooms.calls()) == 1
    assert pincode() == rooms.calls()[0]["pincode"]

    # Once issued, a further retry queues nothing
    assert post_stripe(stripe_event())[1]["outcome"] == "pass_created"
    assert receive(aws) == []


def test_a_crash_after_rooms_answered_is_retried_and_stores_one_pincode(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_stripe(stripe_event())
    real_put = pass_store.put_lock_code

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("DynamoDB unreachable")

    monkeypatch.setattr(pass_store, "put_lock_code", crash)
    messages, result = run_consumer(aws)
    assert result == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert pincode() is None

    monkeypatch.setattr(pass_store, "put_lock_code", real_put)
    # The crashed attempt's claim is still on the pass: the retry waits until it runs out
    let_backoff_pass(aws, messages)
    messages, result = run_consumer(aws)
    assert result == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert len(rooms.calls()) == 1

    stored = pass_store.get_pass(PASS_ID)
    assert stored is not None
    pass_store.take_claim(PASS_ID, "expired", 0, stored[pass_store.CLAIM_UNTIL] + 1)  # time passes
    let_backoff_pass(aws, messages)
    messages, result = run_consumer(aws)
    assert result == {"batchItemFailures": []}
    calls = rooms.calls()
    assert len(calls) == 2
    assert calls[0]["reservationId"] == calls[1]["reservationId"]
    assert pincode() == calls[1]["pincode"] == calls[0]["pincode"]  # the same reservation, the same code


def test_a_message_of_a_pass_whose_claim_is_anothers_waits_and_then_proceeds(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox
) -> None:
    from bookinghub.payments.logic.pincodes import PincodeRetry, QueuedPass, handle_queued_pass

    post_stripe(stripe_event())
    receive(aws)  # the webhook's message, in flight elsewhere
    pass_queue.send_pass_issuance(PASS_ID)  # a redrive of an old message (no token)
    (message,) = receive(aws)
    arn = aws.queue_urls["PassIssuance"]
    queued = QueuedPass(PASS_ID, 1, _arn(arn), message["ReceiptHandle"])

    with pytest.raises(PincodeRetry, match="another invocation"):
        handle_queued_pass(queued)
    assert rooms.calls() == []

    stored = pass_store.get_pass(PASS_ID)
    assert stored is not None
    pass_store.take_claim(PASS_ID, "expired", 0, stored[pass_store.CLAIM_UNTIL] + 1)  # the holder died
    assert handle_queued_pass(queued)["outcome"] == "issued"
    assert len(rooms.calls()) == 1


def test_a_lock_code_stored_before_envelope_encryption_still_reads(hub: Any, aws: LocalResources) -> None:
    from bookinghub.aws.kms import encrypt_secret
    from bookinghub.payments.logic.pincodes import LOCK_CODE_PURPOSE

    post_stripe(stripe_event())
    old = encrypt_secret("654321", purpose=LOCK_CODE_PURPOSE, owner=PASS_ID)  # a plain KMS ciphertext
    stored = {"provider_ref": "SAMPLEx", "integration_id": "i", "code_encrypted": old, "created_at": "2026-01-01"}
    assert pass_store.put_lock_code(PASS_ID, "rooms", stored) is None

    assert pincode() == "654321"


def test_a_pass_s_calls_read_from_its_partition_and_from_the_old_index(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox
) -> None:
    from bookinghub.aws.clients import client
    from bookinghub.core.settings import get_settings
    from bookinghub.registry.dal.integrations import call_logs_of_pass

    rooms.misbehave(times=1, fail_with=503)
    post_stripe(stripe_event())
    messages, _ = run_consumer(aws)
    let_backoff_pass(aws, messages)
    run_consumer(aws)
    ddb, table = client("dynamodb"), get_settings().integration_logs_table
    (newest, *_) = sorted(ddb.scan(TableName=table)["Items"], key=lambda i: i["SK"]["S"], reverse=True)
    # The newest call moved to the layout before issue 11: INTLOG# partition, GSI2 entry
    ddb.delete_item(TableName=table, Key={"PK": newest["PK"], "SK": newest["SK"]})
    moved = {**newest, "PK": {"S": "INTLOG#old"}, "GSI2PK": {"S": f"PASS#{PASS_ID}"}, "GSI2SK": newest["SK"]}
    ddb.put_item(TableName=table, Item=moved)

    assert [(log.status, log.attempt) for log in call_logs_of_pass(PASS_ID)] == [("error", 1), ("success", 2)]
    assert json.dumps([log.model_dump() for log in call_logs_of_pass(PASS_ID)]).count(PASS_ID) >= 2


def _arn(queue_url: str) -> str:
    from tests.integration.passes.conftest import sqs

    attributes = sqs().get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def test_last_used_at_is_stamped_again_once_older_than_its_resolution(
    hub: Any, aws: LocalResources, rooms: RoomsSandbox
) -> None:
    from bookinghub.registry.dal.integrations import put_integration
    from bookinghub.registry.logic.registry import active_rooms_integration
    from tests.integration.passes.conftest import call_logs

    integration = active_rooms_integration(hub.organisation_id)
    assert integration is not None
    put_integration(integration.model_copy(update={"last_used_at": "2026-01-01T00:00:00.000000Z"}))
    post_stripe(stripe_event())
    run_consumer(aws)

    (log,) = call_logs()
    assert active_rooms_integration(hub.organisation_id).last_used_at == log["created_at"]  # type: ignore[union-attr]
