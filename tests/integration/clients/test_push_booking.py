"""push_booking over real loopback HTTP: the seed's retry schedule (fake sleep), what is and is not retried."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from clients.onebooking_client import (
    RETRY_DELAYS,
    BookingRejected,
    OneBookingClient,
    SyncUnavailable,
    UnexpectedResponse,
    parse_retry_after,
)

SEED_BODY = json.loads((Path(__file__).parents[3] / "events/sync_bookings/seed_booking_created.body.json").read_text())
API_KEY = "test_sk_xxxxx"

# One scripted answer per request, then "ok": (status, body or None for the hub's answer, headers, hang seconds)
Answer = tuple[int, Any, dict[str, str], float]
OK: Answer = (200, None, {}, 0.0)


@dataclass
class FakeHub:
    """A stand-in for POST /api/bookings/sync that stores a booking the way the hub does: once per body."""

    script: list[Answer] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    bookings: dict[str, dict[str, Any]] = field(default_factory=dict)  # source_booking_id -> booking
    store_before_answering: bool = False  # a scripted failure that still stored the booking (lost answer)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[Answer, str | None]:
        with self.lock:
            self.requests.append((headers, body))
            answer = self.script.pop(0) if self.script else OK
        booking_id = None
        if answer[0] == 200 or self.store_before_answering:
            payload = json.loads(body)
            booking_id = "bk-" + hashlib.sha256(payload["source_booking_id"].encode()).hexdigest()[:12]
            with self.lock:
                self.bookings.setdefault(payload["source_booking_id"], payload)
        return answer, booking_id


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            (status, answer, headers, hang), booking_id = fake.handle(dict(self.headers.items()), body)
            if hang:
                time.sleep(hang)
            if answer is None:
                answer = {"success": True, "booking_id": booking_id, "message": "Booking synced successfully"}
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(hub: FakeHub, sleeps: list[float]) -> Callable[..., OneBookingClient]:
    def build(**options: Any) -> OneBookingClient:
        options.setdefault("timeout", (2.0, 2.0))
        return OneBookingClient(options.pop("url", hub.url), API_KEY, sleep=sleeps.append, **options)

    return build


def error(status: int, code: str, message: str = "nope") -> Answer:
    return (status, {"success": False, "error": message, "code": code}, {}, 0.0)


def test_a_push_sends_the_seed_request_and_returns_the_hub_answer(
    hub: FakeHub, make_client: Callable[..., OneBookingClient], sleeps: list[float]
) -> None:
    result = make_client().push_booking(SEED_BODY)
    assert result.attempts == 1
    assert result.booking_id.startswith("bk-")
    assert result.message == "Booking synced successfully"
    ((headers, body),) = hub.requests
    assert headers["X-API-Key"] == API_KEY
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == SEED_BODY
    assert sleeps == []


def test_failures_are_retried_on_the_seed_schedule_with_identical_bytes_and_the_booking_arrives_once(
    hub: FakeHub, make_client: Callable[..., OneBookingClient], sleeps: list[float]
) -> None:
    hub.script = [error(503, "SERVER_ERROR"), error(500, "SERVER_ERROR"), (502, b"<html>bad gateway</html>", {}, 0)]
    result = make_client().push_booking(SEED_BODY)
    assert result.attempts == 4
    assert sleeps == [1.0, 5.0, 30.0]
    bodies = {body for _, body in hub.requests}
    assert len(hub.requests) == 4
    assert len(bodies) == 1
    assert list(hub.bookings) == [SEED_BODY["source_booking_id"]]


def test_a_lost_answer_is_retried_and_the_hub_dedupes_the_redelivery(
    hub: FakeHub, make_client: Callable[..., OneBookingClient], sleeps: list[float]
) -> None:
    """The hub stored the booking but its answer never came back in time: the retry is harmless."""
    hub.store_before_answering = True
    hub.script = [(200, None, {}, 1.0)]  # answers after the client's 0.3 s read timeout
    result = make_client(timeout=(2.0, 0.3)).push_booking(SEED_BODY)
    assert (result.attempts, sleeps) == (2, [1.0])
    assert len(hub.requests) == 2
    assert len(hub.bookings) == 1


def test_connection_refused_exhausts_the_schedule(
    make_client: Callable[..., OneBookingClient], sleeps: list[float]
) -> None:
    with pytest.raises(SyncUnavailable) as raised:
        make_client(url=url_nobody_listens_on()).push_booking(SEED_BODY)
    assert sleeps == list(RETRY_DELAYS)
    assert raised.value.attempts == 5
    assert raised.value.status_code is None
    assert "ConnectionError" in str(raised.value)


def test_persistent_5xx_exhausts_the_schedule_with_the_last_code(
    hub: FakeHub, make_client: Callable[..., OneBookingClient], sleeps: list[float]
) -> None:
    hub.script = [error(500, "SERVER_ERROR")] * 5
    with pytest.raises(SyncUnavailable) as raised:
        make_client().push_booking(SEED_BODY)
    assert (raised.value.attempts, raised.value.status_code, raised.value.code) == (5, 500, "SERVER_ERROR")
    assert len(hub.requests) == 5
    assert hub.bookings == {}


def test_429_waits_at_least_its_retry_after(
    hub: FakeHub, make_client: Callable[..., OneBookingClient], sleeps: list[float]
) -> None:
    hub.script = [(429, {"success": False, "code": "RATE_LIMITED"}, {"Retry-After": "7"}, 0), error(408, "TIMEOUT")]
    assert make_client().push_booking(SEED_BODY).attempts == 3
    assert sleeps == [7.0, 5.0]


def test_a_retry_after_longer_than_allowed_stops_and_says_when(
    hub: FakeHub, make_client: Callable[..., OneBookingClient], sleeps: list[float]
) -> None:
    hub.script = [(429, {"success": False, "code": "RATE_LIMITED"}, {"Retry-After": "3600"}, 0)]
    with pytest.raises(SyncUnavailable) as raised:
        make_client().push_booking(SEED_BODY)
    assert (raised.value.retry_after, raised.value.attempts, sleeps) == (3600.0, 1, [])


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "INVALID_PAYLOAD"), (401, "AUTH_FAILED"), (404, "WEBSITE_NOT_FOUND"), (409, "DUPLICATE_BOOKING")],
)
def test_other_4xx_are_never_retried_and_carry_the_hub_code(
    hub: FakeHub, make_client: Callable[..., OneBookingClient], sleeps: list[float], status: int, code: str
) -> None:
    hub.script = [error(status, code, "Request body validation failed")]
    with pytest.raises(BookingRejected) as raised:
        make_client().push_booking(SEED_BODY)
    assert (raised.value.status_code, raised.value.code) == (status, code)
    assert raised.value.error == "Request body validation failed"
    assert len(hub.requests) == 1
    assert sleeps == []


def test_a_4xx_without_the_hub_body_gets_a_generic_code(
    hub: FakeHub, make_client: Callable[..., OneBookingClient]
) -> None:
    hub.script = [(403, b"Forbidden", {}, 0)]
    with pytest.raises(BookingRejected) as raised:
        make_client().push_booking(SEED_BODY)
    assert raised.value.code == "HTTP_403"


def test_redirects_are_not_followed(hub: FakeHub, make_client: Callable[..., OneBookingClient]) -> None:
    hub.script = [(302, b"", {"Location": "http://127.0.0.1:9/elsewhere"}, 0)]
    with pytest.raises(BookingRejected):
        make_client().push_booking(SEED_BODY)
    assert len(hub.requests) == 1


def test_a_2xx_that_is_not_the_hubs_answer_is_unexpected(
    hub: FakeHub, make_client: Callable[..., OneBookingClient]
) -> None:
    hub.script = [(200, b"<html>captive portal</html>", {}, 0)]
    with pytest.raises(UnexpectedResponse):
        make_client().push_booking(SEED_BODY)


def test_already_encoded_bytes_are_sent_as_they_are(hub: FakeHub, make_client: Callable[..., OneBookingClient]) -> None:
    raw = json.dumps(SEED_BODY, indent=2).encode()
    make_client().push_booking(raw)
    assert hub.requests[0][1] == raw


@pytest.mark.parametrize("url", ["http://db.onebooking.co", "ftp://127.0.0.1", "http://127.evil.example", "nohost"])
def test_only_https_or_loopback_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(ValueError, match="https"):
        OneBookingClient(url, API_KEY)


def test_from_env_reads_the_seed_variables() -> None:
    client = OneBookingClient.from_env({"ONEBOOKING_API_URL": "https://db.onebooking.co/", "ONEBOOKING_API_KEY": "k"})
    assert client.url == "https://db.onebooking.co/api/bookings/sync"
    with pytest.raises(ValueError, match="api_key"):
        OneBookingClient("https://db.onebooking.co", " ")


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    for unreadable in (None, "", "soon", "-5"):
        assert parse_retry_after(unreadable) is None


def url_nobody_listens_on() -> str:
    """A loopback URL whose port was free a moment ago: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_an_answer_cut_off_midway_is_retried(
    make_client: Callable[..., OneBookingClient], monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    client = make_client()
    real_post = client.session.post
    calls = []

    def cut_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")
        return real_post(*args, **kwargs)

    monkeypatch.setattr(client.session, "post", cut_once)
    assert client.push_booking(SEED_BODY).attempts == 2
    assert sleeps == [1.0]


def test_requests_errors_other_than_connection_and_timeout_are_not_swallowed(
    make_client: Callable[..., OneBookingClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise requests.exceptions.InvalidHeader("bad header")

    monkeypatch.setattr(client.session, "post", broken)
    with pytest.raises(requests.exceptions.InvalidHeader):
        client.push_booking(SEED_BODY)
