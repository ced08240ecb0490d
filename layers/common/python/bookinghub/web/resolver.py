"""HTTP edge shared by the API handlers: one resolver factory, domain errors mapped to HTTP once.

Every error answers `{"success": false, "error": <message>, "code": <CODE>}` (plus `details` where a
field is at fault), the seed 002 shape, and never leaks internals.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import traceback
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler import api_gateway as powertools_api
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder, Route
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from pydantic_core import to_json

from bookinghub.core.errors import DomainError, InvalidPayload, PayloadTooLarge
from bookinghub.core.observability import logger, metrics
from bookinghub.core.security import mask_text
from bookinghub.core.settings import get_settings


def error_response(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response:
    body: dict[str, Any] = {"success": False, "error": message, "code": code}
    if details:
        body["details"] = details
    return json_response(status, body)


# Built once: json.dumps with any non-default option builds a new JSONEncoder on every call
_compact_json = json.JSONEncoder(separators=(",", ":")).encode


def json_response(status: int, body: dict[str, Any]) -> Response:
    return _response(status, _compact_json(body))


def own_json_response(status: int, body: dict[str, Any]) -> Response:
    """json_response for a body made only of the hub's own words: ASCII ids, names and messages, bools,
    ints and lists of them (never a caller's text, never a float). pydantic-core writes such a body byte for
    byte as the standard library does, at a quarter of its cost (a hot path's every answer)."""
    return _response(status, to_json(body).decode())


def _response(status: int, text: str) -> Response:
    return Response(
        status_code=status, content_type="application/json", body=text, headers={"Cache-Control": "no-store"}
    )


JSON_MEDIA_TYPE = "application/json"


def request_headers(event: BaseProxyEvent) -> dict[str, str]:
    """The request's headers by lower-cased name: what Powertools' `event.headers` holds (a case-insensitive
    dict it builds anew on each read, whose every lookup lower-cases its key), as a plain dict built once.
    Look names up in lower case."""
    return {name.lower(): value for name, value in (event.get("headers") or {}).items()}


def sent_as_json(event: BaseProxyEvent, headers: Mapping[str, str] | None = None) -> bool:
    """Whether the body was sent as application/json: parameters (charset) and case do not matter, and no
    Content-Type at all counts as JSON (as Powertools, and so the admin API, has always read it).
    `headers`: the event's, when the caller has them already (Powertools builds them anew on each read)."""
    media_type = ((headers or event.headers).get("content-type") or "").split(";")[0].strip().lower()
    return media_type in ("", JSON_MEDIA_TYPE)


def raw_body(event: BaseProxyEvent) -> bytes:
    """The request body as the client sent it (bytes), whatever API Gateway's encoding.

    Decoding to text is left to the JSON parser, so a body that is not UTF-8 is a 400, not a crash.
    """
    body = event.body or ""
    if not event.is_base64_encoded:
        # surrogatepass: a lone surrogate reaches the parser (which rejects it) instead of raising here
        return body.encode("utf-8", errors="surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidPayload(
            "Request body is not valid base64", details=[{"field": "body", "message": "invalid base64"}]
        ) from None


def request_body(event: BaseProxyEvent) -> bytes:
    """The raw body (as raw_body), refused with 413 past HUB_MAX_BODY_BYTES before anything reads it."""
    body = raw_body(event)
    limit = get_settings().max_body_bytes
    if len(body) > limit:
        raise PayloadTooLarge(f"Request body exceeds {limit} bytes")
    return body


def log_failure(message: str, error: BaseException, **extra: Any) -> None:
    """Log an unexpected error with its traceback, emails and phone numbers masked.

    Exception messages can quote stored data (a DynamoDB validation error names the offending value);
    Powertools' `logger.exception` would print them in clear.
    """
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    logger.error(message, extra={**extra, "error_type": type(error).__name__, "traceback": mask_text(trace)})


class HubResponseBuilder(ResponseBuilder[BaseProxyEvent]):
    """Powertools' response builder, except that a response that cannot be compressed (neither it nor its
    route asks for gzip) does not build the request's headers (a case-insensitive copy of them all) to read
    its Accept-Encoding: whatever that says, Powertools' answer is "no compression"."""

    @staticmethod
    def _has_compression_enabled(
        route_compression: bool, response_compression: bool | None, event: BaseProxyEvent
    ) -> bool:
        if not (response_compression or (response_compression is None and route_compression)):
            return False
        return ResponseBuilder._has_compression_enabled(route_compression, response_compression, event)


class HubRestResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, routing, exception handlers and response building unchanged, except for
    per-request shortcuts, each taken only where Powertools' own path would do nothing more for the request:
    - a plain route (no middleware, no request validation, no `Request` parameter, no `Depends()`, debug
      off) is called directly rather than through Powertools' middleware frame: that frame's only work for
      such a route is to call it (it formats its debug text, inspects the function for injections and
      pushes a stack frame for the debug printout on every request);
    - a (method, path) that matched a static route (one without parameters) is remembered (the routes as
      registered: a route added later forgets them), and the next request for it, when that route is
      plain, is resolved in one frame: the event wrapper, the routing context Powertools keeps, the
      route's call, its exception handlers;
    - an answer with a text body and nothing for Powertools' builder to add (no CORS, cache control,
      compression or cookies) is written as the builder writes it, without its passes over it.
    Anything else takes Powertools' own path, as does everything while Powertools' debug log is on (its
    debug lines stay). Its other responses are built by HubResponseBuilder."""

    _STATIC_HITS_MAX = 64  # (method, path) pairs remembered; a path matching a static rule's regex is rare

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._response_builder_class = HubResponseBuilder
        self._static_hits: dict[tuple[str, str], Route] = {}
        self._static_hits_for = (0, 0)  # how many static and dynamic routes there were when remembered

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        known = self._remembered(event)
        if known is None or not self._plain(known[0]):
            # Powertools' path keeps the event and context on BaseRouter: this resolver's own copies
            # (from a remembered route's request) must not hide them
            self.__dict__.pop("current_event", None)
            self.__dict__.pop("lambda_context", None)
            return super().resolve(event, context)
        route, path = known
        # Powertools' resolve, _resolve and _call_route for this route, in their order. The event and
        # context are kept on this resolver, where every read of them goes (`app.current_event`, and an
        # included Router's through its `api_resolver`), not on BaseRouter as Powertools keeps them: a
        # class attribute write per request invalidates the attribute caches of BaseRouter and of every
        # resolver class, so each request's method lookups would start cold.
        # Powertools' _to_proxy_event for a REST resolver, without its debug line (debug is off here)
        self.current_event = APIGatewayProxyEvent(event, self._json_body_deserializer)  # type: ignore[arg-type]
        self.lambda_context = context
        context_of_route = self.context
        try:
            context_of_route.update(_route=route, _path=path, _route_args={})  # (append_context's update)
            try:
                result = route.func()
                response = result if type(result) is Response else self._to_response(result)
            except Exception as exc:
                handled = self._call_exception_handler(exc, route)
                if not handled:
                    powertools_api.logger.exception(exc)
                    raise
                return self._build_response(handled)
            answer = _plain_answer(response, route, self.current_event)  # type: ignore[arg-type]
            if answer is not None:
                return answer
            return self._build_response(
                self._response_builder_class(response=response, serializer=self._serializer, route=route)  # type: ignore[arg-type]
            )
        finally:
            context_of_route.clear()  # (clear_context)

    def _remembered(self, event: Mapping[str, Any]) -> tuple[Route, str] | None:
        """The static route this event's method and path matched before, and its path (prefixes removed)."""
        if self._debug or type(event) is not dict or _powertools_debug():
            return None
        method, path = event.get("httpMethod"), event.get("path")
        if type(method) is not str or type(path) is not str or not self._static_hits:
            return None
        if (len(self._static_routes), len(self._dynamic_routes)) != self._static_hits_for:
            return None  # routes added since (_resolve forgets the pairs at its next scan)
        path = self._remove_prefix(path)
        route = self._static_hits.get((method.upper(), path))
        return None if route is None else (route, path)

    def _resolve(self) -> ResponseBuilder:
        """Powertools' scan of the routes; a static route it matched is remembered for its method and path."""
        routes = (len(self._static_routes), len(self._dynamic_routes))
        if routes != self._static_hits_for:
            self._static_hits.clear()
            self._static_hits_for = routes
        builder = super()._resolve()
        matched: Route | None = self.context.get("_route")
        static = matched is not None and any(matched is route for route in self._static_routes)
        if static and len(self._static_hits) < self._STATIC_HITS_MAX:
            self._static_hits[(self.current_event.http_method.upper(), self.context["_path"])] = matched  # type: ignore[assignment]
        return builder

    def _call_route(self, route: Route, route_arguments: dict[str, str]) -> ResponseBuilder:
        if not self._plain(route):
            return super()._call_route(route, route_arguments)
        # As Powertools' _call_route, with the route's frame (Route.__call__, _registered_api_adapter) inlined
        try:
            self.append_context(_route_args=route_arguments)
            response = self._to_response(route.func(**route_arguments))
            return self._response_builder_class(
                response=response,  # type: ignore[arg-type]  # (a REST route never answers a BedrockResponse)
                serializer=self._serializer,
                route=route,
            )
        except Exception as exc:
            handled = self._call_exception_handler(exc, route)
            if handled:
                return handled
            powertools_api.logger.exception(exc)
            raise

    def _plain(self, route: Route) -> bool:
        if self._debug or self._router_middlewares or route.middlewares:
            return False
        validation = route.enable_validation if route.enable_validation is not None else self._enable_validation
        if validation:
            return False
        if not route.request_param_name_checked:  # Powertools' own check, kept on the route as it keeps it
            route.request_param_name = powertools_api._find_request_param_name(route.func)
            route.request_param_name_checked = True
        return route.request_param_name is None and not route.has_dependencies

    def _build_response(self, response_builder: ResponseBuilder) -> dict[str, Any]:
        answer = None
        if type(response_builder) in _PLAIN_BUILDERS:
            answer = _plain_answer(response_builder.response, response_builder.route, self.current_event)
        return answer if answer is not None else super()._build_response(response_builder)


def _powertools_debug() -> bool:
    return powertools_api.logger.isEnabledFor(logging.DEBUG)


_PLAIN_BUILDERS = (ResponseBuilder, HubResponseBuilder)


def _plain_answer(response: Any, route: Route | None, event: BaseProxyEvent) -> dict[str, Any] | None:
    """What ResponseBuilder.build answers for a REST event when it has nothing to do but copy: a text body
    (no serializing, no base64), no CORS, cache control, compression or cookies. None: anything else."""
    if type(event) is not APIGatewayProxyEvent or type(response) is not Response:
        return None
    if type(response.body) is not str or response.cookies:
        return None
    if route is not None and (route.cors or route.cache_control or route.compress or response.compress):
        return None
    # MultiValueHeadersSerializer's payload (the REST event's header_serializer), without cookies
    headers: defaultdict[str, list[str]] = defaultdict(list)
    for name, values in response.headers.items():  # (a dict: each name once, so its list is new here)
        if type(values) is str:
            headers[name] = [values]
        elif values is not None:
            headers[name] = [values] if isinstance(values, str) else list(values)
    return {
        "statusCode": response.status_code,
        "body": response.body,
        "isBase64Encoded": response.base64_encoded,
        "multiValueHeaders": headers,
    }


def make_resolver() -> APIGatewayRestResolver:
    return add_error_handlers(HubRestResolver())


def domain_error_response(error: DomainError) -> Response:
    """A domain error, logged (with its traceback masked if it is a server error) and counted."""
    if error.status >= 500:
        log_failure("request failed", error, code=error.code)
    else:
        logger.info("request rejected", extra={"code": error.code, "reason": error.message})
    metrics.add_metric(name=f"Rejected{error.code.title().replace('_', '')}", unit="Count", value=1)
    return error_response(error.status, error.code, error.message, error.details)


def add_error_handlers(app: APIGatewayRestResolver) -> APIGatewayRestResolver:
    """Every failure in the API's error shape: domain errors by their code, unknown routes 404, anything
    else a bare 500 (details in the logs only)."""
    app.exception_handler(DomainError)(domain_error_response)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return error_response(404, "NOT_FOUND", "No such route")

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        log_failure("unhandled error", error)
        return error_response(500, "SERVER_ERROR", "Internal server error")

    return app
