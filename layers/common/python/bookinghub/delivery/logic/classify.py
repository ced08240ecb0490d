"""What an attempt's outcome means for the delivery and its endpoint (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Verdict = Literal["success", "retry", "permanent", "disable", "park"]


@dataclass(frozen=True)
class Classification:
    verdict: Verdict
    reason: str


def is_make_endpoint(url: str, kind: str) -> bool:
    """Make.com webhooks live on hook.<zone>.make.com (e.g. hook.eu1.make.com)."""
    host = (urlsplit(url).hostname or "").lower()
    return kind == "make" or (host.startswith("hook.") and host.endswith(".make.com"))


def classify(status_code: int | None, body_excerpt: str, *, make: bool) -> Classification:
    """2xx delivered; 410 disables (Make.com: parks, its scenario is off); 429, 408 and Make.com's
    400 "Queue is full" are retried later; other 4xx and 3xx (redirects are not followed) are permanent;
    5xx and no answer (status None: timeout, refused, reset) are retried."""
    if status_code is None:
        return Classification("retry", "no answer")
    if 200 <= status_code < 300:
        return Classification("success", f"HTTP {status_code}")
    if status_code == 410:
        if make:
            return Classification("park", "Make.com answered 410: no scenario is listening on this webhook")
        return Classification("disable", "the receiver answered 410 Gone")
    if status_code in (408, 429):
        return Classification("retry", f"HTTP {status_code}: the receiver asks for later")
    if status_code == 400 and "queue is full" in body_excerpt.lower():
        return Classification("retry", "HTTP 400: the receiver's queue is full")
    if status_code >= 500:
        return Classification("retry", f"HTTP {status_code}")
    return Classification("permanent", f"HTTP {status_code}: refused")
