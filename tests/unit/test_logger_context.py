"""The hub's Logger adds the invocation's keys itself where Powertools would have nothing else to do:
the same keys, in the same order, with the same values as Powertools' own `inject_lambda_context`."""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from bookinghub.core.observability import HubLogger


class Context:
    function_name = "sync_bookings"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sync_bookings"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"


_names = itertools.count()
EVENT = {"requestContext": {"requestId": "req-1"}, "headers": {"X-Correlation-Id": "hdr-1"}}


def line_of(logger_class: type[Logger], path: str | None, event: dict[str, Any] = EVENT) -> dict[str, Any]:
    stream = io.StringIO()
    # A logger of its own (Powertools shares the handler of a service name's first logger)
    logger = logger_class(service=f"logger-context-test-{next(_names)}", stream=stream)

    @logger.inject_lambda_context(correlation_id_path=path)
    def handler(event: dict[str, Any], context: Any) -> None:
        logger.info("inside", extra={"booking_id": "b-1"})

    handler(event, Context())
    line: dict[str, Any] = json.loads(stream.getvalue())
    line.pop("service")
    return line


@pytest.mark.parametrize(
    ("path", "event"),
    [
        (correlation_paths.API_GATEWAY_REST, EVENT),
        (correlation_paths.API_GATEWAY_REST, {"requestContext": "not an object"}),
        (correlation_paths.API_GATEWAY_REST, {}),
        ('headers."X-Correlation-Id"', EVENT),  # not only field names: Powertools' JMESPath search
        (None, EVENT),
    ],
)
def test_a_line_carries_what_powertools_would_have_added(path: str | None, event: dict[str, Any]) -> None:
    ours, theirs = line_of(HubLogger, path, event), line_of(Logger, path, event)
    for line in (ours, theirs):
        line.pop("timestamp")
        line.pop("cold_start")
    assert list(ours) == list(theirs)
    assert ours == theirs
    if path == correlation_paths.API_GATEWAY_REST and event is EVENT:
        assert ours["correlation_id"] == "req-1"


def test_only_the_first_invocation_is_a_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HubLogger, "_cold_start", None)
    stream = io.StringIO()
    logger = HubLogger(service="logger-cold-start-test", stream=stream)

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> None:
        logger.info("inside")

    for _ in range(3):
        handler({}, Context())
    assert [json.loads(line)["cold_start"] for line in stream.getvalue().splitlines()] == [True, False, False]


def test_the_cold_start_flag_is_written_once_not_on_every_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A class attribute write invalidates the attribute caches of the class: once the flag is down,
    an invocation leaves HubLogger's dict as it is (a falsy stand-in for False shows any write)."""

    class Down:
        def __bool__(self) -> bool:
            return False

    down = Down()
    monkeypatch.setattr(HubLogger, "_cold_start", down)
    stream = io.StringIO()
    logger = HubLogger(service="logger-cold-start-writes", stream=stream)

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> None:
        logger.info("inside")

    for _ in range(3):
        handler({}, Context())
    assert HubLogger.__dict__["_cold_start"] is down
    assert [json.loads(line)["cold_start"] for line in stream.getvalue().splitlines()] == [False, False, False]


def test_under_provisioned_concurrency_no_invocation_is_a_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HubLogger, "_cold_start", None)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    stream = io.StringIO()
    logger = HubLogger(service="logger-provisioned-test", stream=stream)

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> None:
        logger.info("inside")

    handler({}, Context())
    handler({}, Context())
    assert [json.loads(line)["cold_start"] for line in stream.getvalue().splitlines()] == [False, False]


def test_event_logging_is_left_to_powertools(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    logger = HubLogger(service="logger-log-event-test", stream=stream)

    @logger.inject_lambda_context(log_event=True)
    def handler(event: dict[str, Any], context: Any) -> str:
        return "done"

    assert handler({"hello": "world"}, Context()) == "done"
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["message"] == {"hello": "world"}
    assert line["function_request_id"] == Context.aws_request_id


def test_a_formatter_of_its_own_gets_the_keys_through_its_append_keys() -> None:
    """The keys go straight into Powertools' own formatter's dict; any other formatter is called as
    Powertools calls it."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    appended: list[dict[str, Any]] = []

    class Recording(LambdaPowertoolsFormatter):
        def append_keys(self, **additional_keys: Any) -> None:
            appended.append(additional_keys)
            super().append_keys(**additional_keys)

    stream = io.StringIO()
    logger = HubLogger(service=f"logger-formatter-test-{next(_names)}", stream=stream, logger_formatter=Recording())

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    def handler(event: dict[str, Any], context: Any) -> None:
        logger.info("inside")

    appended.clear()  # (Powertools appends its own keys when the logger is built)
    handler(EVENT, Context())
    assert [list(keys) for keys in appended] == [
        ["cold_start", "function_name", "function_memory_size", "function_arn", "function_request_id", "correlation_id"]
    ]
    assert json.loads(stream.getvalue())["correlation_id"] == "req-1"
