"""An AWS call's timeouts and retries end inside the deadline of every function that makes it (issue 10):
a retried write that finds its own result must still answer before Lambda stops the function."""

from __future__ import annotations

import pytest

from bookinghub.aws.clients import worst_case_call_seconds
from bookinghub.core.settings import Settings
from infra import topology

REST_OF_REQUEST_SECONDS = 2.0  # the function's other calls and its own work, at their normal speed


def _calls_aws(fn: topology.Function) -> bool:
    access = fn.access
    return bool(
        access.read_tables
        or access.write_tables
        or access.send_queues
        or access.read_secrets
        or access.kms_encrypt
        or access.kms_decrypt
        or access.kms_data_keys
        or fn.queue
        or fn.stream
    )


@pytest.mark.parametrize("fn", [fn for fn in topology.FUNCTIONS if _calls_aws(fn)], ids=lambda fn: fn.name)
def test_one_call_s_retries_fit_in_the_function_timeout(fn: topology.Function) -> None:
    read_timeout = Settings.model_fields["aws_read_timeout_seconds"].default
    assert worst_case_call_seconds(read_timeout) + REST_OF_REQUEST_SECONDS <= fn.timeout_seconds


def test_the_budget_counts_every_attempt_and_backoff() -> None:
    assert worst_case_call_seconds(2.0) == pytest.approx(2 * (1 + 2) + 1)
