"""Outbound HTTP pinned against DNS rebinding: the one guard every call to a URL the hub does not own uses
(delivery receivers, Beds24, the Rooms Event Hub).

The URL is checked before every attempt with the hub's outbound rules (bookinghub.core.urls): https only
(plain http to loopback only when the caller allows it: HUB_ALLOW_INSECURE_WEBHOOKS, `make run`), and every
address the host resolves to now must be public, so a host that has started to resolve inside the network
is refused at that attempt.

The connection is then pinned to the address that was checked: the request goes to that IP (the URL's
host is replaced by it) with the original `Host` header, and for https the TLS SNI and the certificate's
name check use the original hostname (urllib3's `server_hostname` / `assert_hostname`, part of its pool
key, so kept-alive connections are pooled per checked address and name). A resolver that answers a
public address to the check and a private one a moment later (DNS rebinding) cannot move the request.
Redirects are never followed; proxies and credentials from the environment are never used.
Cookies are never stored nor sent: one session serves every endpoint of every customer (delivery
receivers, each organisation's Rooms and Beds24 calls), and many customers' URLs share a host (Make.com's
hooks, a hosting provider's address), so a cookie one receiver set would go back with another customer's
requests. `requests` is imported at first use, not at cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from bookinghub.core.adapters.stale_connections import reuse_tracking_pools, stale_connection_retry
from bookinghub.core.urls import (
    IPAddress,
    PrivateDestination,
    Resolver,
    UnresolvableHost,
    check_destination,
    is_loopback,
)

if TYPE_CHECKING:
    import requests
    from requests.adapters import HTTPAdapter
    from requests.cookies import RequestsCookieJar

__all__ = [
    "DestinationRefused",
    "Pinned",
    "UnresolvableHost",
    "check_url",
    "cookieless_jar_class",
    "new_session",
    "pinned_adapter_class",
    "send_pinned",
]


class DestinationRefused(Exception):
    """The URL is not one the hub sends to (scheme, or a private/loopback/metadata address)."""


@dataclass(frozen=True)
class Pinned:
    """A checked URL: where to connect (`url`, its host replaced by a checked address) and as whom."""

    url: str
    hostname: str  # the original host: Host header, SNI, certificate name
    host_header: str


def check_url(url: str, *, allow_insecure_loopback: bool, resolver: Resolver | None = None) -> Pinned:
    """Raise DestinationRefused unless the URL may be called now (resolves the host; UnresolvableHost when
    it has no address: worth trying later); return it pinned to one of the addresses just checked."""
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

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            # pools that know whether a request's connection was reused (stale_connections' retry asks)
            self.poolmanager.pool_classes_by_scheme = reuse_tracking_pools()

    return PinnedAdapter


@cache
def cookieless_jar_class() -> type[RequestsCookieJar]:
    """A cookie jar that keeps nothing and offers nothing (built at first use, as requests is imported)."""
    from http.cookiejar import Cookie, CookiePolicy
    from urllib.request import Request

    from requests.cookies import RequestsCookieJar

    class RejectEveryCookie(CookiePolicy):
        """Set-Cookie is never accepted, and no cookie is ever returned (whatever is in a jar)."""

        netscape = True
        rfc2965 = False
        hide_cookie2 = True

        def set_ok(self, cookie: Cookie, request: Request) -> bool:
            return False

        def return_ok(self, cookie: Cookie, request: Request) -> bool:
            return False

        def domain_return_ok(self, domain: str, request: Request) -> bool:
            return False

        def path_return_ok(self, path: str, request: Request) -> bool:
            return False

    class CookielessJar(RequestsCookieJar):
        """The policy refuses what a response sets; `set_cookie` (what requests' own `cookies.set` and a
        copy from another jar call, past any policy) drops the rest, so the jar stays empty."""

        def __init__(self) -> None:
            super().__init__(policy=RejectEveryCookie())

        def set_cookie(self, cookie: Cookie, *args: Any, **kwargs: Any) -> None:
            return None

    return CookielessJar


def new_session(
    *, pool_connections: int = 32, pool_maxsize: int = 16, requests_carry_idempotency_keys: bool = False
) -> requests.Session:
    """A session that sends pinned requests, without cookies (tests build their own with a test CA as
    `verify`). A request
    on a kept-alive connection the server had just closed goes again once on a new one: idempotent methods
    always, every method when the caller's requests carry their own idempotency key (stale_connections)."""
    import requests

    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc credentials from the environment
    session.cookies = cookieless_jar_class()()  # shared across customers: no cookie may carry over
    adapter = pinned_adapter_class()(
        pool_connections=pool_connections,
        pool_maxsize=pool_maxsize,
        max_retries=stale_connection_retry(any_method=requests_carry_idempotency_keys),
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def send_pinned(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: float | tuple[float, float],
    allow_insecure_loopback: bool,
    headers: Mapping[str, str] | None = None,
    params: Any = None,
    data: bytes | None = None,
    json: Any = None,
    stream: bool = False,
    resolver: Resolver | None = None,
) -> requests.Response:
    """One attempt: the URL checked now, the request sent to the checked address as the original host.
    Raises DestinationRefused or UnresolvableHost before anything is sent, requests' errors after.
    `session` must mount the pinning adapter (new_session()) for https to verify the original hostname."""
    import requests

    pinned = check_url(url, allow_insecure_loopback=allow_insecure_loopback, resolver=resolver)
    request = requests.Request(
        method,
        pinned.url,
        params=params,
        data=data,
        json=json,
        headers={**(headers or {}), "Host": pinned.host_header},
    )
    prepared = session.prepare_request(request)
    prepared.pinned_hostname = pinned.hostname  # type: ignore[attr-defined]  # read by PinnedAdapter
    return session.send(
        prepared, timeout=timeout, allow_redirects=False, stream=stream, verify=session.verify, proxies={}
    )
