"""Where the hub may send requests: rules shared by registration (admin API) and every outbound call.

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

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]


class UnresolvableHost(Exception):
    """The host has no address now (DNS failure): worth retrying later."""


class PrivateDestination(Exception):
    """The host resolves to an address the hub must never call."""


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


def check_destination(host: str, *, allow_loopback: bool, resolver: Resolver | None = None) -> None:
    """Raise unless every address of `host` is public (or loopback, when allowed)."""
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
