"""The only code that calls a delivery receiver: one POST of an already signed body.

The URL is checked before every attempt with the hub's outbound guard (bookinghub.core.urls): https only
(plain http to loopback only when allowed, `make run`), and every address the host resolves to now must
be public, so a host that has started to resolve inside the network is refused at that attempt.

The connection is then pinned to the address that was checked: the request goes to that IP (the URL's
host is replaced by it) with the original `Host` header, and for https the TLS SNI and the certificate's
name check use the original hostname (urllib3's `server_hostname` / `assert_hostname`, part of its pool
key, so kept-alive connections are pooled per checked address and name). A resolver that answers a
public address to the check and a private one a moment later (DNS rebinding) cannot move the request.
Redirects are never followed; proxies and credentials from the environment are never used.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from bookinghub.core.observability import trace_library
from bookinghub.core.urls import (
    IPAddress,
    PrivateDestination,
    Resolver,
    UnresolvableHost,
    check_destination,
    is_loopback,
)

if TYPE_CHECKING:
    import requests  # imported at the first call (~30 ms of init for the API functions that import this)
    from requests.adapters import HTTPAdapter

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


@dataclass(frozen=True)
class Pinned:
    """A checked URL: where to connect (`url`, its host replaced by a checked address) and as whom."""

    url: str
    hostname: str  # the original host: Host header, SNI, certificate name
    host_header: str


def check_url(url: str, *, allow_insecure_loopback: bool, resolver: Resolver | None = None) -> Pinned:
    """Raise DestinationRefused unless the URL may receive deliveries now (resolves the host); return it
    pinned to one of the addresses just checked."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise DestinationRefused("URL has no host")
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_insecure_loopback and is_loopback(host)):
        raise DestinationRefused(f"URL must use https (got {parts.scheme or 'no scheme'}://)")
    try:
        addresses = check_destination(host, allow_loopback=allow_insecure_loopback, resolver=resolver)
    except PrivateDestination as error:
        raise DestinationRefused(f"URL {error}") from None
    except UnresolvableHost:
        raise  # not a refusal: DNS may answer at the next attempt
    # IPv4 first: some hosts publish AAAA records without a route to them
    address = sorted(addresses, key=lambda a: (a.version, str(a)))[0]
    port = f":{parts.port}" if parts.port else ""
    pinned = urlunsplit((parts.scheme, f"{_netloc_host(address)}{port}", parts.path, parts.query, ""))
    host_header = parts.netloc.rpartition("@")[2]  # no userinfo in a Host header
    return Pinned(pinned, host, host_header)


def _netloc_host(address: IPAddress) -> str:
    return f"[{address}]" if address.version == 6 else str(address)


@cache
def pinned_adapter_class() -> type[HTTPAdapter]:
    """The adapter class (built at first use: requests is imported then, not at cold start)."""
    from requests.adapters import HTTPAdapter

    class PinnedAdapter(HTTPAdapter):
        """Sends a pinned request: connects to the URL's address, but speaks TLS as the original hostname
        (SNI and certificate verification), which urllib3 takes as pool-key arguments."""

        def build_connection_pool_key_attributes(
            self, request: requests.PreparedRequest, verify: Any, cert: Any = None
        ) -> tuple[dict[str, Any], dict[str, Any]]:
            host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
            hostname = getattr(request, "pinned_hostname", None)
            if hostname and host_params.get("scheme") == "https":
                pool_kwargs["server_hostname"] = hostname
                # a name to check (never False: verification is never turned off here)
                pool_kwargs["assert_hostname"] = hostname
            return host_params, pool_kwargs

    return PinnedAdapter


def new_session() -> requests.Session:
    """A session that sends pinned requests (tests build their own with a test CA as `verify`)."""
    import requests

    session = requests.Session()
    session.trust_env = False
    adapter = pinned_adapter_class()(pool_connections=32, pool_maxsize=16)  # kept-alive connections per address
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


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
