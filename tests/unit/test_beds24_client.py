"""The Beds24 API v2 client against a small in-memory Beds24 (no sockets): tokens, queries, pagination,
the credit budget, retries, answer validation, and that no token ever reaches a record or a message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from bookinghub.beds24.client.api import (
    ALL_STATUSES,
    AccessToken,
    Beds24AuthError,
    Beds24Client,
    Beds24Error,
    Beds24RateLimited,
    Beds24Unavailable,
    BookingQuery,
    CallRecord,
    Credits,
)
from bookinghub.beds24.client.http import PinnedSession, parse_credits

BASE = "https://beds24.example.com/api/v2"
REFRESH = "refresh-SECRET-0123456789"
NOW = 1_700_000_000.0
DAY = 86_400


@dataclass
class FakeResponse:
    status_code: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def content(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()


def error_body(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "type": "error", "code": code, "error": message}


class FakeBeds24:
    """Beds24 as far as the client uses it. `script` answers (or exceptions) are served first, in order."""

    def __init__(self, bookings: list[dict[str, Any]] | None = None, page_size: int = 2) -> None:
        self.bookings = bookings or []
        self.page_size = page_size
        self.valid_tokens: set[str] = set()
        self.reject_all_tokens = False
        self.minted = 0
        self.remaining, self.resets_in = 100, 300
        self.script: list[FakeResponse | Exception] = []
        self.calls: list[tuple[str, list[tuple[str, str]], dict[str, str]]] = []

    def issue(self) -> str:
        self.minted += 1
        token = f"access-SECRET-{self.minted}"
        self.valid_tokens.add(token)
        return token

    def get(self, url: str, *, params: Any, headers: dict[str, str], timeout: float) -> FakeResponse:
        assert timeout > 0
        self.calls.append((url, list(params), dict(headers)))
        if self.script:
            item = self.script.pop(0)
            if isinstance(item, Exception):
                raise item
            return item
        self.remaining = max(0, self.remaining - 1)
        credits = {
            "X-FiveMinCreditLimit": "100",
            "X-FiveMinCreditLimit-Remaining": str(self.remaining),
            "X-FiveMinCreditLimit-ResetsIn": str(self.resets_in),
            "X-RequestCost": "1",
        }
        path = url.removeprefix(BASE)
        if path == "/authentication/token":
            if headers.get("refreshToken") != REFRESH:
                return FakeResponse(400, error_body(400, "Refresh token is not valid"), credits)
            return FakeResponse(200, {"token": self.issue(), "expiresIn": DAY}, credits)
        assert path == "/bookings"
        if self.reject_all_tokens or headers.get("token") not in self.valid_tokens:
            return FakeResponse(401, error_body(401, "Token is missing or invalid"), credits)
        query: dict[str, list[str]] = {}
        for key, value in params:
            query.setdefault(key, []).append(value)
        statuses = query.get("status", ["confirmed", "request", "new", "black", "inquiry"])
        ids = {int(value) for value in query.get("id", [])}
        properties = {int(value) for value in query.get("propertyId", [])}
        chosen = [
            booking
            for booking in self.bookings
            if booking["status"] in statuses
            and (not ids or booking["id"] in ids)
            and (not properties or booking["propertyId"] in properties)
        ]
        page = int(query.get("page", ["1"])[0])
        more = page * self.page_size < len(chosen)
        body = {
            "success": True,
            "type": "booking",
            "count": len(chosen),
            "pages": {"nextPageExists": more, "nextPageLink": f"{BASE}/bookings?page={page + 1}" if more else None},
            "data": chosen[(page - 1) * self.page_size : page * self.page_size],
        }
        return FakeResponse(200, body, credits)


class Clock:
    def __init__(self) -> None:
        self.now = NOW
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Harness:
    fake: FakeBeds24
    clock: Clock
    records: list[CallRecord] = field(default_factory=list)
    tokens: list[AccessToken] = field(default_factory=list)

    def client(self, **options: Any) -> Beds24Client:
        settings: dict[str, Any] = {
            "refresh_token": REFRESH,
            "on_token": self.tokens.append,
            "on_call": self.records.append,
            "session": self.fake,
            "clock": self.clock,
            "sleep": self.clock.sleep,
        }
        return Beds24Client(BASE, **(settings | options))

    def stored_token(self, lifetime: float = DAY) -> AccessToken:
        return AccessToken(self.fake.issue(), self.clock.now + lifetime)


def booking(booking_id: int, status: str = "confirmed", property_id: int = 7) -> dict[str, Any]:
    return {"id": booking_id, "propertyId": property_id, "status": status, "arrival": "2026-03-01"}


PUBLIC_ADDRESS = "93.184.216.34"


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """No DNS in unit tests: every host resolves to a public address unless a test says otherwise."""
    answers: dict[str, list[str]] = {}
    monkeypatch.setattr("bookinghub.core.urls.resolve", lambda host: answers.get(host, [PUBLIC_ADDRESS]))
    return answers


@pytest.fixture
def hub() -> Harness:
    bookings = [booking(1), booking(2, "cancelled"), booking(3, "new"), booking(4, "black"), booking(5, "inquiry")]
    return Harness(FakeBeds24(bookings), Clock())


def ops(records: list[CallRecord]) -> list[tuple[str, str, int | None]]:
    return [(record.operation, record.status, record.http_status_code) for record in records]


# --- tokens ----------------------------------------------------------------------------------------------


def test_token_minted_once_and_reused_across_calls_and_clients(hub: Harness) -> None:
    client = hub.client()
    client.bookings_page(BookingQuery())
    client.bookings_page(BookingQuery(), page=2)

    assert hub.fake.minted == 1
    assert len(hub.tokens) == 1
    assert hub.tokens[0].expires_at == NOW + DAY
    assert ops(hub.records) == [("token", "success", 200), *[("get_bookings", "success", 200)] * 2]
    token_call, *booking_calls = hub.fake.calls
    assert token_call[2] == {"refreshToken": REFRESH}
    assert all(headers == {"token": hub.tokens[0].token} for _, _, headers in booking_calls)

    # The next invocation gets the stored token back: no new mint, no callback
    later: list[AccessToken] = []
    hub.clock.now += 3600
    hub.client(access_token=hub.tokens[0], on_token=later.append).bookings_page(BookingQuery())
    assert hub.fake.minted == 1
    assert later == []


@pytest.mark.parametrize(("lifetime", "minted"), [(None, True), (300, True), (599, True), (900, False)])
def test_refreshes_when_missing_or_expiring_within_ten_minutes(
    hub: Harness, lifetime: float | None, minted: bool
) -> None:
    stored = hub.stored_token(lifetime) if lifetime is not None else None
    hub.client(access_token=stored).bookings_page(BookingQuery())

    assert len(hub.tokens) == (1 if minted else 0)
    used = hub.fake.calls[-1][2]["token"]
    assert used == (hub.tokens[0].token if minted else stored.token if stored else None)


def test_one_refresh_on_401_then_the_call_succeeds(hub: Harness) -> None:
    revoked = AccessToken("access-SECRET-revoked", NOW + DAY)  # unexpired, but Beds24 no longer knows it
    page = hub.client(access_token=revoked).bookings_page(BookingQuery())

    assert [b["id"] for b in page.bookings] == [1, 2]
    assert len(hub.tokens) == 1
    assert ops(hub.records) == [
        ("get_bookings", "error", 401),
        ("token", "success", 200),
        ("get_bookings", "success", 200),
    ]


def test_still_401_after_one_refresh_is_an_auth_error(hub: Harness) -> None:
    hub.fake.reject_all_tokens = True
    with pytest.raises(Beds24AuthError) as raised:
        hub.client(access_token=hub.stored_token()).bookings_page(BookingQuery())

    assert raised.value.http_status_code == 401
    assert hub.fake.minted == 2  # the stored one + exactly one refresh: no loop
    assert ops(hub.records) == [
        ("get_bookings", "error", 401),
        ("token", "success", 200),
        ("get_bookings", "error", 401),
    ]


def test_rejected_refresh_token_is_a_permanent_auth_error(hub: Harness) -> None:
    with pytest.raises(Beds24AuthError, match="rejected the refresh token") as raised:
        hub.client(refresh_token="refresh-SECRET-unknown").bookings_page(BookingQuery())

    assert raised.value.http_status_code == 400
    assert len(hub.fake.calls) == 1  # not retried
    assert ops(hub.records) == [("token", "error", 400)]
    assert hub.tokens == []


# --- queries and pages -----------------------------------------------------------------------------------


def test_query_sends_explicit_statuses_repeated_keys_and_utc_times() -> None:
    bangkok = timezone(timedelta(hours=7))
    query = BookingQuery(
        property_ids=(7, 8),
        booking_ids=(10, 11),
        room_ids=(3,),
        modified_from=datetime(2026, 3, 1, 7, 30, 15, tzinfo=bangkok),
        modified_to=datetime(2026, 3, 2, 0, 0, tzinfo=UTC),
        arrival_from=date(2026, 3, 1),
        departure_to=date(2026, 4, 1),
        include_info_items=True,
    )

    assert query.params(2) == [
        ("propertyId", "7"),
        ("propertyId", "8"),
        ("id", "10"),
        ("id", "11"),
        ("roomId", "3"),
        *[("status", status) for status in ALL_STATUSES],
        ("modifiedFrom", "2026-03-01T00:30:15"),
        ("modifiedTo", "2026-03-02T00:00:00"),
        ("arrivalFrom", "2026-03-01"),
        ("departureTo", "2026-04-01"),
        ("includeInfoItems", "true"),
        ("page", "2"),
    ]
    assert ALL_STATUSES == ("confirmed", "request", "new", "cancelled", "black", "inquiry")
    with pytest.raises(ValueError, match="timezone-aware"):
        BookingQuery(modified_from=datetime(2026, 3, 1))  # naive: the point of the test
    with pytest.raises(ValueError, match="statuses"):
        BookingQuery(statuses=())
    with pytest.raises(ValueError, match="statuses"):
        BookingQuery(statuses=("confirmed", "deleted"))


def test_cancelled_bookings_come_back_and_the_record_holds_the_query(hub: Harness) -> None:
    client = hub.client(access_token=hub.stored_token())
    page = client.bookings_page(BookingQuery(property_ids=(7,)))

    assert [b["status"] for b in page.bookings] == ["confirmed", "cancelled"]
    sent = hub.fake.calls[0][1]
    assert [value for key, value in sent if key == "status"] == list(ALL_STATUSES)
    assert hub.records[0].request == {"propertyId": ["7"], "status": list(ALL_STATUSES), "page": "1"}


def test_iter_pages_walks_three_pages_lazily(hub: Harness) -> None:
    client = hub.client(access_token=hub.stored_token())
    pages = client.iter_pages(BookingQuery())

    first = next(pages)
    assert len(hub.fake.calls) == 1  # one page fetched, one in memory
    rest = list(pages)

    assert [p.page for p in [first, *rest]] == [1, 2, 3]
    assert [b["id"] for p in [first, *rest] for b in p.bookings] == [1, 2, 3, 4, 5]
    assert [p.next_page_exists for p in [first, *rest]] == [True, True, False]
    assert [dict(params)["page"] for _, params, _ in hub.fake.calls] == ["1", "2", "3"]
    assert [p.page for p in client.iter_pages(BookingQuery(), start_page=3)] == [3]


def test_an_empty_page_promising_more_stops_the_walk(hub: Harness) -> None:
    hub.fake.script = [FakeResponse(200, {"success": True, "pages": {"nextPageExists": True}, "data": []})]
    with pytest.raises(Beds24Unavailable, match="malformed answer"):
        list(hub.client(access_token=hub.stored_token()).iter_pages(BookingQuery()))


def test_credits_are_parsed_from_every_answer(hub: Harness) -> None:
    client = hub.client()
    page = client.bookings_page(BookingQuery())

    assert page.credits == Credits(limit=100, remaining=98, resets_in=300, request_cost=1)
    assert client.credits == page.credits
    assert hub.records[0].credits == Credits(100, 99, 300, 1)  # the token call's own
    assert parse_credits({}) is None
    assert parse_credits({"x-requestcost": "2", "X-FiveMinCreditLimit": "n/a"}) == Credits(None, None, None, 2)


def test_get_booking_by_id_whatever_its_status(hub: Harness) -> None:
    client = hub.client(access_token=hub.stored_token())

    assert client.get_booking(7, 2) == booking(2, "cancelled")
    assert client.get_booking(7, 99) is None
    assert client.get_booking(8, 2) is None
    assert dict(hub.fake.calls[0][1])["id"] == "2"
    assert dict(hub.fake.calls[0][1])["propertyId"] == "7"


# --- the credit budget -----------------------------------------------------------------------------------


def test_waits_for_the_window_when_credits_run_out_soon(hub: Harness) -> None:
    hub.fake.remaining, hub.fake.resets_in = 1, 20  # the first page's answer leaves 0 credits for 20 s
    client = hub.client(access_token=hub.stored_token())
    pages = client.iter_pages(BookingQuery())

    next(pages)
    hub.clock.now += 5  # the caller spent 5 s on the page
    hub.fake.remaining = 100
    assert [p.page for p in pages] == [2, 3]

    assert hub.clock.sleeps == [15.0]


def test_rate_limited_when_the_window_resets_too_late(hub: Harness) -> None:
    hub.fake.remaining, hub.fake.resets_in = 1, 200
    client = hub.client(access_token=hub.stored_token())
    pages = client.iter_pages(BookingQuery())
    next(pages)
    hub.clock.now += 10

    with pytest.raises(Beds24RateLimited) as raised:
        next(pages)

    assert raised.value.retry_after_seconds == 190.0
    assert len(hub.fake.calls) == 1  # gave up without spending a call
    assert hub.clock.sleeps == []
    assert ops(hub.records) == [("get_bookings", "success", 200)]


def test_429_with_a_short_reset_waits_then_retries(hub: Harness) -> None:
    hub.fake.script = [
        FakeResponse(429, error_body(429, "Credit limit exceeded"), {"X-FiveMinCreditLimit-ResetsIn": "12"})
    ]
    page = hub.client(access_token=hub.stored_token()).bookings_page(BookingQuery())

    assert len(page.bookings) == 2
    assert hub.clock.sleeps == [12.0]
    assert ops(hub.records) == [("get_bookings", "error", 429), ("get_bookings", "success", 200)]


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [
        ({"X-FiveMinCreditLimit-Remaining": "0", "X-FiveMinCreditLimit-ResetsIn": "120"}, 120.0),
        ({"Retry-After": "90"}, 90.0),
        ({}, 60.0),
    ],
)
def test_429_with_a_long_reset_raises_rate_limited(hub: Harness, headers: dict[str, str], retry_after: float) -> None:
    hub.fake.script = [FakeResponse(429, error_body(429, "Credit limit exceeded"), headers)]
    with pytest.raises(Beds24RateLimited) as raised:
        hub.client(access_token=hub.stored_token()).bookings_page(BookingQuery())

    assert raised.value.retry_after_seconds == retry_after
    assert raised.value.http_status_code == 429
    assert len(hub.fake.calls) == 1
    assert hub.clock.sleeps == []


# --- transient failures and malformed answers ------------------------------------------------------------


def test_5xx_and_non_json_are_retried_with_jittered_backoff(hub: Harness) -> None:
    hub.fake.script = [FakeResponse(503, error_body(503, "busy")), FakeResponse(200, b"<html>gateway</html>")]
    page = hub.client(access_token=hub.stored_token()).bookings_page(BookingQuery())

    assert len(page.bookings) == 2
    assert ops(hub.records) == [
        ("get_bookings", "error", 503),
        ("get_bookings", "error", 200),
        ("get_bookings", "success", 200),
    ]
    assert hub.records[1].error_message == "HTTP 200 without a JSON object"
    first, second = hub.clock.sleeps
    assert 0 <= first <= 0.5
    assert 0 <= second <= 1.0


def test_timeouts_give_up_after_max_attempts_with_one_record_each(hub: Harness) -> None:
    hub.fake.script = [requests.ReadTimeout("read timed out")] * 3
    with pytest.raises(Beds24Unavailable, match="after 3 attempts"):
        hub.client(access_token=hub.stored_token(), timeout_seconds=4).bookings_page(BookingQuery())

    assert ops(hub.records) == [("get_bookings", "timeout", None)] * 3
    assert all(record.error_message == "no answer within 4 s (ReadTimeout)" for record in hub.records)
    assert len(hub.clock.sleeps) == 2


def test_connection_errors_are_unavailable(hub: Harness) -> None:
    hub.fake.script = [requests.ConnectionError("connection refused")] * 2
    with pytest.raises(Beds24Unavailable, match="ConnectionError"):
        hub.client(access_token=hub.stored_token(), max_attempts=2).bookings_page(BookingQuery())
    assert ops(hub.records) == [("get_bookings", "error", None)] * 2


@pytest.mark.parametrize(
    "body",
    [
        {"success": True, "data": {"id": 1}},
        {"success": True, "data": [{"id": 1}, {"status": "new"}]},
        {"success": True, "data": [{"id": "1"}]},
        {"success": True, "data": [{"id": True}]},
        {"success": True, "data": ["1"]},
        {"success": True, "data": [{"id": 1}], "pages": {"nextPageExists": "yes"}},
    ],
)
def test_malformed_bookings_are_unavailable_and_not_retried(hub: Harness, body: dict[str, Any]) -> None:
    hub.fake.script = [FakeResponse(200, body)]
    with pytest.raises(Beds24Unavailable, match="malformed answer"):
        hub.client(access_token=hub.stored_token()).bookings_page(BookingQuery())
    assert ops(hub.records) == [("get_bookings", "error", 200)]


def test_malformed_token_answer_is_unavailable(hub: Harness) -> None:
    hub.fake.script = [FakeResponse(200, {"token": "", "expiresIn": DAY})]
    with pytest.raises(Beds24Unavailable, match="malformed answer"):
        hub.client().bookings_page(BookingQuery())
    assert hub.tokens == []


@pytest.mark.parametrize("status", [400, 200])  # Beds24 may wrap an error in a 200 with success: false
def test_other_client_errors_carry_beds24s_text(hub: Harness, status: int) -> None:
    hub.fake.script = [FakeResponse(status, error_body(400, "Invalid date " + "x" * 500))]
    with pytest.raises(Beds24Error) as raised:
        hub.client(access_token=hub.stored_token()).bookings_page(BookingQuery())

    assert type(raised.value) is Beds24Error
    assert raised.value.http_status_code == 400
    assert "Invalid date xxx" in str(raised.value)
    assert len(str(raised.value)) < 300
    assert len(hub.fake.calls) == 1


# --- base URL, secrets, imports --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://beds24.com/api/v2",
        "https://beds24.com/api/v2/",
        "http://127.0.0.1:4200/v2",
        "http://localhost:4200/v2",
        "http://[::1]:4200/v2",
    ],
)
def test_https_or_loopback_http_base_urls_are_accepted(url: str) -> None:
    fake = FakeBeds24()
    fake.script = [FakeResponse(200, {"token": "t", "expiresIn": DAY}), FakeResponse(200, {"data": []})]
    # plain http to loopback only where the settings allow it (HUB_ALLOW_INSECURE_WEBHOOKS, `make run`)
    Beds24Client(url, refresh_token=REFRESH, session=fake, allow_insecure_loopback=True).bookings_page(BookingQuery())
    if url.startswith("http://"):
        with pytest.raises(ValueError, match="https"):
            Beds24Client(url, refresh_token=REFRESH, session=fake)
    assert [call[0] for call in fake.calls] == [
        url.rstrip("/") + "/authentication/token",
        url.rstrip("/") + "/bookings",
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://beds24.com/api/v2",
        "http://10.0.0.5:4200/v2",
        "ftp://beds24.com/api/v2",
        "beds24.com/api/v2",
        "https://user:pw@beds24.com/api/v2",
        "https://beds24.com/api/v2?x=1",
    ],
)
def test_other_base_urls_are_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="base URL"):
        Beds24Client(url, refresh_token=REFRESH, session=FakeBeds24())


def _failing_scenarios(hub: Harness) -> Iterator[Exception]:
    """Every failure path, with Beds24 echoing the tokens back in its error texts."""
    stored = hub.stored_token()
    echo = f"bad token {stored.token} / {REFRESH}"
    # this client never saw `stored`, so Beds24 can only echo the refresh token back
    hub.fake.script = [FakeResponse(400, error_body(400, f"bad refresh token {REFRESH}"))]
    for_refresh = hub.client(refresh_token=REFRESH)
    with pytest.raises(Beds24AuthError) as rejected:
        for_refresh.bookings_page(BookingQuery())
    yield rejected.value
    hub.fake.script = [
        FakeResponse(500, error_body(500, echo)),
        requests.ConnectionError(f"refused {stored.token}"),
        FakeResponse(502, error_body(502, echo)),
    ]
    with pytest.raises(Beds24Unavailable) as unavailable:
        hub.client(access_token=stored).bookings_page(BookingQuery())
    yield unavailable.value
    hub.fake.reject_all_tokens = True
    hub.fake.script = [FakeResponse(401, error_body(401, echo))]
    with pytest.raises(Beds24AuthError) as still_401:
        hub.client(access_token=stored).bookings_page(BookingQuery())
    yield still_401.value
    hub.fake.reject_all_tokens = False
    hub.fake.script = [FakeResponse(404, error_body(404, echo))]
    with pytest.raises(Beds24Error) as refused:
        hub.client(access_token=stored).bookings_page(BookingQuery())
    yield refused.value


def test_no_token_reaches_a_record_or_a_message(hub: Harness) -> None:
    errors = list(_failing_scenarios(hub))
    secrets = [REFRESH, *hub.fake.valid_tokens]

    assert len(errors) == 4
    assert len(hub.records) == len(hub.fake.calls)  # one record per HTTP attempt
    texts = [str(error) for error in errors] + [repr(record) for record in hub.records]
    texts += [repr(token) for token in hub.tokens]
    assert all("[redacted]" in str(error) for error in errors[:1])
    for secret in secrets:
        assert not any(secret in text for text in texts), secret


def test_the_default_session_pins_the_checked_address_and_never_follows_redirects() -> None:
    import requests

    class Recorder(requests.Session):
        sent: tuple[Any, dict[str, Any]]

        def send(self, request: Any, **options: Any) -> Any:  # type: ignore[override]
            self.sent = (request, options)
            return "answer"

    recorder = Recorder()
    session = PinnedSession(recorder, allow_insecure_loopback=False)
    assert session.get(BASE + "/bookings", params=[("id", "1")], headers={"token": "t"}, timeout=3.0) == "answer"
    request, options = recorder.sent
    assert (options["allow_redirects"], options["proxies"]) == (False, {})
    assert request.url == f"https://{PUBLIC_ADDRESS}/api/v2/bookings?id=1"  # the address the check resolved
    assert request.headers["Host"] == "beds24.example.com"
    assert request.pinned_hostname == "beds24.example.com"  # SNI and the certificate's name


def test_importing_the_client_stays_light() -> None:
    code = "import sys, bookinghub.beds24.client.api; print('requests' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.strip() == "False"


def test_a_host_that_resolves_inside_the_network_is_never_called(dns: dict[str, list[str]]) -> None:
    calls: list[str] = []

    class Recording:
        def get(self, url: str, **_: Any) -> Any:
            calls.append(url)
            raise AssertionError("must not be called")

    dns["beds24.example.com"] = ["169.254.169.254"]  # e.g. rebound to the instance metadata service
    client = Beds24Client("https://beds24.example.com/api/v2", refresh_token="r" * 20, session=Recording())
    with pytest.raises(Beds24Error, match="private"):
        client.bookings_page(BookingQuery(property_ids=(1,)))
    assert calls == []


def test_a_host_without_an_address_is_unavailable_for_now(dns: dict[str, list[str]]) -> None:
    dns["beds24.example.com"] = []
    client = Beds24Client("https://beds24.example.com/api/v2", refresh_token="r" * 20, session=object())
    with pytest.raises(Beds24Unavailable, match="resolved"):
        client.bookings_page(BookingQuery(property_ids=(1,)))
