"""The only code that calls a delivery receiver: one POST of an already signed body.

The URL is checked before every attempt with the hub's outbound guard (bookinghub.core.urls): https only
(plain http to loopback only when allowed, `make run`), and every address the host resolves to now must
be public, so a host that has started to resolve inside the network is refused at that attempt. Redirects
are never followed; proxies and credentials from the environment are never used.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bookinghub.core.observability import trace_library
from bookinghub.core.urls import PrivateDestination, UnresolvableHost, check_destination, is_loopback

if TYPE_CHECKING:
    import requests  # imported at the first call (~30 ms of init for the API functions that import this)

_EXCERPT_BYTES = 512


class DestinationRefused(Exception):
    """The URL is not one the hub sends to (scheme, or a private/loopback/metadata address)."""


@dataclass(frozen=True)
class HttpResult:
    status_code: int | None  # None: no HTTP answer at all
    duration_ms: int
    body_excerpt: str = ""
    retry_after: str | None = None
    error: str | None = None


def check_url(url: str, *, allow_insecure_loopback: bool) -> None:
    """Raise DestinationRefused unless the URL may receive deliveries now (resolves the host)."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise DestinationRefused("URL has no host")
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_insecure_loopback and is_loopback(host)):
        raise DestinationRefused(f"URL must use https (got {parts.scheme or 'no scheme'}://)")
    try:
        check_destination(host, allow_loopback=allow_insecure_loopback)
    except PrivateDestination as error:
        raise DestinationRefused(f"URL {error}") from None
    except UnresolvableHost:
        raise  # not a refusal: DNS may answer at the next attempt


@cache
def _session() -> requests.Session:
    import requests

    trace_library("requests")
    session = requests.Session()
    session.trust_env = False
    return session


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout_seconds: float,
    allow_insecure_loopback: bool,
    session: requests.Session | None = None,
) -> HttpResult:
    """One attempt. Raises DestinationRefused; every other failure is an HttpResult without a status."""
    import requests

    started = time.monotonic()
    try:
        check_url(url, allow_insecure_loopback=allow_insecure_loopback)
    except UnresolvableHost as error:
        return HttpResult(None, 0, error=str(error))
    try:
        response = (session or _session()).post(
            url,
            data=body,
            headers=dict(headers),
            # (connect, read): the whole attempt stays within the timeout's order of magnitude
            timeout=(min(5.0, timeout_seconds), timeout_seconds),
            allow_redirects=False,
            stream=True,
        )
    except requests.RequestException as error:
        elapsed = int((time.monotonic() - started) * 1000)
        return HttpResult(None, elapsed, error=f"{type(error).__name__}: {str(error)[:300]}")
    with response:
        excerpt = _excerpt(response)
        elapsed = int((time.monotonic() - started) * 1000)
        return HttpResult(response.status_code, elapsed, excerpt, response.headers.get("Retry-After"))


def _excerpt(response: requests.Response) -> str:
    import requests

    try:
        chunk = next(response.iter_content(_EXCERPT_BYTES), b"")
    except requests.RequestException:
        return ""
    return chunk.decode("utf-8", errors="replace") if isinstance(chunk, bytes) else str(chunk)
