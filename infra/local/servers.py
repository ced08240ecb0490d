"""Serve a WSGI app with werkzeug on a thread, and stop it cleanly."""

from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from infra.local.gateway_event import RAW_HEADERS_KEY


class CasePreservingHandler(WSGIRequestHandler):
    """werkzeug's handler, plus the header lines as received, and our access log instead of werkzeug's.

    WSGI hands an app only upper-cased HTTP_* names; API Gateway passes header names as the client
    spelled them, so the gateway reads them from the parsed request (the stdlib parses them).
    """

    def make_environ(self) -> Any:
        environ = super().make_environ()
        environ[RAW_HEADERS_KEY] = list(self.headers.items())
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        access_log = getattr(self.server, "access_log", None)  # None: the app writes its own (the gateway)
        if access_log is not None:
            access_log.info("%s %s %s", self.command, self.path.split("?")[0], code)


class ServerThread:
    def __init__(self, name: str, host: str, port: int, app: Any, *, access_log: bool = False) -> None:
        self.name = name
        # Binds now, so a busy port fails startup at once with a clear error.
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=CasePreservingHandler
        )
        # Read by CasePreservingHandler.log_request; the gateway logs its own richer line instead.
        self._server.access_log = logging.getLogger(f"infra.local.{name}") if access_log else None  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name=name)
        self._thread.daemon = True

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
