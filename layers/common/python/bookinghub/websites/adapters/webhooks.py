"""Outbound webhooks to source websites (seed 002, "Webhook Specification (Sync Back to Source)").

The only code that makes HTTP calls to websites. It posts a body that is already signed, never follows
redirects, and tells the caller how to treat the answer: delivered, rejected for good, or worth a retry.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal
from urllib.parse import urlsplit

import requests

from bookinghub.core.observability import trace_library
from bookinghub.core.urls import (
    PrivateDestination,
    UnresolvableHost,
    WebhookUrlRejected,
    check_destination,
    check_webhook_url,
)

Outcome = Literal["delivered", "rejected", "retry"]

# 408 and 429 say "not now", not "never": they are retried like a 5xx
_RETRYABLE_CLIENT_ERRORS = {408, 429}
_EXCERPT_BYTES = 512


class WebhookTransportError(Exception):
    """No HTTP answer (timeout, refused connection, TLS failure): worth a retry."""


@dataclass(frozen=True)
class WebhookResponse:
    status_code: int
    duration_ms: int
    body_excerpt: str  # the start of the answer, for the sync log (the caller masks it)

    @property
    def outcome(self) -> Outcome:
        if 200 <= self.status_code < 300:
            return "delivered"
        if self.status_code >= 500 or self.status_code in _RETRYABLE_CLIENT_ERRORS:
            return "retry"
        # 3xx (redirects are not followed) and the other 4xx: the website refuses this delivery
        return "rejected"


@cache
def _session() -> requests.Session:
    trace_library("requests")
    session = requests.Session()
    # No proxies, .netrc credentials or CA bundles from the environment: a website's URL must never
    # receive credentials meant for another host.
    session.trust_env = False
    return session


def post_webhook(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout_seconds: float,
    allow_insecure_loopback: bool = False,
    session: requests.Session | None = None,
) -> WebhookResponse:
    """POST `body` exactly as given (it is what was signed). Raises WebhookUrlRejected or WebhookTransportError."""
    check_webhook_url(url, allow_insecure_loopback=allow_insecure_loopback)
    try:  # again at delivery: the host may resolve elsewhere than when it was registered
        check_destination(urlsplit(url).hostname or "", allow_loopback=allow_insecure_loopback)
    except UnresolvableHost as error:
        raise WebhookTransportError(str(error)) from None
    except PrivateDestination as error:
        raise WebhookUrlRejected(f"webhook URL {error}") from None
    started = time.monotonic()
    try:
        response = (session or _session()).post(
            url, data=body, headers=dict(headers), timeout=timeout_seconds, allow_redirects=False, stream=True
        )
    except requests.RequestException as error:
        raise WebhookTransportError(f"{type(error).__name__}: {error}") from error
    with response:
        duration_ms = int((time.monotonic() - started) * 1000)
        return WebhookResponse(response.status_code, duration_ms, _excerpt(response))


def _excerpt(response: requests.Response) -> str:
    """The start of the answer only: a website's error page is not worth megabytes of memory. The status
    is already known, so a body that fails to arrive does not change the outcome."""
    try:
        chunk = next(response.iter_content(_EXCERPT_BYTES), b"")
    except requests.RequestException:
        return ""
    return chunk.decode("utf-8", errors="replace") if isinstance(chunk, bytes) else str(chunk)
