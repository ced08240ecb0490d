"""REST and GraphQL adapters: retries (429, 5xx, Retry-After, timeouts), permanent failures, pacing.

Against servers on loopback: the Cloudbeds sandbox for REST, a scripted GraphQL server shaped after
OPERA Cloud's answers. Backoff sleeps are recorded, not slept.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from bookinghub.pms.adapters.cloudbeds import PACING_MARGIN
from bookinghub.pms.adapters.graphql import GraphQLAdapter
from bookinghub.pms.adapters.policy import RetryPolicy, TokenBucket, retry_after_seconds
from bookinghub.pms.adapters.rest import RestAdapter
from bookinghub.pms.errors import ProviderError
from infra.local.sandbox import cloudbeds_data as demo
from infra.local.sandbox.cloudbeds import CloudbedsSandbox
from tests.integration.pms_http.conftest import Sleeps

KEY = {"x-api-key": demo.DEMO_API_KEY}
PARAMS = {"propertyID": demo.DEMO_PROPERTY_ID}


def rest(url: str, sleeps: Sleeps, **policy: Any) -> RestAdapter:
    return RestAdapter(f"{url}/api/v1.3", provider="cloudbeds", headers=KEY, policy=RetryPolicy(sleep=sleeps, **policy))


def test_backoff_is_1_2_4_seconds_then_gives_up(serve: Callable[[Any], str], sleeps: Sleeps) -> None:
    sandbox = CloudbedsSandbox()
    sandbox.failures.extend([(503, None)] * 4)
    adapter = rest(serve(sandbox), sleeps)
    with pytest.raises(ProviderError) as caught:
        adapter.request("GET", "getRooms", params=PARAMS)
    assert caught.value.retryable
    assert caught.value.status == 503
    assert sleeps == [1.0, 2.0, 4.0]  # 3 retries after the first attempt
    assert len(sandbox.calls) == 4


def test_a_5xx_then_success_returns_the_answer(serve: Callable[[Any], str], sleeps: Sleeps) -> None:
    sandbox = CloudbedsSandbox()
    sandbox.failures.extend([(500, None), (502, None)])
    body = rest(serve(sandbox), sleeps).request("GET", "getRooms", params=PARAMS)
    assert body["success"] is True
    assert sleeps == [1.0, 2.0]


def test_retry_after_is_honoured_and_capped(serve: Callable[[Any], str], sleeps: Sleeps) -> None:
    sandbox = CloudbedsSandbox()
    sandbox.failures.extend([(429, 7), (429, 120)])
    rest(serve(sandbox), sleeps).request("GET", "getRooms", params=PARAMS)
    assert sleeps == [7.0, 30.0]  # longer than the backoff when asked; never past 30 s


def test_the_max_delay_caps_the_backoff(serve: Callable[[Any], str], sleeps: Sleeps) -> None:
    sandbox = CloudbedsSandbox()
    sandbox.failures.extend([(503, None)] * 3)
    rest(serve(sandbox), sleeps, initial_delay=10.0).request("GET", "getRooms", params=PARAMS)
    assert sleeps == [10.0, 20.0, 30.0]


def test_a_4xx_is_permanent(serve: Callable[[Any], str], sleeps: Sleeps) -> None:
    url = serve(CloudbedsSandbox())
    adapter = RestAdapter(
        f"{url}/api/v1.3", provider="cloudbeds", headers={"x-api-key": "cbat_wrong"}, policy=RetryPolicy(sleep=sleeps)
    )
    with pytest.raises(ProviderError) as caught:
        adapter.request("GET", "getRooms", params=PARAMS)
    assert (caught.value.status, caught.value.retryable) == (401, False)
    assert sleeps == []


def test_a_timeout_is_retried(serve: Callable[[Any], str], sleeps: Sleeps) -> None:
    slow = deque([0.5, 0.0])

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        time.sleep(slow.popleft())
        return Response('{"ok": true}', mimetype="application/json")(environ, start_response)

    adapter = RestAdapter(serve(app), provider="test", policy=RetryPolicy(sleep=sleeps, read_timeout=0.2))
    assert adapter.request("GET", "/x") == {"ok": True}
    assert sleeps == [1.0]


def test_a_connection_refused_is_retried_then_fails(sleeps: Sleeps) -> None:
    adapter = RestAdapter("http://127.0.0.1:9", provider="test", policy=RetryPolicy(sleep=sleeps, connect_timeout=0.2))
    with pytest.raises(ProviderError) as caught:
        adapter.request("GET", "/x")
    assert caught.value.retryable
    assert len(sleeps) == 3


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds("5") == 5.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


# --- pacing -----------------------------------------------------------------------------------------


def test_token_bucket_spreads_requests_at_its_rate() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(5.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(15):
        bucket.acquire()
    assert waits[:1] == [pytest.approx(0.2)]
    assert now[0] == pytest.approx(2.0)  # 5 banked, then 10 more at 5/s


def test_paced_client_never_trips_the_sandbox_rate_limit(serve: Callable[[Any], str]) -> None:
    sandbox = CloudbedsSandbox()
    adapter = RestAdapter(
        f"{serve(sandbox)}/api/v1.3",
        provider="cloudbeds",
        headers=KEY,
        bucket=TokenBucket(5.0 * PACING_MARGIN, capacity=1),
    )
    started = time.monotonic()
    for _ in range(12):
        adapter.request("GET", "getRooms", params=PARAMS)
    assert time.monotonic() - started >= 11 / (5.0 * PACING_MARGIN) - 0.05
    assert [c["status"] for c in sandbox.calls] == [200] * 12


def test_unpaced_bursts_get_429_and_then_a_suspension(serve: Callable[[Any], str], sleeps: Sleeps) -> None:
    sandbox = CloudbedsSandbox()
    sandbox.suspend_after = 3
    adapter = rest(serve(sandbox), sleeps, retries=0)
    statuses = []
    for _ in range(10):
        try:
            adapter.request("GET", "getRooms", params=PARAMS)
            statuses.append(200)
        except ProviderError as error:
            statuses.append(error.status or 0)
    assert statuses[:5] == [200] * 5
    assert 429 in statuses
    assert statuses[-1] == 403  # suspended: even a slow caller is refused now


# --- GraphQL ----------------------------------------------------------------------------------------


class Scripted:
    """Answers each POST with the next scripted (status, body, headers); records the requests."""

    def __init__(self, *answers: tuple[int, Any] | tuple[int, Any, dict[str, str]]) -> None:
        self.answers = deque(answers)
        self.requests: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        self.requests.append(json.loads(request.get_data()))
        status, body, *rest_ = self.answers.popleft()
        headers = rest_[0] if rest_ else {}
        return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")(
            environ, start_response
        )


QUERY = "query Reservations($hotelId: String!) { reservations(hotelId: $hotelId) { id } }"
DATA = {"reservations": [{"id": "1"}, {"id": "2"}]}


def graphql(url: str, sleeps: Sleeps) -> GraphQLAdapter:
    return GraphQLAdapter(
        url, provider="opera", headers={"Authorization": "Bearer t"}, policy=RetryPolicy(sleep=sleeps)
    )


def test_graphql_data_only(serve: Callable[[Any], str], sleeps: Sleeps) -> None:
    server = Scripted((200, {"data": DATA}))
    result = graphql(serve(server), sleeps).execute(QUERY, {"hotelId": "H1"}, operation="Reservations")
    assert (result.data, result.errors, result.partial) == (DATA, [], False)
    assert server.requests[0] == {"query": QUERY, "variables": {"hotelId": "H1"}, "operationName": "Reservations"}


def test_graphql_errors_with_partial_data_keep_the_data(serve: Callable[[Any], str], sleeps: Sleeps) -> None:
    errors = [{"message": "guest 2 hidden", "path": ["reservations", 1], "extensions": {"code": "FORBIDDEN"}}]
    result = graphql(serve(Scripted((200, {"data": DATA, "errors": errors}))), sleeps).execute(QUERY)
    assert result.partial
    assert result.data == DATA
    assert result.errors == errors
    assert sleeps == []


def test_graphql_throttle_code_on_200_is_retried(serve: Callable[[Any], str], sleeps: Sleeps) -> None:
    throttled = {
        "data": None,
        "errors": [{"message": "slow down", "extensions": {"code": "THROTTLED", "retryAfter": 3}}],
    }
    server = Scripted((200, throttled), (200, {"data": DATA}))
    assert graphql(serve(server), sleeps).execute(QUERY).data == DATA
    assert sleeps == [3.0]


def test_graphql_permanent_error_on_200_is_not_retried(serve: Callable[[Any], str], sleeps: Sleeps) -> None:
    bad = {"errors": [{"message": "Cannot query field 'x'", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]}
    with pytest.raises(ProviderError) as caught:
        graphql(serve(Scripted((200, bad))), sleeps).execute(QUERY)
    assert not caught.value.retryable
    assert "Cannot query field" in str(caught.value)
    assert sleeps == []


def test_graphql_http_5xx_and_429_retried_4xx_permanent(serve: Callable[[Any], str], sleeps: Sleeps) -> None:
    server = Scripted((503, {}), (429, {}, {"Retry-After": "2"}), (200, {"data": DATA}))
    assert graphql(serve(server), sleeps).execute(QUERY).data == DATA
    assert sleeps == [1.0, 2.0]
    with pytest.raises(ProviderError) as caught:
        graphql(serve(Scripted((401, {"error": "unauthorized"}))), sleeps).execute(QUERY)
    assert (caught.value.status, caught.value.retryable) == (401, False)


def test_graphql_timeout_is_retried(serve: Callable[[Any], str], sleeps: Sleeps) -> None:
    slow = deque([0.5, 0.0])

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        time.sleep(slow.popleft())
        return Response(json.dumps({"data": DATA}), mimetype="application/json")(environ, start_response)

    adapter = GraphQLAdapter(serve(app), provider="opera", policy=RetryPolicy(sleep=sleeps, read_timeout=0.2))
    assert adapter.execute(QUERY).data == DATA
    assert sleeps == [1.0]
