"""Where the hub may send requests: rules shared by registration (admin API) and every outbound call.

https only (plain http to a loopback host only where the caller allows it: HUB_ALLOW_INSECURE_WEBHOOKS,
i.e. `make run`).
Every address a destination host resolves to must be public: no private, loopback, link-local (the
instance metadata service at 169.254.169.254), carrier-grade NAT, reserved or multicast address; plain
loopback only where the caller allows it (`make run`). Checked when a URL is registered and again before
each call, so a host that later resolves inside the network (DNS rebinding) is refused then too.
No heavy imports: the provider clients stay cheap to import.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from bookinghub.core.errors import UnsafeUrl

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]


class UnresolvableHost(Exception):
    """The host has no address now (DNS failure): worth retrying later."""


class PrivateDestination(Exception):
    """The host resolves to an address the hub must never call."""


class WebhookUrlRejected(ValueError):
    """The URL is not one the hub posts to (scheme, host); retrying cannot help."""


def check_webhook_url(url: str, *, allow_insecure_loopback: bool) -> None:
    """Only https; plain http only to a loopback host and only when explicitly allowed (local runs)."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise WebhookUrlRejected("webhook URL has no host")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and allow_insecure_loopback and is_loopback(host):
        return
    raise WebhookUrlRejected(f"webhook URL must use https (got {parts.scheme or 'no scheme'}://{host})")


def check_outbound_url(url: str, field: str) -> str:
    """A URL an operator registers (webhook, provider endpoint): UnsafeUrl (400) unless the hub may call it."""
    from bookinghub.core.settings import get_settings  # here, not at import: provider clients stay light

    def reject(reason: str) -> UnsafeUrl:
        return UnsafeUrl(f"{field} {reason}", details=[{"field": field, "message": reason}])

    allow_loopback = get_settings().allow_insecure_webhooks
    try:
        parts = urlsplit(url)
        _ = parts.port  # read for its check: a port outside 0-65535, or not a number, raises
    except ValueError:  # e.g. "https://[::1" (unbalanced IPv6 brackets) or a bad port
        raise reject("is not a valid URL") from None
    try:
        check_webhook_url(url, allow_insecure_loopback=allow_loopback)
    except WebhookUrlRejected:
        raise reject("must be an https:// URL") from None
    if parts.username or parts.password:
        raise reject("must not carry credentials")
    loopback_ok = allow_loopback and parts.scheme in ("http", "https")
    try:
        check_destination(parts.hostname or "", allow_loopback=loopback_ok)
    except UnresolvableHost:
        raise reject("host could not be resolved") from None
    except PrivateDestination as error:
        raise reject(str(error)) from None
    return url


def is_loopback(host: str) -> bool:
    """localhost or a loopback address: plain http is tolerated only there (local sandboxes)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})


def check_destination(host: str, *, allow_loopback: bool, resolver: Resolver | None = None) -> list[IPAddress]:
    """Raise unless every address of `host` is public (or loopback, when allowed); return those addresses,
    so a caller can connect to one it checked rather than resolve the name again (DNS rebinding)."""
    try:
        addresses = (
            [ipaddress.ip_address(host)]
            if _is_ip(host)
            else [ipaddress.ip_address(a) for a in (resolver or resolve)(host)]
        )
    except (OSError, ValueError):
        raise UnresolvableHost("host could not be resolved") from None
    if not addresses:
        raise UnresolvableHost("host could not be resolved")
    for address in addresses:
        if allow_loopback and _unmapped(address).is_loopback:
            continue
        if not _is_public(address):
            raise PrivateDestination("must not point at a private, loopback, link-local or metadata address")
    return addresses


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_public(address: IPAddress) -> bool:
    address = _unmapped(address)
    return address.is_global and not address.is_multicast and not address.is_reserved
