"""A named website endpoint is read inside the batch's own BatchGetItem (branch disp6): its website item
(URL, secret) and its status item are keys beside the deliveries', so a batch makes no GetItem for them.
The behaviour stays that of the two GetItems: a deleted or inactive website fails its deliveries (kept,
replayable), a missing status item is a fresh status, keys DynamoDB leaves unprocessed are asked again
(never taken for missing), and a batch read that fails fails every message of the batch (received
again), nothing lost."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bookinghub.delivery.dal.queue import AttemptMessage
from bookinghub.delivery.logic.dispatch import Report, process_batch
from bookinghub.delivery.logic.fanout import fan_out
from bookinghub.delivery.models import website_endpoint_id
from infra.local.resources import LocalResources
from tests.integration.delivery.conftest import (
    WEBSITE_ID,
    DynamoCalls,
    Receiver,
    admin_event,
    deliveries_of,
    pump,
    subscription,
)

WEBSITE = website_endpoint_id(WEBSITE_ID)


def _queued(count: int, tag: str) -> list[str]:
    return [d for n in range(count) for d in fan_out(admin_event(source_booking_id=f"{tag}-{n}")).queued]


def _named(ids: list[str], endpoint_id: str | None = WEBSITE) -> list[tuple[AttemptMessage, int | None]]:
    return [(AttemptMessage(d, 0, endpoint_id=endpoint_id), 1) for d in ids]


def _outcomes(outcomes: list[Any]) -> list[str]:
    return [o.outcome if isinstance(o, Report) else type(o).__name__ for o in outcomes]


def test_a_named_website_endpoint_costs_no_read_besides_the_batch_read(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    # before: a message without the endpoint's name (an older one) has it read as before, two GetItems
    old = _queued(3, "before")
    with DynamoCalls() as before:
        assert _outcomes(process_batch(_named(old, None))) == ["succeeded"] * 3
    # after: the fan-out's messages name it, and its two items ride in the deliveries' BatchGetItem
    new = _queued(3, "after")
    with DynamoCalls() as after:
        assert _outcomes(process_batch(_named(new))) == ["succeeded"] * 3
    assert (before["BatchGetItem"], before["GetItem"], before["Query"]) == (1, 2, 0)
    assert (after["BatchGetItem"], after["GetItem"], after["Query"]) == (1, 0, 0)
    assert sum(after.values()) == sum(before.values()) - 2
    assert after - Counter({"BatchGetItem": 1}) == before - Counter({"BatchGetItem": 1, "GetItem": 2})
    assert len(receiver.delivered()) == 6


def test_a_subscription_stays_one_query_and_a_mixed_batch_one_batch_read(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.delivery.dal import deliveries

    other, _ = subscription(receiver.url("/sub"))
    ids = _queued(2, "mixed")  # each edit: one delivery to the website, one to the subscription
    found = deliveries.get_many(ids)
    messages = [(AttemptMessage(d, 0, endpoint_id=found[d].endpoint_id), 1) for d in ids]
    with DynamoCalls() as calls:
        assert _outcomes(process_batch(messages)) == ["succeeded"] * 4
    assert (calls["BatchGetItem"], calls["GetItem"], calls["Query"]) == (1, 0, 1)
    assert Counter(r["path"] for r in receiver.delivered()) == {"/api/webhooks/onebooking": 2, "/sub": 2}
    assert {found[d].endpoint_id for d in ids} == {WEBSITE, other}


def test_a_deleted_website_fails_its_deliveries_as_before(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.aws import keys
    from bookinghub.aws.clients import client
    from bookinghub.core.settings import get_settings
    from bookinghub.delivery.dal.endpoints import get_status

    ids = _queued(2, "deleted")
    client("dynamodb").delete_item(
        TableName=get_settings().bookings_table,
        Key={"PK": {"S": keys.website_pk(WEBSITE_ID)}, "SK": {"S": keys.WEBSITE_SK}},
    )
    with DynamoCalls() as calls:
        outcomes = process_batch(_named(ids))
    assert _outcomes(outcomes) == ["failed", "failed"]
    assert {o.error for o in outcomes if isinstance(o, Report)} == {"the endpoint no longer exists"}
    assert calls["GetItem"] == 0
    assert receiver.received == []
    assert {d.status for d in deliveries_of(WEBSITE)} == {"failed"}  # kept, replayable
    status = get_status(WEBSITE)
    assert (status.failed, status.pending, status.sent) == (2, 0, 0)


def test_an_inactive_website_fails_its_deliveries(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.aws import keys
    from bookinghub.aws.clients import client
    from bookinghub.core.settings import get_settings

    ids = _queued(1, "inactive")
    client("dynamodb").update_item(
        TableName=get_settings().bookings_table,
        Key={"PK": {"S": keys.website_pk(WEBSITE_ID)}, "SK": {"S": keys.WEBSITE_SK}},
        UpdateExpression="SET is_active = :no",
        ExpressionAttributeValues={":no": {"BOOL": False}},
    )
    outcomes = process_batch(_named(ids))
    assert _outcomes(outcomes) == ["failed"]
    assert receiver.received == []


def test_a_missing_status_item_is_a_fresh_status(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.aws.clients import client
    from bookinghub.aws.codec import to_item
    from bookinghub.core.settings import get_settings
    from bookinghub.delivery.dal.endpoints import get_status, status_key

    ids = _queued(2, "fresh")
    client("dynamodb").delete_item(TableName=get_settings().bookings_table, Key=to_item(status_key(WEBSITE)))
    assert _outcomes(process_batch(_named(ids))) == ["succeeded"] * 2
    status = get_status(WEBSITE)  # made again by the batch's status update
    assert (status.state, status.sent, status.succeeded, status.consecutive_failures) == ("enabled", 2, 2, 0)


def test_unprocessed_keys_are_asked_again_never_taken_for_missing(
    website: Any, receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DynamoDB answers the first BatchGetItem with the deliveries only and leaves the website's two keys
    unprocessed (as under throttling): a batch that took them for missing would fail every delivery."""
    from bookinghub.aws import batch
    from bookinghub.aws.clients import client

    monkeypatch.setattr(batch, "_backoff", lambda _round: None)
    dynamodb = client("dynamodb")
    real = dynamodb.batch_get_item
    requests: list[list[str]] = []

    def throttled(*, RequestItems: dict[str, Any]) -> Any:
        ((table, request),) = RequestItems.items()
        requests.append(sorted(key["SK"]["S"] for key in request["Keys"]))
        if len(requests) > 1:
            return real(RequestItems=RequestItems)
        kept = [key for key in request["Keys"] if key["SK"]["S"] == "DELIVERY"]
        left = [key for key in request["Keys"] if key["SK"]["S"] != "DELIVERY"]
        response = real(RequestItems={table: {**request, "Keys": kept}})
        return {**response, "UnprocessedKeys": {table: {**request, "Keys": left}}}

    monkeypatch.setattr(dynamodb, "batch_get_item", throttled)
    ids = _queued(3, "unprocessed")
    assert _outcomes(process_batch(_named(ids))) == ["succeeded"] * 3
    assert requests == [["DELIVERY"] * 3 + ["STATUS", "WEBSITE"], ["STATUS", "WEBSITE"]]
    assert len(receiver.delivered()) == 3


def test_keys_left_unprocessed_for_good_fail_the_batch_and_nothing_is_sent(
    website: Any, receiver: Receiver, delivery_env: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.aws import batch
    from bookinghub.aws.clients import client

    monkeypatch.setattr(batch, "_backoff", lambda _round: None)
    dynamodb = client("dynamodb")

    def never(*, RequestItems: dict[str, Any]) -> Any:
        return {"Responses": {}, "UnprocessedKeys": RequestItems}

    ids = _queued(2, "never")
    with monkeypatch.context() as patched:
        patched.setattr(dynamodb, "batch_get_item", never)
        with pytest.raises(batch.BatchIncomplete):
            process_batch(_named(ids))
    assert receiver.received == []
    assert {(d.status, d.attempts) for d in deliveries_of(WEBSITE)} == {("pending", 0)}
    assert _outcomes(process_batch(_named(ids))) == ["succeeded"] * 2  # the messages again: delivered


def test_a_failed_batch_read_fails_every_message_and_loses_none(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    """Through the queue and the handler: the invocation fails (every message is received again); once
    DynamoDB answers, each event is delivered, once."""
    from bookinghub.aws.clients import client
    from infra.local.invoke import invoke
    from infra.local.workers import sqs_record

    subscription(receiver.url("/sub"))
    _queued(2, "outage")  # two events, each to the website and the subscription: 4 messages
    failures = {"left": 1}

    def unavailable(**_: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "a test"}}, "BatchGetItem")

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = delivery_env.queue_urls["Deliveries"]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert len(received) == 4
    assert all(json.loads(m["Body"]).get("endpoint_id") for m in received)
    client("dynamodb").meta.events.register("before-call.dynamodb.BatchGetItem", unavailable)
    try:
        with pytest.raises(ClientError):
            invoke(
                "deliver_webhooks",
                {"Records": [sqs_record(m, "arn:aws:sqs:us-east-1:0:q", "us-east-1") for m in received]},
            )
    finally:
        client("dynamodb").meta.events.unregister("before-call.dynamodb.BatchGetItem", unavailable)
    assert receiver.received == []
    sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for n, m in enumerate(received)
        ],
    )
    pump(delivery_env)
    assert len(receiver.delivered()) == 4
    assert len({(r["path"], r["headers"]["webhook-id"]) for r in receiver.delivered()}) == 4  # each once
