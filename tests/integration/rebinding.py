"""A DNS-rebinding stage for the outbound guard's tests: two receivers on one port, where 127.0.0.1
stands for the public address the SSRF check approves and 127.0.0.2 for the private one `localhost`
resolves to for anything connecting by name afterwards (both loopback, so `make run`'s rule admits them).
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


def serve(
    address: str, port: int, handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext | None = None
) -> ThreadingHTTPServer:
    """A threaded receiver on address:port (0: any free port) that records in its `seen` list."""
    server = ThreadingHTTPServer((address, port), handler)
    server.seen = []  # type: ignore[attr-defined]
    if context:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextmanager
def rebinding_localhost(
    monkeypatch: pytest.MonkeyPatch, handler: type[BaseHTTPRequestHandler]
) -> Iterator[tuple[int, ThreadingHTTPServer, ThreadingHTTPServer]]:
    """(port, checked, private): `localhost` resolves to 127.0.0.2 for a connection by name, while the
    guard's own check (bookinghub.core.urls.resolve) sees 127.0.0.1. Skips where 127.0.0.2 cannot be bound."""
    checked = serve("127.0.0.1", 0, handler)
    port = checked.server_address[1]
    try:
        private = serve("127.0.0.2", port, handler)
    except OSError:
        checked.shutdown()
        pytest.skip("127.0.0.2 cannot be bound here")
    real = socket.getaddrinfo

    def later_answer(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.2" if host == "localhost" else host, *args, **kwargs)

    monkeypatch.setattr("bookinghub.core.urls.resolve", lambda host: ["127.0.0.1"])  # what the check sees
    monkeypatch.setattr(socket, "getaddrinfo", later_answer)  # what a connection by name would see
    try:
        yield port, checked, private
    finally:
        checked.shutdown()
        private.shutdown()
