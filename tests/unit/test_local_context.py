"""The local runtime's Lambda context: the attributes Powertools and the handlers read, one per invocation."""

from __future__ import annotations

import time
import uuid

from infra.local.invoke import LocalLambdaContext


def test_a_context_carries_what_lambdas_does() -> None:
    context = LocalLambdaContext(function_name="sync_bookings", timeout_seconds=10, memory_limit_in_mb=512)
    assert context.function_name == "sync_bookings"
    assert context.memory_limit_in_mb == 512
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:sync_bookings"
    assert context.log_group_name == "/aws/lambda/sync_bookings"
    assert context.log_stream_name == "local"
    assert 9_000 < context.get_remaining_time_in_millis() <= 10_000


def test_the_remaining_time_counts_down_to_zero() -> None:
    context = LocalLambdaContext(function_name="f", timeout_seconds=0)
    time.sleep(0.01)
    assert context.get_remaining_time_in_millis() == 0


def test_every_invocation_gets_its_own_version_4_request_id() -> None:
    ids = [LocalLambdaContext(function_name="f", timeout_seconds=3).aws_request_id for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)


def test_a_given_request_id_is_kept() -> None:
    given = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    assert LocalLambdaContext(function_name="f", timeout_seconds=3, aws_request_id=given).aws_request_id == given
