"""Unexpected failures answer 500 SERVER_ERROR without internals; logs never carry emails or phones in clear."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from bookinghub.aws.clients import client
from tests.integration.conftest import post_sync, seed_body, snapshot_tables, sync_logs

# Not the seed's 1234567890: that is a substring of the local account id in every function ARN
EMAIL, PHONE = "john@example.com", "0815550199"
CUSTOMER = {"name": "John Doe", "email": EMAIL, "phone": PHONE, "country_code": "+66"}
SERVER_ERROR = {"success": False, "error": "Internal server error", "code": "SERVER_ERROR"}


def _failing(error: Exception) -> Callable[..., Any]:
    def fail(**_: Any) -> Any:
        raise error

    return fail


def _leaky() -> ClientError:
    # A DynamoDB error message can quote the offending item, customer data included
    message = f"boom near {{customer_email: {EMAIL}, customer_phone: {PHONE}}}"
    return ClientError({"Error": {"Code": "InternalServerError", "Message": message}}, "PutItem")


@pytest.mark.parametrize(
    ("operation", "error"),
    [
        ("put_item", _leaky()),
        ("get_item", _leaky()),
        ("put_item", EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")),
    ],
    ids=["booking write fails", "key lookup fails", "no connection"],
)
def test_dynamodb_failure_is_a_bare_server_error(
    test_website: Any,
    captured_logs: Callable[[], str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    error: Exception,
) -> None:
    before = snapshot_tables()
    monkeypatch.setattr(client("dynamodb"), operation, _failing(error))

    status, body = post_sync(seed_body(customer=CUSTOMER))

    assert (status, body) == (500, SERVER_ERROR)
    monkeypatch.undo()
    assert snapshot_tables() == before
    logs = captured_logs()
    assert "unhandled error" in logs
    assert type(error).__name__ in logs  # the traceback is kept for operators...
    assert EMAIL not in logs  # ...with customer data masked
    assert PHONE not in logs
    # Nor does any other logger that reaches the root (Lambda's runtime ships those too)
    assert EMAIL not in caplog.text
    assert PHONE not in caplog.text


def test_a_sync_log_the_relay_cannot_write_is_retried_with_its_record_and_written_once(
    test_website: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An applied sync's log is its change's timeline item, written by the outbox relay from the stream:
    a store that refuses it fails the record (the stream retries it), never the answer, and the retry
    writes it once."""
    from infra.local.invoke import invoke
    from tests.integration.conftest import stream_records

    status, body = post_sync(seed_body())
    assert (status, body["outcome"]) == (200, "created")
    records = stream_records()
    ddb = client("dynamodb")
    put = ddb.put_item

    def no_timeline(**request: Any) -> Any:
        if request["Item"]["SK"]["S"].startswith("EVENT#"):
            raise _leaky()
        return put(**request)

    monkeypatch.setattr(ddb, "put_item", no_timeline)
    failed = invoke("outbox_relay", {"Records": records})["batchItemFailures"]
    assert [f["itemIdentifier"] for f in failed] == [records[0]["dynamodb"]["SequenceNumber"]]
    monkeypatch.setattr(ddb, "put_item", put)  # the store is back: the stream hands the record again
    assert invoke("outbox_relay", {"Records": records}) == {"batchItemFailures": []}
    assert invoke("outbox_relay", {"Records": records}) == {"batchItemFailures": []}  # and once more
    [log] = sync_logs()
    assert (log["booking_id"], log["event_type"]) == (body["booking_id"], "booking.created")


def test_logs_of_accepted_and_rejected_syncs_hold_no_customer_contact(
    test_website: Any, captured_logs: Callable[[], str]
) -> None:
    post_sync(seed_body(customer=CUSTOMER))
    post_sync(seed_body(customer=CUSTOMER, guest_count=3))  # 409
    post_sync(seed_body(customer={**CUSTOMER, "shoe_size": 42}))  # 400
    post_sync(seed_body(customer=CUSTOMER), api_key="wrong")  # 401

    logs = captured_logs()
    assert logs.count('"message":"sync"') == 0  # an applied sync is recorded by its sync log row, not a line
    assert logs.count('"message":"request rejected"') == 3
    assert EMAIL not in logs
    assert PHONE not in logs
