"""Unexpected failures answer 500 SERVER_ERROR without internals; logs never carry emails or phones in clear."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from bookinghub.aws.clients import client
from tests.integration.conftest import post_sync, seed_body, snapshot_tables

# Not the seed's 1234567890: that is a substring of the local account id in every function ARN
EMAIL, PHONE = "john@example.com", "0815550199"
CUSTOMER = {"name": "John Doe", "email": EMAIL, "phone": PHONE, "country_code": "+66"}
SERVER_ERROR = {"success": False, "error": "Internal server error", "code": "SERVER_ERROR"}


def _failing(error: Exception) -> Callable[..., Any]:
    def fail(**_: Any) -> Any:
        raise error

    return fail


def _conflict() -> ClientError:
    response: Any = {
        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
        "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}, {"Code": "None"}, {"Code": "None"}],
    }
    return client("dynamodb").exceptions.TransactionCanceledException(response, "TransactWriteItems")


def _leaky() -> ClientError:
    # A DynamoDB error message can quote the offending item, customer data included
    message = f"boom near {{customer_email: {EMAIL}, customer_phone: {PHONE}}}"
    return ClientError({"Error": {"Code": "InternalServerError", "Message": message}}, "TransactWriteItems")


@pytest.mark.parametrize(
    ("operation", "error"),
    [
        ("transact_write_items", _leaky()),
        ("get_item", _leaky()),
        ("transact_write_items", EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")),
    ],
    ids=["transaction fails", "key lookup fails", "no connection"],
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


def test_write_conflict_is_retried(test_website: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ddb = client("dynamodb")
    transact = ddb.transact_write_items
    attempts: list[int] = []

    def conflict_once(**request: Any) -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise _conflict()
        return transact(**request)

    monkeypatch.setattr(ddb, "transact_write_items", conflict_once)

    status, body = post_sync(seed_body())

    assert (status, body["outcome"], len(attempts)) == (200, "created", 2)


def test_lasting_write_conflict_is_a_server_error(test_website: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client("dynamodb"), "transact_write_items", _failing(_conflict()))

    status, body = post_sync(seed_body())

    assert (status, body["code"], body["success"]) == (500, "SERVER_ERROR", False)
    assert "Traceback" not in json.dumps(body)


def test_logs_of_accepted_and_rejected_syncs_hold_no_customer_contact(
    test_website: Any, captured_logs: Callable[[], str]
) -> None:
    post_sync(seed_body(customer=CUSTOMER))
    post_sync(seed_body(customer=CUSTOMER, guest_count=3))  # 409
    post_sync(seed_body(customer={**CUSTOMER, "shoe_size": 42}))  # 400
    post_sync(seed_body(customer=CUSTOMER), api_key="wrong")  # 401

    logs = captured_logs()
    assert logs.count('"message":"booking sync"') == 1
    assert logs.count('"message":"request rejected"') == 3
    assert EMAIL not in logs
    assert PHONE not in logs
