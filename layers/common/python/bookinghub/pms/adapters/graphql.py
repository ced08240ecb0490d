"""A GraphQL adapter on `requests` with the REST adapter's retry and pacing policy.

Shaped after Oracle OPERA Cloud's GraphQL API: POST {query, variables, operationName} with a bearer
token, answers `{data, errors}` where each error may carry `extensions.code`. GraphQL fails in more
ways than HTTP does, each handled here:
- 200 with `data` only: the result;
- 200 with `errors` and partial `data`: the result with its errors (the caller keeps what it got and
  counts the rest as failed items);
- 200 with a throttle code in `errors` (and no data): retried like a 429;
- 200 with any other error and no data: permanent (ProviderError, not retried);
- HTTP 429/5xx, timeouts: retried; other 4xx: permanent.
A thin client rather than `gql`: gql costs ~110 ms of import and graphql-core's parser, and turns a
result with errors into an exception, losing the partial data this adapter must keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from bookinghub.pms.adapters.policy import (
    RetryableFailure,
    RetryPolicy,
    TokenBucket,
    count_rate_limited,
    retry_after_seconds,
)
from bookinghub.pms.errors import ProviderError

# extensions.code values that mean "slow down" (OPERA Cloud's gateway, Apollo/Shopify-style servers)
THROTTLE_CODES = frozenset({"THROTTLED", "RATE_LIMITED", "TOO_MANY_REQUESTS", "429"})


@dataclass(frozen=True)
class GraphQLResult:
    data: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return bool(self.errors)


def _codes(errors: list[dict[str, Any]]) -> set[str]:
    return {str((e.get("extensions") or {}).get("code", "")).upper() for e in errors if isinstance(e, dict)}


class GraphQLAdapter:
    def __init__(
        self,
        url: str,
        *,
        provider: str,
        headers: Mapping[str, str] | None = None,
        policy: RetryPolicy | None = None,
        bucket: TokenBucket | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url
        self.provider = provider
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.policy = policy or RetryPolicy()
        self.bucket = bucket
        self.session = session or requests.Session()

    def execute(
        self, query: str, variables: Mapping[str, Any] | None = None, *, operation: str | None = None
    ) -> GraphQLResult:
        body = {"query": query, "variables": dict(variables or {}), "operationName": operation}

        def attempt() -> GraphQLResult:
            if self.bucket is not None:
                self.bucket.acquire()
            try:
                response = self.session.post(
                    self.url, json=body, headers=self.headers, timeout=self.policy.timeout, allow_redirects=False
                )
            except (requests.Timeout, requests.ConnectionError) as error:
                raise RetryableFailure(f"{type(error).__name__} calling GraphQL") from None
            return self._result(response)

        try:
            return self.policy.run(attempt, provider=self.provider, operation=operation or "graphql")
        except RetryableFailure as failure:
            raise ProviderError(
                f"GraphQL failed after retries: {failure}", retryable=True, status=failure.status
            ) from None

    def _result(self, response: requests.Response) -> GraphQLResult:
        status = response.status_code
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if status == 429:
            count_rate_limited(self.provider)
            raise RetryableFailure("HTTP 429", status=status, retry_after=retry_after)
        if status >= 500:
            raise RetryableFailure(f"HTTP {status}", status=status, retry_after=retry_after)
        if status >= 300:
            raise ProviderError(f"GraphQL: HTTP {status}", retryable=False, status=status)
        try:
            payload = response.json()
        except ValueError:
            raise ProviderError("GraphQL: answer is not JSON", retryable=False, status=status) from None
        if not isinstance(payload, dict):
            raise ProviderError("GraphQL: answer is not an object", retryable=False, status=status)
        errors = [e for e in payload.get("errors") or [] if isinstance(e, dict)]
        data = payload.get("data")
        if isinstance(data, dict) and data:
            return GraphQLResult(data=data, errors=errors)
        if not errors:
            raise ProviderError("GraphQL: answer has neither data nor errors", retryable=False, status=status)
        if _codes(errors) & THROTTLE_CODES:
            count_rate_limited(self.provider)
            asked = next(
                (
                    float(e["extensions"]["retryAfter"])
                    for e in errors
                    if isinstance((e.get("extensions") or {}).get("retryAfter"), int | float)
                ),
                None,
            )
            raise RetryableFailure("GraphQL throttled", status=status, retry_after=asked or retry_after)
        message = "; ".join(str(e.get("message", "error"))[:200] for e in errors[:3])
        raise ProviderError(f"GraphQL error: {message}", retryable=False, status=status)
