"""The HTTP gateway: API Gateway REST in front of the topology's functions, as a werkzeug WSGI app.

Routes come only from the topology, and the gateway's own rejections are the ones infra/topology/gateway.py
declares for API Gateway: an unknown path and a wrong method are both 404 NOT_FOUND (all a REST API can
answer), bodies over API Gateway's 10 MB limit are 413. Every request writes one access line (no bodies).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from infra import topology
from infra.local import auth, lambdas
from infra.local.gateway_event import MalformedProxyResponse, build_event, to_response
from infra.local.routes import MethodNotAllowed, RouteNotFound, RouteTable
from infra.topology import gateway
from infra.topology.gateway import GatewayError

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
access_log = logging.getLogger(__name__)
Invoker = Callable[[str, dict[str, Any]], lambdas.Invocation]


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps({"success": False, "error": message, "code": code}, separators=(",", ":"))
    return Response(body, status=status, headers=headers, content_type="application/json")


def rejection(declared: GatewayError, *, status: int | None = None, message: str | None = None) -> Response:
    """A declared gateway answer; `status`/`message` stand in where it keeps API Gateway's own."""
    answer_status, answer_message = declared.status or status, declared.message or message
    if answer_status is None or answer_message is None:
        raise ValueError(f"{declared.response_type} needs a local status and message")
    return error(answer_status, declared.code, answer_message, {"Cache-Control": "no-store"})


class Gateway:
    def __init__(
        self,
        *,
        invoke: Invoker = lambdas.call,
        routes: Iterable[tuple[topology.Route, topology.Function]] | None = None,
        stage: str = "local",
        ready: threading.Event | None = None,
    ) -> None:
        self._invoke = invoke
        self._routes = RouteTable(topology.all_routes() if routes is None else routes)
        self._stage = stage
        self._ready = ready

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY_BYTES
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        response = self.handle(request, request_id)
        response.headers.set("x-amzn-RequestId", request_id)
        access_log.info(
            "%s %s %s %s %dms requestId=%s",
            request.remote_addr,
            request.method,
            request.path,
            response.status_code,
            (time.monotonic() - started) * 1000,
            request_id,
        )
        return response(environ, start_response)

    def handle(self, request: Request, request_id: str) -> Response:
        if self._ready is not None and not self._ready.is_set():
            return error(503, "NOT_READY", "The local hub is still starting", {"Retry-After": "1"})
        try:
            match = self._routes.match(request.method, request.path)
        except (RouteNotFound, MethodNotAllowed):
            return rejection(gateway.UNKNOWN_ROUTE)
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            _discard_body(request)
            return rejection(gateway.TOO_LARGE, message=f"Request body exceeds {MAX_BODY_BYTES} bytes")
        event = build_event(
            request,
            resource=match.route.path,
            path_parameters=match.path_parameters,
            body=body,
            stage=self._stage,
            request_id=request_id,
        )
        if match.route.auth == "cognito":
            # API Gateway's Cognito authorizer: a valid ID token or 401, and its claims to the function
            try:
                claims = auth.verify_token(request.headers.get("Authorization"))
            except auth.InvalidToken:
                return rejection(gateway.UNAUTHORIZED, message="Unauthorized")
            event["requestContext"]["authorizer"] = {"claims": claims}
        # A json_body route's malformed body is not rejected here: the handler answers INVALID_PAYLOAD itself.
        invocation = self._invoke(match.function.name, event)
        if invocation.error is not None:
            return rejection(gateway.SERVER_ERROR, status=502)  # API Gateway's status for a failed Lambda
        try:
            return to_response(invocation.result)
        except MalformedProxyResponse as malformed:
            access_log.error("%s returned a malformed proxy response: %s", match.function.name, malformed)
            return rejection(gateway.SERVER_ERROR, status=502)


def _discard_body(request: Request, limit: int = 8 * MAX_BODY_BYTES) -> None:
    """Read what the client is still sending, so it gets the 413 rather than a reset connection."""
    stream = request.environ["wsgi.input"]
    remaining = request.content_length if request.content_length is not None else limit
    remaining = min(remaining, limit)
    while remaining > 0:
        chunk = stream.read(min(65536, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
