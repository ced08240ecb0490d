"""The delivery connection to a receiver is kept alive between attempts (the session's pool, per checked
address): an answer is read to its end when it is short, so its connection goes back to the pool; a
long answer is cut off after its excerpt and its connection closed; a receiver that drops an idle
connection still gets the next attempt on a new one, also when it closes only as the next request
arrives (the kept-alive race: the request goes again once on a new connection, as it carries its
`webhook-id`); a new connection closed without an answer is a failure, sent once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bookinghub.core.adapters import outbound
from bookinghub.delivery.adapters import http


class _Counting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers

    def setup(self) -> None:
        super().setup()
        self.requests_on_this_connection = 0
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.connections += 1  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.requests_on_this_connection += 1
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.requests += 1  # type: ignore[attr-defined]
        if self.requests_on_this_connection > self.server.answers_per_connection:  # type: ignore[attr-defined]
            self.close_connection = True  # closed as the request arrives, before any answer
            return
        size = int(self.path.rsplit("/", 1)[1])
        body = (b"<p>accepted</p>" * (size // 15 + 1))[:size]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.server.drop_after_answer:  # type: ignore[attr-defined]
            self.close_connection = True  # without saying so: the client finds out at its next request

    do_PUT = do_POST

    def log_message(self, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client closing a connection it did not read to the end is what one test wants


@pytest.fixture
def counting() -> Iterator[ThreadingHTTPServer]:
    server = _Server(("127.0.0.1", 0), _Counting)
    server.daemon_threads = True
    server.connections = 0  # type: ignore[attr-defined]
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    server.drop_after_answer = False  # type: ignore[attr-defined]
    server.answers_per_connection = 1_000  # type: ignore[attr-defined]
    server.requests = 0  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: ThreadingHTTPServer, size: int) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/answer/{size}"


def _post(server: ThreadingHTTPServer, session: Any, size: int) -> http.HttpResult:
    return http.post(
        f"http://127.0.0.1:{server.server_address[1]}/answer/{size}",
        b"{}",
        {},
        timeout_seconds=5,
        allow_insecure_loopback=True,
        session=session,
    )


@pytest.mark.parametrize("size", [2, 2000, 60_000])
def test_a_short_answer_leaves_its_connection_for_the_next_attempt(counting: ThreadingHTTPServer, size: int) -> None:
    session = http.new_session()
    results = [_post(counting, session, size) for _ in range(4)]
    assert [r.status_code for r in results] == [200] * 4
    assert {len(r.body_excerpt) for r in results} == {min(size, 512)}
    assert counting.connections == 1  # type: ignore[attr-defined]


def test_a_long_answer_is_cut_off_after_its_excerpt(counting: ThreadingHTTPServer) -> None:
    session = http.new_session()
    results = [_post(counting, session, 2_000_000) for _ in range(3)]
    assert [r.status_code for r in results] == [200] * 3
    assert results[0].body_excerpt.startswith("<p>accepted</p>")
    assert len(results[0].body_excerpt) == 512
    assert counting.connections == 3  # type: ignore[attr-defined]  # not read to its end: closed each time


def test_a_receiver_that_drops_the_idle_connection_gets_the_next_attempt(counting: ThreadingHTTPServer) -> None:
    counting.drop_after_answer = True  # type: ignore[attr-defined]
    session = http.new_session()
    results = [_post(counting, session, 2) for _ in range(3)]
    assert [r.status_code for r in results] == [200] * 3
    assert counting.connections == 3  # type: ignore[attr-defined]


def test_a_receiver_that_closes_the_kept_alive_connection_as_the_next_request_arrives_gets_it_again(
    counting: ThreadingHTTPServer,
) -> None:
    # The race a receiver that closes after its answer can lose: urllib3's check of the pooled connection
    # passes, the request is written, and the close comes back before any answer. Made certain here.
    counting.answers_per_connection = 1  # type: ignore[attr-defined]
    session = http.new_session()
    results = [_post(counting, session, 2) for _ in range(3)]
    assert [r.status_code for r in results] == [200] * 3
    assert counting.connections == 3  # type: ignore[attr-defined]  # each later attempt: stale, then a new one
    assert counting.requests == 5  # type: ignore[attr-defined]  # each stale try reached it: same webhook-id


def test_a_new_connection_closed_without_an_answer_is_a_failure_sent_once(counting: ThreadingHTTPServer) -> None:
    counting.answers_per_connection = 0  # type: ignore[attr-defined]
    result = _post(counting, http.new_session(), 2)
    assert result.status_code is None
    assert "RemoteDisconnected" in (result.error or "") or "Connection aborted" in (result.error or "")
    assert counting.requests == 1  # type: ignore[attr-defined]


def test_without_idempotency_keys_only_idempotent_methods_go_again(counting: ThreadingHTTPServer) -> None:
    """The shared outbound session (Beds24, Rooms): a POST could create twice, so it is not sent again."""
    import requests

    counting.answers_per_connection = 1  # type: ignore[attr-defined]
    session = outbound.new_session()
    assert session.post(_url(counting, 2), data=b"{}", timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        session.post(_url(counting, 2), data=b"{}", timeout=5)
    assert counting.requests == 2  # type: ignore[attr-defined]
    assert session.put(_url(counting, 2), data=b"{}", timeout=5).status_code == 200  # a new connection
    assert session.put(_url(counting, 2), data=b"{}", timeout=5).status_code == 200  # stale: went again
    assert counting.requests == 5  # type: ignore[attr-defined]
