"""The Beds24 and Rooms Event Hub clients go through the same outbound guard as delivery
(bookinghub.core.adapters.outbound), over real loopback sockets: a name that rebinds after the SSRF check
still reaches the address the check approved, a host that resolves to a private or metadata address is
never called, and plain http to loopback works only where the settings allow it (`make run`)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.integration.rebinding import rebinding_localhost, serve

ANSWERS = {
    "/v2/authentication/token": {"token": "an-access-token", "expiresIn": 86400},
    "/v2/bookings": {"success": True, "data": [], "pages": {"nextPageExists": False}},
    "/rooms/reservation/res-1": {"success": True, "pincode": "123456", "reservationId": "res-1"},
}


class _Recorder(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        address = str(self.server.server_address[0])  # type: ignore[index]
        self.server.seen.append((address, self.headers["Host"], self.path))  # type: ignore[attr-defined]
        body = json.dumps(ANSWERS.get(self.path.split("?")[0], {"error": "unknown"})).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


def _serve(address: str, port: int) -> ThreadingHTTPServer:
    return serve(address, port, _Recorder)


@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, ThreadingHTTPServer, ThreadingHTTPServer]]:
    """(port, checked, private): see tests/integration/rebinding.py."""
    with rebinding_localhost(monkeypatch, _Recorder) as stage:
        yield stage


def _beds24(base_url: str, *, allow_insecure_loopback: bool = True) -> Any:
    from bookinghub.beds24.client.api import Beds24Client

    return Beds24Client(
        base_url, refresh_token="a-refresh-token", allow_insecure_loopback=allow_insecure_loopback, max_attempts=1
    )


def test_beds24_calls_reach_the_checked_address_when_the_name_rebinds(
    rebinding: tuple[int, ThreadingHTTPServer, ThreadingHTTPServer],
) -> None:
    from bookinghub.beds24.client.api import BookingQuery

    port, checked, private = rebinding
    client = _beds24(f"http://localhost:{port}/v2")
    for _ in range(2):  # a token, then bookings; again on kept-alive connections
        assert client.bookings_page(BookingQuery(property_ids=(12345,))).bookings == []
    assert private.seen == []  # type: ignore[attr-defined]
    seen = checked.seen  # type: ignore[attr-defined]
    assert [path.split("?")[0] for _, _, path in seen] == ["/v2/authentication/token", "/v2/bookings", "/v2/bookings"]
    assert {(address, host) for address, host, _ in seen} == {("127.0.0.1", f"localhost:{port}")}


def test_rooms_calls_reach_the_checked_address_when_the_name_rebinds(
    rebinding: tuple[int, ThreadingHTTPServer, ThreadingHTTPServer],
) -> None:
    from bookinghub.rooms.adapters.rooms_event_hub import create_reservation

    port, checked, private = rebinding
    for _ in range(2):
        call = create_reservation(
            f"http://localhost:{port}/rooms/reservation/res-1",
            {"propertyId": "p"},
            reservation_id="res-1",
            timeout_seconds=5,
            allow_insecure_loopback=True,
        )
        assert (call.status, call.pincode) == ("success", "123456"), call
    assert private.seen == []  # type: ignore[attr-defined]
    assert checked.seen == [("127.0.0.1", f"localhost:{port}", "/rooms/reservation/res-1")] * 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("address", ["10.0.0.5", "169.254.169.254", "192.168.1.20", "::ffff:10.1.2.3"])
def test_a_host_resolving_to_a_private_address_is_never_called(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    from bookinghub.beds24.client.api import Beds24Error, BookingQuery
    from bookinghub.rooms.adapters.rooms_event_hub import create_reservation

    receiver = _serve("127.0.0.1", 0)
    connected: list[Any] = []
    real = socket.getaddrinfo

    def watched(host: Any, *args: Any, **kwargs: Any) -> Any:
        connected.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr("bookinghub.core.urls.resolve", lambda host: [address])
    monkeypatch.setattr(socket, "getaddrinfo", watched)
    try:
        with pytest.raises(Beds24Error, match="private"):
            _beds24("https://beds24.example.com/api/v2").bookings_page(BookingQuery(property_ids=(1,)))
        call = create_reservation(
            "https://rooms.example.com/rooms/reservation/res-1",
            {"propertyId": "p"},
            reservation_id="res-1",
            timeout_seconds=5,
        )
    finally:
        receiver.shutdown()
    assert call.status == "error"
    assert "Rooms URL rejected" in (call.error_message or "")
    assert connected == []  # no connection was even attempted
    assert receiver.seen == []  # type: ignore[attr-defined]


def test_plain_http_to_loopback_only_where_the_settings_allow_it() -> None:
    from bookinghub.rooms.adapters.rooms_event_hub import create_reservation

    receiver = _serve("127.0.0.1", 0)
    base = f"http://127.0.0.1:{receiver.server_address[1]}"
    try:
        with pytest.raises(ValueError, match="https"):
            _beds24(f"{base}/v2", allow_insecure_loopback=False)
        refused = create_reservation(f"{base}/rooms/reservation/res-1", {}, reservation_id="res-1", timeout_seconds=5)
        allowed = create_reservation(
            f"{base}/rooms/reservation/res-1",
            {},
            reservation_id="res-1",
            timeout_seconds=5,
            allow_insecure_loopback=True,
        )
    finally:
        receiver.shutdown()
    assert refused.status == "error"
    assert "https" in (refused.error_message or "")
    assert allowed.status == "success"
    assert len(receiver.seen) == 1  # type: ignore[attr-defined]


def test_the_hub_s_beds24_client_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """client_for passes HUB_ALLOW_INSECURE_WEBHOOKS: without it a loopback sandbox URL is refused."""
    from bookinghub.beds24.logic.properties import client_for
    from bookinghub.beds24.models.entities import Beds24Credentials, Beds24Property
    from bookinghub.core.settings import get_settings

    prop = Beds24Property(
        id="hill-lodge",
        organisation_id="demo-org",
        name="Hill Lodge",
        beds24_property_id=1,
        base_url="http://127.0.0.1:9/v2",
        created_at="2026-01-01T00:00:00Z",
        updated_at="2026-01-01T00:00:00Z",
        credentials=Beds24Credentials(refresh_token_encrypted="not-decrypted-until-a-token-is-minted"),
    )
    monkeypatch.setenv("HUB_ALLOW_INSECURE_WEBHOOKS", "false")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="https"):
        client_for(prop, just_read=True)
    monkeypatch.setenv("HUB_ALLOW_INSECURE_WEBHOOKS", "true")
    get_settings.cache_clear()
    assert client_for(prop, just_read=True) is not None
    get_settings.cache_clear()


class _SettingCookies(_Recorder):
    """Answers as _Recorder, with a cookie on every answer; records each request's Cookie header."""

    def _answer(self) -> None:
        self.server.cookies.append(self.headers.get("Cookie"))  # type: ignore[attr-defined]
        super()._answer()

    def end_headers(self) -> None:
        self.send_header("Set-Cookie", "sid=one-customers-session; Path=/")
        super().end_headers()

    do_GET = do_POST = _answer


def test_beds24_and_rooms_sessions_keep_no_cookie() -> None:
    """Both clients' sessions are shared by every organisation's calls (one per execution environment):
    a cookie one answer sets must not go with the next call, which may be another customer's."""
    from bookinghub.beds24.client.api import BookingQuery
    from bookinghub.rooms.adapters.rooms_event_hub import create_reservation

    receiver = serve("127.0.0.1", 0, _SettingCookies)
    receiver.cookies = []  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{receiver.server_address[1]}"
    try:
        client = _beds24(f"{base}/v2")
        for _ in range(2):  # a token, then bookings twice
            assert client.bookings_page(BookingQuery(property_ids=(12345,))).bookings == []
        for _ in range(2):
            call = create_reservation(
                f"{base}/rooms/reservation/res-1",
                {"propertyId": "p"},
                reservation_id="res-1",
                timeout_seconds=5,
                allow_insecure_loopback=True,
            )
            assert call.status == "success", call
    finally:
        receiver.shutdown()
    assert receiver.cookies == [None] * 5  # type: ignore[attr-defined]
