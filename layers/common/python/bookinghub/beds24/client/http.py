"""The HTTP plumbing of the Beds24 API v2 client (beds24.py, which re-exports the public names): the
error types, Credits and CallRecord, the URL policy, the default session, and the pure helpers that read
and check an answer. No retries, budget or token logic here.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from bookinghub.core.adapters.outbound import new_session, send_pinned
from bookinghub.core.urls import is_loopback

if TYPE_CHECKING:
    import requests

CallStatus = Literal["success", "error", "timeout"]
DEFAULT_RETRY_AFTER_SECONDS = 60.0  # a 429 that says nothing about when to come back
BACKOFF_BASE_SECONDS = 0.5
MAX_ERROR_CHARS = 200
# Sent repeated (propertyId=1&propertyId=2), and always recorded as lists
REPEATABLE_PARAMS = frozenset({"propertyId", "id", "status", "roomId"})


class Beds24Error(Exception):
    """Base of every Beds24 failure. Messages never contain a token or guest data."""

    def __init__(self, message: str, *, http_status_code: int | None = None) -> None:
        super().__init__(message)
        self.http_status_code = http_status_code


class Beds24AuthError(Beds24Error):
    """The refresh token is rejected, or a fresh access token still gets 401: permanent until someone acts."""


class Beds24RateLimited(Beds24Error):
    """The 5-minute credit budget is spent: continue after retry_after_seconds (e.g. re-enqueue with a delay)."""

    def __init__(self, message: str, *, retry_after_seconds: float, http_status_code: int | None = None) -> None:
        super().__init__(message, http_status_code=http_status_code)
        self.retry_after_seconds = retry_after_seconds


class Beds24Unavailable(Beds24Error):
    """Timeouts, connection errors, 5xx after retries, malformed answers: worth trying again later."""


class Malformed(Exception):
    """JSON, but not the shape Beds24 documents."""


@dataclass(frozen=True)
class Credits:
    """Beds24's 5-minute credit budget, as the X-FiveMinCreditLimit* / X-RequestCost headers of one answer."""

    limit: int | None
    remaining: int | None
    resets_in: int | None  # seconds, counted from when the answer arrived
    request_cost: int | None


@dataclass(frozen=True)
class CallRecord:
    """One HTTP attempt, for the caller's integration log. Holds no token and no guest data."""

    operation: str  # "token" | "get_bookings"
    status: CallStatus
    http_status_code: int | None
    duration_ms: int
    error_message: str | None
    request: dict[str, Any]  # the query params only (the token headers never)
    credits: Credits | None


def check_base_url(base_url: str, *, allow_insecure_loopback: bool = False) -> str:
    """The base URL without its trailing slash; https only, plain http only to loopback and only where the
    settings allow it (HUB_ALLOW_INSECURE_WEBHOOKS: the local sandbox under `make run`)."""
    parts = urlsplit(base_url)
    host = parts.hostname
    if not host:
        raise ValueError("Beds24 base URL has no host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("Beds24 base URL must not carry credentials, a query or a fragment")
    if parts.scheme == "https" or (parts.scheme == "http" and allow_insecure_loopback and is_loopback(host)):
        return base_url.rstrip("/")
    # The access token travels in a header: never in clear text beyond this machine
    raise ValueError(f"Beds24 base URL must use https (got {parts.scheme or 'no scheme'}://{host})")


class PinnedSession:
    """The default way to Beds24: every attempt's URL checked then and the request sent to the address that
    was checked, as Beds24's own host (bookinghub.core.adapters.outbound: DNS rebinding cannot move it);
    never a redirect, which would carry the `token` header to wherever it points (requests only strips
    Authorization), so a 3xx is reported as it is."""

    def __init__(self, session: requests.Session, *, allow_insecure_loopback: bool) -> None:
        self._session = session
        self._allow_loopback = allow_insecure_loopback

    def get(self, url: str, *, params: Any, headers: Mapping[str, str], timeout: float) -> requests.Response:
        return send_pinned(
            self._session,
            "GET",
            url,
            params=params,
            headers=headers,
            timeout=timeout,
            allow_insecure_loopback=self._allow_loopback,
        )

    def post(self, url: str, *, json: Any, headers: Mapping[str, str], timeout: float) -> requests.Response:
        return send_pinned(
            self._session,
            "POST",
            url,
            json=json,
            headers=headers,
            timeout=timeout,
            allow_insecure_loopback=self._allow_loopback,
        )


@cache
def _requests_session() -> requests.Session:
    from bookinghub.core.observability import trace_library

    trace_library("requests")  # before the first call: Beds24 calls show up as X-Ray subsegments
    session = new_session(pool_connections=4, pool_maxsize=4)
    session.headers["User-Agent"] = "bookinghub-beds24/1"
    return session


def default_session(*, allow_insecure_loopback: bool) -> PinnedSession:
    """requests is imported here, not at import: handlers that never call Beds24 do not pay for it."""
    return PinnedSession(_requests_session(), allow_insecure_loopback=allow_insecure_loopback)


def parse_credits(headers: Mapping[str, str] | None) -> Credits | None:
    """The credit headers of an answer; None when it carries none of them."""
    lower = {str(key).lower(): value for key, value in (headers or {}).items()}
    values = [
        _int_or_none(lower.get(name))
        for name in (
            "x-fivemincreditlimit",
            "x-fivemincreditlimit-remaining",
            "x-fivemincreditlimit-resetsin",
            "x-requestcost",
        )
    ]
    return None if all(value is None for value in values) else Credits(*values)


def retry_after_seconds(headers: Mapping[str, str] | None, credits: Credits | None) -> float:
    """How long a 429 asks us to wait: the budget's ResetsIn, else Retry-After (seconds), else 60 s."""
    if credits is not None and credits.resets_in is not None and credits.resets_in >= 0:
        return float(credits.resets_in)
    lower = {str(key).lower(): value for key, value in (headers or {}).items()}
    retry_after = _int_or_none(lower.get("retry-after"))  # the HTTP-date form is not worth parsing here
    return float(retry_after) if retry_after is not None and retry_after >= 0 else DEFAULT_RETRY_AFTER_SECONDS


def _int_or_none(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def json_object(raw: Any) -> dict[str, Any] | None:
    """The answer as a JSON object, or None when it is anything else (HTML error page, cut short...)."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else str(raw or "")
        parsed = json.loads(text) if text else None
    except (UnicodeDecodeError, ValueError):
        return None
    return parsed if isinstance(parsed, dict) else None


def json_answer(raw: Any) -> dict[str, Any] | None:
    """Like json_object, but a JSON array (Beds24's answer to a POST: one result per element sent) comes
    back as {"data": [...]}, so every answer is checked and read the same way."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else str(raw or "")
        parsed = json.loads(text) if text else None
    except (UnicodeDecodeError, ValueError):
        return None
    if isinstance(parsed, list):
        return {"data": parsed}
    return parsed if isinstance(parsed, dict) else None


def error_text(body: dict[str, Any] | None) -> str | None:
    """Beds24's own `error` text, shortened (the caller still scrubs it)."""
    detail = body.get("error") if body is not None else None
    return detail[:MAX_ERROR_CHARS] if isinstance(detail, str) and detail else None


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` without any of `secrets`, shortened: error texts may echo what was sent."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text[: MAX_ERROR_CHARS * 2]


def request_summary(params: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Query params as a dict for the log: repeatable keys as lists, the others as their single value."""
    summary: dict[str, Any] = {}
    for key, value in params:
        if key in REPEATABLE_PARAMS or key in summary:
            previous = summary.get(key, [])
            summary[key] = [*(previous if isinstance(previous, list) else [previous]), value]
        else:
            summary[key] = value
    return summary


def backoff_seconds(attempt: int, cap: float) -> float:
    """Exponential backoff with full jitter: spreads retries of many workers hitting the same outage."""
    return random.uniform(0.0, min(cap, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_token(body: dict[str, Any]) -> None:
    token = body.get("token")
    if not isinstance(token, str) or not token:
        raise Malformed("no token")
    if not _is_int(body.get("expiresIn")) or body["expiresIn"] <= 0:
        raise Malformed("no positive integer expiresIn")


def check_bookings(body: dict[str, Any]) -> None:
    data = body.get("data")
    if not isinstance(data, list):
        raise Malformed("data is not a list")
    if not all(isinstance(item, dict) and _is_int(item.get("id")) for item in data):
        raise Malformed("a booking without an integer id")
    pages = body.get("pages")  # absent on a single-page answer is tolerated; present means well-formed
    if pages is not None and not (isinstance(pages, dict) and isinstance(pages.get("nextPageExists"), bool)):
        raise Malformed("pages.nextPageExists is not a boolean")


def check_write_results(body: dict[str, Any]) -> None:
    """POST /bookings: one result object per element sent, each saying whether it succeeded."""
    data = body.get("data")
    if not isinstance(data, list) or not all(isinstance(i, dict) and isinstance(i.get("success"), bool) for i in data):
        raise Malformed("not a list of results with a boolean success")
