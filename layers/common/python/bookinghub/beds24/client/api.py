"""The Beds24 API v2 client: the only code that calls Beds24 (reference: beds24-api-v2.openapi.yaml).

Auth: a long-lived refresh token mints ~24 h access tokens (`GET /authentication/token`, header
`refreshToken`); calls carry header `token`. Minting costs credits, so the caller hands in the token it
stored and persists every new one from `on_token`. Every HTTP attempt is reported to `on_call` as a
CallRecord for the caller's integration log; nothing here logs, stores or holds guest data longer than
one page. Beds24 meters calls in credits per 5-minute window: the client waits for a new window when
that is short, else raises Beds24RateLimited so the caller can continue later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from bookinghub.beds24.client.http import (
    Beds24AuthError,
    Beds24Error,
    Beds24RateLimited,
    Beds24Unavailable,
    CallRecord,
    CallStatus,
    Credits,
    Malformed,
    backoff_seconds,
    check_base_url,
    check_bookings,
    check_token,
    check_write_results,
    default_session,
    error_text,
    json_answer,
    json_object,
    parse_credits,
    request_summary,
    retry_after_seconds,
    scrub,
)
from bookinghub.core.adapters.outbound import DestinationRefused, UnresolvableHost, check_url

__all__ = [
    "ALL_STATUSES",
    "AccessToken",
    "Beds24AuthError",
    "Beds24Client",
    "Beds24Error",
    "Beds24RateLimited",
    "Beds24Unavailable",
    "BookingPage",
    "BookingQuery",
    "CallRecord",
    "Credits",
    "WriteResult",
]

# Beds24 leaves out cancelled bookings unless asked: a sync must see cancellations, so all six by default
ALL_STATUSES: tuple[str, ...] = ("confirmed", "request", "new", "cancelled", "black", "inquiry")
TOKEN_REFRESH_MARGIN_SECONDS = 600.0  # a token this close to expiry could die mid-pagination


@dataclass(frozen=True)
class AccessToken:
    token: str = field(repr=False)  # kept out of repr, so a logged AccessToken leaks nothing
    expires_at: float  # epoch seconds


@dataclass(frozen=True)
class BookingQuery:
    property_ids: tuple[int, ...] = ()
    booking_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ALL_STATUSES
    modified_from: datetime | None = None  # timezone-aware; sent in UTC
    modified_to: datetime | None = None
    arrival_from: date | None = None
    arrival_to: date | None = None
    departure_from: date | None = None
    departure_to: date | None = None
    include_info_items: bool = False
    room_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        # An empty status list would silently fall back to Beds24's default (no cancellations)
        if not self.statuses or not set(self.statuses) <= set(ALL_STATUSES):
            raise ValueError(f"statuses must be a non-empty subset of {ALL_STATUSES}")
        for moment in (self.modified_from, self.modified_to):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError("modified_from / modified_to must be timezone-aware")

    def params(self, page: int) -> list[tuple[str, str]]:
        """The query string as (key, value) pairs; repeatable keys repeated, as Beds24 expects."""
        if page < 1:
            raise ValueError("page is 1-based")
        params = [("propertyId", str(int(value))) for value in self.property_ids]
        params += [("id", str(int(value))) for value in self.booking_ids]
        params += [("roomId", str(int(value))) for value in self.room_ids]
        params += [("status", value) for value in self.statuses]
        for key, moment in (("modifiedFrom", self.modified_from), ("modifiedTo", self.modified_to)):
            if moment is not None:
                params.append((key, moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")))
        for key, day in (
            ("arrivalFrom", self.arrival_from),
            ("arrivalTo", self.arrival_to),
            ("departureFrom", self.departure_from),
            ("departureTo", self.departure_to),
        ):
            if day is not None:
                params.append((key, day.strftime("%Y-%m-%d")))
        if self.include_info_items:
            params.append(("includeInfoItems", "true"))
        params.append(("page", str(page)))
        return params


@dataclass(frozen=True)
class BookingPage:
    page: int
    bookings: list[dict[str, Any]]
    next_page_exists: bool
    credits: Credits | None


@dataclass(frozen=True)
class WriteResult:
    """Beds24's answer for one booking sent to POST /bookings: applied, or refused with its errors."""

    booking_id: int
    success: bool
    errors: tuple[str, ...] = ()  # Beds24's per-item error messages ("field: message"), scrubbed
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Answer:
    """A 2xx that passed its check, or a 4xx other than 429 (left to the operation to judge)."""

    status: int
    body: dict[str, Any]
    credits: Credits | None
    error: str | None  # Beds24's error text, scrubbed


@dataclass(frozen=True)
class _Retry:
    reason: str
    rate_limit_wait: float | None = None  # set for a 429: how long Beds24 asks us to wait


Check = Callable[[dict[str, Any]], None]


class Beds24Client:
    """One Beds24 account (one refresh token). Not thread-safe: one client per invocation or worker.
    Exceptions raised by on_token / on_call propagate."""

    def __init__(
        self,
        base_url: str,
        *,
        refresh_token: str | Callable[[], str],
        access_token: AccessToken | None = None,
        on_token: Callable[[AccessToken], None] | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        timeout_seconds: float = 10.0,
        max_wait_seconds: float = 30.0,
        min_remaining_credits: int = 2,
        max_attempts: int = 3,
        session: Any = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        allow_insecure_loopback: bool = False,
    ) -> None:
        """`allow_insecure_loopback`: plain http to a loopback host (the local sandbox; the hub passes
        HUB_ALLOW_INSECURE_WEBHOOKS). `session`: something with requests' get/post (tests); the default
        checks and pins every attempt (client/http.py PinnedSession)."""
        self._allow_loopback = allow_insecure_loopback
        self._base_url = check_base_url(base_url, allow_insecure_loopback=allow_insecure_loopback)
        if not refresh_token:
            raise ValueError("refresh_token is required")
        if max_attempts < 1 or timeout_seconds <= 0 or max_wait_seconds < 0:
            raise ValueError("max_attempts >= 1, timeout_seconds > 0 and max_wait_seconds >= 0 are required")
        # A callable is asked only when a token must be minted (a KMS decrypt the caller can then skip)
        self._refresh_source = refresh_token
        self._access_token = access_token
        self._secrets = ({refresh_token} if isinstance(refresh_token, str) else set()) | (
            {access_token.token} if access_token else set()
        )
        self._on_token = on_token
        self._on_call = on_call
        self._timeout = timeout_seconds
        self._max_wait = max_wait_seconds
        self._min_remaining = min_remaining_credits
        self._max_attempts = max_attempts
        self._session = session
        self._clock = clock
        self._sleep = sleep
        self.credits: Credits | None = None  # as last seen on any answer
        self._budget: tuple[int, float] | None = None  # (remaining, epoch when the window resets)

    def bookings_page(self, query: BookingQuery, page: int = 1) -> BookingPage:
        answer = self._authed_get("get_bookings", "/bookings", query.params(page), check_bookings)
        pages = answer.body.get("pages")
        next_page = isinstance(pages, dict) and pages.get("nextPageExists") is True
        return BookingPage(page, answer.body["data"], next_page, answer.credits)

    def iter_pages(self, query: BookingQuery, start_page: int = 1) -> Iterator[BookingPage]:
        """Page after page, fetched as consumed. After Beds24RateLimited, resume at the failed page."""
        page = start_page
        while True:
            result = self.bookings_page(query, page)
            yield result
            if not result.next_page_exists:
                return
            if not result.bookings:  # would page forever, spending credits
                raise Beds24Unavailable("Beds24 get_bookings: malformed answer: an empty page promises more pages")
            page += 1

    def get_booking(self, property_id: int, booking_id: int) -> dict[str, Any] | None:
        """One booking by id, whatever its status; None when Beds24 has no such booking for that property."""
        query = BookingQuery(property_ids=(property_id,), booking_ids=(booking_id,))
        for booking in self.bookings_page(query).bookings:
            if booking["id"] == booking_id and booking.get("propertyId", property_id) == property_id:
                return booking
        return None

    def modify_bookings(self, changes: Mapping[int, Mapping[str, Any]]) -> list[WriteResult]:
        """Change existing bookings (Beds24 booking id -> fields, Beds24's names) in one POST /bookings.

        Beds24 answers per element: a refused one (a field it rejects) is a WriteResult with errors while
        the others apply. Not retried on a 4xx: the same body would be refused again."""
        elements = [{"id": booking_id, **fields} for booking_id, fields in changes.items()]
        answer = self._authed("modify_bookings", "/bookings", [], check_write_results, payload=elements)
        results = answer.body["data"]
        if len(results) != len(elements):
            raise Beds24Unavailable(f"Beds24 modify_bookings: {len(results)} results for {len(elements)} bookings")
        pairs = zip(elements, results, strict=True)
        return [_write_result(element["id"], result, self._scrub) for element, result in pairs]

    # --- tokens --------------------------------------------------------------------------------------

    def _refresh_token(self) -> str:
        if callable(self._refresh_source):
            value = self._refresh_source()
            if not value:
                raise ValueError("refresh_token is required")
            self._refresh_source = value
            self._secrets.add(value)
        return self._refresh_source

    def _token(self) -> str:
        current = self._access_token
        if current is None or current.expires_at - self._clock() <= TOKEN_REFRESH_MARGIN_SECONDS:
            current = self._mint()
        return current.token

    def _mint(self) -> AccessToken:
        minted_at = self._clock()  # before the call: the token's life is counted from no later than this
        answer = self._call("token", "/authentication/token", [], {"refreshToken": self._refresh_token()}, check_token)
        if answer.status >= 300:
            detail = f"HTTP {answer.status}" + (f": {answer.error}" if answer.error else "")
            if answer.status in (400, 401, 403):
                raise Beds24AuthError(f"Beds24 rejected the refresh token ({detail})", http_status_code=answer.status)
            raise Beds24Error(f"Beds24 token call failed ({detail})", http_status_code=answer.status)
        token = AccessToken(answer.body["token"], minted_at + answer.body["expiresIn"])
        self._access_token = token
        self._secrets.add(token.token)
        if self._on_token is not None:
            self._on_token(token)
        return token

    def _authed_get(self, operation: str, path: str, params: list[tuple[str, str]], check: Check) -> _Answer:
        return self._authed(operation, path, params, check)

    def _authed(
        self, operation: str, path: str, params: list[tuple[str, str]], check: Check, payload: Any = None
    ) -> _Answer:
        answer = self._call(operation, path, params, {"token": self._token()}, check, payload)
        if answer.status == 401:
            # The stored token may have been revoked or replaced: one fresh token, one more try, no loop
            answer = self._call(operation, path, params, {"token": self._mint().token}, check, payload)
            if answer.status == 401:
                raise Beds24AuthError(f"Beds24 {operation}: HTTP 401 with a fresh access token", http_status_code=401)
        if answer.status >= 300:
            detail = f"HTTP {answer.status}" + (f": {answer.error}" if answer.error else "")
            raise Beds24Error(f"Beds24 {operation} refused ({detail})", http_status_code=answer.status)
        return answer

    # --- one GET, with budget, retries and records ---------------------------------------------------

    def _call(
        self,
        operation: str,
        path: str,
        params: list[tuple[str, str]],
        headers: Mapping[str, str],
        check: Check,
        payload: Any = None,
    ) -> _Answer:
        """Up to max_attempts HTTP attempts of one GET (a POST of `payload` when given); answers the first
        checked 2xx or non-429 4xx. A POST is retried too: Beds24's modify of a booking to given values is
        idempotent, so a second send after an answer lost on the way changes nothing more."""
        url = self._base_url + path
        last = _Retry("no attempt")
        for attempt in range(1, self._max_attempts + 1):
            self._wait_for_budget(operation)
            outcome = self._attempt(operation, url, params, headers, check, payload)
            if isinstance(outcome, _Answer):
                return outcome
            last = outcome
            if attempt == self._max_attempts:
                break
            if outcome.rate_limit_wait is None:
                self._sleep(backoff_seconds(attempt, self._max_wait))
            elif outcome.rate_limit_wait <= self._max_wait:
                self._sleep(outcome.rate_limit_wait)
                self._budget = None  # waited for the new window already
            else:
                break
        if last.rate_limit_wait is not None:
            raise Beds24RateLimited(
                f"Beds24 {operation}: credit budget exhausted (HTTP 429)",
                retry_after_seconds=last.rate_limit_wait,
                http_status_code=429,
            )
        raise Beds24Unavailable(f"Beds24 {operation} failed after {self._max_attempts} attempts: {last.reason}")

    def _session_for_attempt(self) -> Any:
        """The default session checks (and pins) every attempt itself; a session handed in is called as
        given, after the same check: the host must resolve to public addresses only (a loopback sandbox
        where allowed), so a base URL whose host came to point inside the network is refused."""
        if self._session is None:
            return default_session(allow_insecure_loopback=self._allow_loopback)
        check_url(self._base_url, allow_insecure_loopback=self._allow_loopback)
        return self._session

    def _wait_for_budget(self, operation: str) -> None:
        """Below min_remaining_credits: sleep until the window resets if that is soon, else give up for now."""
        if self._budget is None:
            return
        remaining, resets_at = self._budget
        wait = resets_at - self._clock()
        if remaining >= self._min_remaining or wait <= 0:
            return
        if wait > self._max_wait:
            raise Beds24RateLimited(
                f"Beds24 {operation}: {remaining} credits left in this window", retry_after_seconds=wait
            )
        self._sleep(wait)
        self._budget = None  # a new window: the next answer tells its budget

    def _attempt(
        self,
        operation: str,
        url: str,
        params: list[tuple[str, str]],
        headers: Mapping[str, str],
        check: Check,
        payload: Any = None,
    ) -> _Answer | _Retry:
        import requests  # lazily (see default_session); only for its exception classes

        summary = request_summary(params)
        started = time.monotonic()

        def record(status: CallStatus, code: int | None, message: str | None, credits: Credits | None) -> None:
            if self._on_call is not None:
                duration_ms = int((time.monotonic() - started) * 1000)
                self._on_call(CallRecord(operation, status, code, duration_ms, message, summary, credits))

        try:
            response = self._send(url, params, headers, payload)
            raw = response.content
        except (requests.RequestException, OSError) as error:
            timed_out, reason = self._no_answer(error)
            record("timeout" if timed_out else "error", None, reason, None)
            return _Retry(reason)

        http_code = int(response.status_code)
        credits = parse_credits(response.headers)
        self._see(credits)
        body = json_answer(raw) if payload is not None else json_object(raw)
        text = error_text(body)
        text = self._scrub(text) if text else None
        status = http_code
        if 200 <= status < 300 and body is not None and body.get("success") is False:
            code = body.get("code")  # an error wrapped in a 200: judge it by Beds24's own code
            status = code if isinstance(code, int) and 400 <= code < 600 else 400
        if 200 <= status < 300:
            if body is None:
                reason = f"HTTP {status} without a JSON object"
                record("error", http_code, reason, credits)
                return _Retry(reason)
            try:
                check(body)
            except Malformed as error:
                reason = f"malformed answer: {error}"
                record("error", http_code, reason, credits)
                raise Beds24Unavailable(f"Beds24 {operation}: {reason}", http_status_code=http_code) from None
            record("success", http_code, None, credits)
            return _Answer(status, body, credits, None)
        reason = f"HTTP {status}" + (f": {text}" if text else "")
        record("error", http_code, reason, credits)
        if status == 429:
            return _Retry(reason, retry_after_seconds(response.headers, credits))
        if status >= 500:
            return _Retry(reason)
        return _Answer(status, body or {}, credits, text)

    def _send(self, url: str, params: list[tuple[str, str]], headers: Mapping[str, str], payload: Any) -> Any:
        """One HTTP request; a destination the guard refuses is never called (and not worth a retry now)."""
        try:
            session = self._session_for_attempt()
            if payload is None:
                return session.get(url, params=params, headers=dict(headers), timeout=self._timeout)
            return session.post(url, json=payload, headers=dict(headers), timeout=self._timeout)
        except UnresolvableHost as error:
            raise Beds24Unavailable(f"Beds24 host: {error}") from None
        except DestinationRefused as error:
            raise Beds24Error(f"Beds24 base {error}") from None

    def _no_answer(self, error: Exception) -> tuple[bool, str]:
        """Whether a failed request timed out, and why it failed (secrets scrubbed)."""
        import requests

        # requests reports a read timeout inside the body as ConnectionError("... timed out")
        timed_out = isinstance(error, requests.Timeout | TimeoutError) or "timed out" in str(error).lower()
        if timed_out:
            return True, f"no answer within {self._timeout:g} s ({type(error).__name__})"
        return False, self._scrub(f"{type(error).__name__}: {error}")

    def _see(self, credits: Credits | None) -> None:
        if credits is None:
            return
        self.credits = credits
        if credits.remaining is not None and credits.resets_in is not None:
            self._budget = (credits.remaining, self._clock() + credits.resets_in)

    def _scrub(self, text: str) -> str:
        return scrub(text, self._secrets)


def _write_result(booking_id: int, result: dict[str, Any], scrub_text: Callable[[str], str]) -> WriteResult:
    def texts(key: str) -> tuple[str, ...]:
        raw = result.get(key)
        found: list[Any] = raw if isinstance(raw, list) else []
        return tuple(
            scrub_text(f"{item.get('field') or '-'}: {item.get('message') or item.get('action') or ''}"[:300])
            for item in found
            if isinstance(item, dict)
        )

    return WriteResult(booking_id, bool(result["success"]), texts("errors"), texts("warnings"))
