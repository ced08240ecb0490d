"""The only code that calls a delivery receiver: one POST of an already signed body.

Every attempt goes through the hub's outbound guard (bookinghub.core.adapters.outbound, shared with the
Beds24 and Rooms clients; its docstring says how): the URL is checked with the outbound rules before
every attempt, and the connection is pinned to the address that was checked, so DNS rebinding cannot move
the request. Redirects are never followed; proxies and credentials from the environment are never used.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

# The guard every outbound call shares, re-exported under the names delivery has always used
from bookinghub.core.adapters.outbound import DestinationRefused as DestinationRefused
from bookinghub.core.adapters.outbound import Pinned as Pinned
from bookinghub.core.adapters.outbound import check_url as check_url
from bookinghub.core.adapters.outbound import new_session as _new_pinned_session
from bookinghub.core.adapters.outbound import pinned_adapter_class as pinned_adapter_class
from bookinghub.core.observability import trace_library
from bookinghub.core.urls import Resolver, UnresolvableHost

if TYPE_CHECKING:
    import requests  # imported at the first call (~30 ms of init for the API functions that import this)

_EXCERPT_BYTES = 512
# Past the excerpt, an answer is read (and dropped) to its end when that comes within this many bytes
# and within the attempt's timeout, so its kept-alive connection goes back to the session's pool; a
# longer or slower one is cut off and its connection closed (the next attempt connects again)
_DRAIN_BYTES = 64 * 1024


@dataclass(frozen=True)
class HttpResult:
    status_code: int | None  # None: no HTTP answer at all
    duration_ms: int
    body_excerpt: str = ""
    retry_after: str | None = None
    error: str | None = None


def new_session() -> requests.Session:
    """A pinned session for deliveries. Every delivery carries its `webhook-id` (stable across retries and
    replays, receivers de-duplicate by it), so a POST that met a kept-alive connection the receiver had just
    closed goes again once on a new connection instead of counting as the receiver's failure."""
    return _new_pinned_session(requests_carry_idempotency_keys=True)


@cache
def _session() -> requests.Session:
    trace_library("requests")
    return new_session()


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout_seconds: float,
    allow_insecure_loopback: bool,
    session: requests.Session | None = None,
    resolver: Resolver | None = None,
) -> HttpResult:
    """One attempt. Raises DestinationRefused; every other failure is an HttpResult without a status.
    `session` must mount the pinning adapter (new_session()) for https to verify the original hostname."""
    import requests

    started = time.monotonic()
    try:
        pinned = check_url(url, allow_insecure_loopback=allow_insecure_loopback, resolver=resolver)
    except UnresolvableHost as error:
        return HttpResult(None, 0, error=str(error))
    http = session or _session()
    try:
        prepared = http.prepare_request(
            requests.Request("POST", pinned.url, data=body, headers={**headers, "Host": pinned.host_header})
        )
        prepared.pinned_hostname = pinned.hostname  # type: ignore[attr-defined]  # read by PinnedAdapter
        response = http.send(
            prepared,
            # (connect, read): the whole attempt stays within the timeout's order of magnitude
            timeout=(min(5.0, timeout_seconds), timeout_seconds),
            allow_redirects=False,
            stream=True,
            verify=http.verify,
            proxies={},
        )
    except requests.RequestException as error:
        elapsed = int((time.monotonic() - started) * 1000)
        return HttpResult(None, elapsed, error=f"{type(error).__name__}: {str(error)[:300]}")
    with response:
        excerpt = _excerpt(response, deadline=started + timeout_seconds)
        elapsed = int((time.monotonic() - started) * 1000)
        return HttpResult(response.status_code, elapsed, excerpt, response.headers.get("Retry-After"))


def _excerpt(response: requests.Response, *, deadline: float) -> str:
    import requests

    try:
        chunks = response.iter_content(_EXCERPT_BYTES)
        chunk = next(chunks, b"")
        drained = 0
        for rest in chunks:
            drained += len(rest)
            if drained > _DRAIN_BYTES or time.monotonic() > deadline:
                break
    except requests.RequestException:
        return ""
    return chunk.decode("utf-8", errors="replace") if isinstance(chunk, bytes) else str(chunk)
