"""A REST adapter on `requests`: the shared retry policy, per-key pacing, timeouts, JSON answers.

429 and 5xx are retried (Retry-After honoured), as are timeouts and dropped connections; any other 4xx
is permanent. Redirects are not followed: a provider that redirects is misconfigured, and following one
could carry the credentials elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
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

_BODY_EXCERPT = 200


class RestAdapter:
    def __init__(
        self,
        base_url: str,
        *,
        provider: str,
        headers: Mapping[str, str] | None = None,
        policy: RetryPolicy | None = None,
        bucket: TokenBucket | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.provider = provider
        self.headers = dict(headers or {})
        self.policy = policy or RetryPolicy()
        self.bucket = bucket
        self.session = session or requests.Session()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> Any:
        """The decoded JSON answer of a 2xx; ProviderError otherwise (after retries where they help)."""
        url = f"{self.base_url}/{path.lstrip('/')}"

        def attempt() -> Any:
            if self.bucket is not None:
                self.bucket.acquire()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,  # requests form-encodes a mapping (application/x-www-form-urlencoded)
                    json=json_body,
                    headers=self.headers,
                    timeout=self.policy.timeout,
                    allow_redirects=False,
                )
            except (requests.Timeout, requests.ConnectionError) as error:
                raise RetryableFailure(f"{type(error).__name__} calling {path}") from None
            return self._answer(response, path)

        try:
            return self.policy.run(attempt, provider=self.provider, operation=path)
        except RetryableFailure as failure:
            raise ProviderError(
                f"{path} failed after retries: {failure}", retryable=True, status=failure.status
            ) from None

    def _answer(self, response: requests.Response, path: str) -> Any:
        status = response.status_code
        if status == 429:
            count_rate_limited(self.provider)
            raise RetryableFailure(
                "HTTP 429", status=status, retry_after=retry_after_seconds(response.headers.get("Retry-After"))
            )
        if status >= 500:
            raise RetryableFailure(
                f"HTTP {status}", status=status, retry_after=retry_after_seconds(response.headers.get("Retry-After"))
            )
        if status >= 300:
            raise ProviderError(
                f"{path}: HTTP {status}: {response.text[:_BODY_EXCERPT]}", retryable=False, status=status
            )
        try:
            return response.json()
        except ValueError:
            raise ProviderError(f"{path}: answer is not JSON", retryable=False, status=status) from None
