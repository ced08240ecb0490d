"""Outbound URLs an operator registers (webhooks, provider endpoints) must not point inside the network.

https only (plain http to a loopback host only when HUB_ALLOW_INSECURE_WEBHOOKS is on, i.e. `make run`),
and every address the host resolves to must be a public one: no private, loopback, link-local (the
instance metadata service at 169.254.169.254), carrier-grade NAT, reserved or multicast address.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from bookinghub.integrations.website_webhooks import WebhookUrlRejected, check_webhook_url
from bookinghub.services.admin_errors import UnsafeUrl
from bookinghub.settings import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (a seam for tests: no DNS on the test machine)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})


def check_outbound_url(url: str, field: str) -> str:
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
    host = parts.hostname or ""
    try:
        addresses = [ipaddress.ip_address(host)] if _is_ip(host) else [ipaddress.ip_address(a) for a in resolve(host)]
    except (OSError, ValueError):
        raise reject("host could not be resolved") from None
    if not addresses:
        raise reject("host could not be resolved")
    loopback_ok = allow_loopback and parts.scheme in ("http", "https")
    for address in addresses:
        if loopback_ok and _unmapped(address).is_loopback:
            continue
        if not _is_public(address):
            raise reject("must not point at a private, loopback, link-local or metadata address")
    return url


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
