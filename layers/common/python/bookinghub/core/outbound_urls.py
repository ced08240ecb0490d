"""Outbound URLs an operator registers (webhooks, provider endpoints) must not point inside the network.

https only (plain http to a loopback host only when HUB_ALLOW_INSECURE_WEBHOOKS is on, i.e. `make run`),
and every address the host resolves to must be a public one (bookinghub.core.urls, which the
calls themselves check again).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bookinghub.core import urls
from bookinghub.core.errors import UnsafeUrl
from bookinghub.core.settings import get_settings
from bookinghub.core.urls import PrivateDestination, UnresolvableHost, check_destination
from bookinghub.websites.adapters.webhooks import WebhookUrlRejected, check_webhook_url


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (a seam for tests: no DNS on the test machine)."""
    return urls.resolve(host)


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
    loopback_ok = allow_loopback and parts.scheme in ("http", "https")
    try:
        check_destination(host, allow_loopback=loopback_ok, resolver=resolve)
    except UnresolvableHost:
        raise reject("host could not be resolved") from None
    except PrivateDestination as error:
        raise reject(str(error)) from None
    return url
