"""The WebSocket API on loopback (`make run`): API Gateway's WebSocket routes and management API, locally.

- WebSocket server (the `websockets` library): each connection gets an id; the handshake runs the
  $connect function (a non-200 answer refuses it with that status), every text message runs the route
  its `action` selects (else $default), and the answer's body is sent back (route response); a close
  runs $disconnect. An operator's `?token=` is verified first, as the WebSocket API's authorizer does on
  AWS (infra/local/auth.py, the REST gateway's check), and its claims reach $connect in
  requestContext.authorizer. API Gateway's limits hold: 10 min idle and 2 h in all close a connection.
- Management endpoint (werkzeug, its own port): POST /@connections/{id} sends a frame, GET describes,
  DELETE closes; an unknown connection is 410 GoneException, as on AWS. The functions reach it through
  REALTIME_MANAGEMENT_URL with the same boto3 client they use on AWS.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.wrappers import Request as HttpRequest
from werkzeug.wrappers import Response as HttpResponse

from infra.local import lambdas
from infra.local.gateway_event import API_ID
from infra.local.servers import ServerThread
from infra.topology import realtime as spec

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's WebSocket message limit (frames of 32 KB)
MAX_POST_BYTES = 128 * 1024  # post_to_connection's Data limit
HANDSHAKE_TIMEOUT_SECONDS = 30.0  # API Gateway's integration timeout (29 s) plus the handshake itself


@dataclass
class Limits:
    idle_seconds: float = 600.0  # API Gateway closes a connection idle for 10 minutes
    lifetime_seconds: float = 7200.0  # and every connection after 2 hours


@dataclass
class _Connection:
    id: str
    socket: Any
    connected_at: float
    last_active: float
    source_ip: str
    user_agent: str = ""


def _route_key(body: str) -> str:
    """API Gateway's route selection on $request.body.action."""
    try:
        action = json.loads(body).get("action")
    except (ValueError, AttributeError):
        return "$default"
    routes = {route.key for route in spec.WEBSOCKET_ROUTES if not route.key.startswith("$")}
    return action if isinstance(action, str) and action in routes else "$default"


def _function_of(route_key: str) -> str:
    return next(route.function for route in spec.WEBSOCKET_ROUTES if route.key == route_key)


def _now_text() -> str:
    return datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


class LocalWebSocketApi:
    def __init__(
        self, host: str, port: int, management_port: int, *, stage: str = "local", limits: Limits | None = None
    ) -> None:
        self.name = "websocket"
        self.host, self.stage = host, stage
        self.limits = limits or Limits()
        self._requested_port = port
        self._connections: dict[str, _Connection] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server: Any = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="websocket", daemon=True)
        # Functions block (one invocation at a time, as lambdas.call serializes them): off the event loop
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="websocket-route")
        self._management = ServerThread("websocket-management", host, management_port, self._management_app)
        self.port = 0

    # --- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> None:
        from websockets.asyncio.server import serve

        self._thread.start()
        self._management.start()

        async def _serve() -> Any:
            return await serve(
                self._handle,
                self.host,
                self._requested_port,
                process_request=self._process_request,
                max_size=MAX_MESSAGE_BYTES,
                ping_interval=None,  # API Gateway does not ping clients; the protocol has its own ping
                compression=None,
                # the handshake waits for $connect as API Gateway does (its integration timeout is 29 s);
                # websockets' default of 10 s cut slow $connect runs off under load
                open_timeout=HANDSHAKE_TIMEOUT_SECONDS,
            )

        self._server = asyncio.run_coroutine_threadsafe(_serve(), self._loop).result(timeout=10)
        self.port = int(next(iter(self._server.sockets)).getsockname()[1])

    def stop(self) -> None:
        if self._server is not None:

            async def _close() -> None:
                self._server.close()
                await self._server.wait_closed()

            try:
                asyncio.run_coroutine_threadsafe(_close(), self._loop).result(timeout=10)
            except Exception:  # stopping must go on
                log.exception("websocket server did not close cleanly")
            self._server = None
        self._management.stop()
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def management_port(self) -> int:
        return self._management.port

    def connection_count(self) -> int:
        with self._lock:
            return len(self._connections)

    # --- WebSocket side ----------------------------------------------------------------------------------

    def _context(self, connection_id: str, route_key: str, event_type: str, source_ip: str) -> dict[str, Any]:
        now = time.time()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "messageDirection": "IN",
            "stage": self.stage,
            "connectionId": connection_id,
            "connectedAt": int(now * 1000),
            "requestId": str(uuid.uuid4()),
            "extendedRequestId": str(uuid.uuid4()),
            "requestTime": _now_text(),
            "requestTimeEpoch": int(now * 1000),
            "domainName": self.host,
            "apiId": API_ID,
            "identity": {"sourceIp": source_ip},
        }

    async def _invoke(self, function: str, event: dict[str, Any]) -> Any:
        return await self._loop.run_in_executor(self._pool, lambda: lambdas.call(function, event))

    async def _process_request(self, connection: Any, request: Any) -> Any:
        """The handshake: authorizer stand-in, then $connect; any refusal is an HTTP answer."""
        query = dict(parse_qsl(urlsplit(request.path).query))
        source_ip = str(connection.remote_address[0]) if connection.remote_address else "127.0.0.1"
        connection_id = secrets.token_urlsafe(12).replace("-", "A").replace("_", "B") + "="
        context = self._context(connection_id, "$connect", "CONNECT", source_ip)
        token = query.get(spec.TOKEN_PARAMETER)
        if token:
            from infra.local.auth import InvalidToken, verify_token

            try:
                claims = verify_token(token)
            except InvalidToken as error:
                log.info("websocket connect refused: %s", error)
                return connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
            context["authorizer"] = {**claims, "principalId": claims.get("sub", "")}
        event = {
            "requestContext": context,
            "headers": dict(request.headers.raw_items()),
            "multiValueHeaders": {k: [v] for k, v in request.headers.raw_items()},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
            "isBase64Encoded": False,
        }
        outcome = await self._invoke(spec.CONNECT_FUNCTION, event)
        answer = outcome.result if outcome.error is None else {"statusCode": 500}
        status = int((answer or {}).get("statusCode") or 500)
        if status != 200:
            return connection.respond(HTTPStatus(status), f"{HTTPStatus(status).phrase}\n")
        connection.bookinghub_id = connection_id
        connection.bookinghub_ip = source_ip
        connection.bookinghub_agent = request.headers.get("User-Agent", "")
        return None

    async def _handle(self, socket: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        connection_id: str = socket.bookinghub_id
        now = time.monotonic()
        conn = _Connection(connection_id, socket, now, now, socket.bookinghub_ip, socket.bookinghub_agent)
        with self._lock:
            self._connections[connection_id] = conn
        try:
            while True:
                remaining = min(
                    self.limits.idle_seconds - (time.monotonic() - conn.last_active),
                    self.limits.lifetime_seconds - (time.monotonic() - conn.connected_at),
                )
                if remaining <= 0:
                    await socket.close(1001, "Going away")  # what API Gateway sends at its limits
                    break
                try:
                    message = await asyncio.wait_for(socket.recv(), timeout=remaining)
                except TimeoutError:
                    continue
                conn.last_active = time.monotonic()
                if isinstance(message, bytes):
                    message = message.decode("utf-8", errors="replace")
                await self._message(conn, message)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._connections.pop(connection_id, None)
            event = {"requestContext": self._context(connection_id, "$disconnect", "DISCONNECT", conn.source_ip)}
            outcome = await self._invoke("realtime_disconnect", event)
            if outcome.error is not None:
                log.warning("websocket $disconnect failed for %s", connection_id)

    async def _message(self, conn: _Connection, body: str) -> None:
        route_key = _route_key(body)
        context = self._context(conn.id, route_key, "MESSAGE", conn.source_ip)
        context["messageId"] = str(uuid.uuid4())
        outcome = await self._invoke(_function_of(route_key), {"requestContext": context, "body": body})
        if outcome.error is not None:
            # API Gateway's answer when an integration fails
            await conn.socket.send(json.dumps({"message": "Internal server error", "requestId": context["requestId"]}))
            return
        answer = outcome.result or {}
        route = next(r for r in spec.WEBSOCKET_ROUTES if r.key == route_key)
        if route.returns_response and answer.get("body"):
            await conn.socket.send(str(answer["body"]))

    # --- management API ----------------------------------------------------------------------------------

    def _management_app(self, environ: dict[str, Any], start_response: Any) -> Any:
        response = self._manage(HttpRequest(environ))
        return response(environ, start_response)

    def _manage(self, request: HttpRequest) -> HttpResponse:
        parts = request.path.strip("/").split("/")
        # boto3 sends /@connections/{id} (with the stage prefix when the endpoint URL has one)
        if len(parts) < 2 or parts[-2] != "@connections":
            return _error(404, "NotFoundException", "No such route")
        connection_id = parts[-1]
        with self._lock:
            conn = self._connections.get(connection_id)
        if conn is None:
            return _error(410, "GoneException", f"Connection {connection_id} is gone")
        if request.method == "GET":

            def at(monotonic: float) -> str:
                return datetime.fromtimestamp(time.time() - (time.monotonic() - monotonic), UTC).isoformat()

            # The API's wire names (boto3 hands them over as ConnectedAt, Identity.SourceIp, LastActiveAt)
            body = {
                "connectedAt": at(conn.connected_at),
                "lastActiveAt": at(conn.last_active),
                "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
            }
            return HttpResponse(json.dumps(body), status=200, content_type="application/json")
        if request.method == "DELETE":
            self._run(conn.socket.close(1000, "Closed by the server"))
            return HttpResponse(status=204)
        if request.method != "POST":
            return _error(405, "MethodNotAllowed", "POST, GET or DELETE")
        data = request.get_data()
        if len(data) > MAX_POST_BYTES:
            return _error(413, "PayloadTooLargeException", f"Data is over {MAX_POST_BYTES} bytes")
        from websockets.exceptions import ConnectionClosed

        try:
            self._run(conn.socket.send(data.decode("utf-8")))
        except (ConnectionClosed, UnicodeDecodeError):
            return _error(410, "GoneException", f"Connection {connection_id} is gone")
        return HttpResponse(status=200)

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)


def _error(status: int, kind: str, message: str) -> HttpResponse:
    """An error as API Gateway's management API answers it (botocore reads the type from the header)."""
    response = HttpResponse(json.dumps({"message": message}), status=status, content_type="application/json")
    response.headers["x-amzn-ErrorType"] = kind
    return response
