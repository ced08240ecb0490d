"""HTTP edge shared by the API handlers: one resolver factory, domain errors mapped to HTTP once.

Every error answers `{"success": false, "error": <message>, "code": <CODE>}` (plus `details` where a
field is at fault), the seed 002 shape, and never leaks internals.
"""

from __future__ import annotations

import base64
import binascii
import json
import traceback
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler import api_gateway as powertools_api
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder, Route
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
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
    """Powertools' REST resolver, routing, exception handlers and response building unchanged, except that
    a plain route (no middleware, no request validation, no `Request` parameter, no `Depends()`, debug off)
    is called directly rather than through Powertools' middleware frame: that frame's only work for such a
    route is to call it (it formats its debug text, inspects the function for injections and pushes a
    stack frame for the debug printout on every request). Anything else takes Powertools' own path. Its
    responses are built by HubResponseBuilder."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._response_builder_class = HubResponseBuilder

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
