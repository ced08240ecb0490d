"""HTTP edge of the admin API: a validating resolver (its routes make the OpenAPI document), the caller
from the authorizer's claims, and the seed's error shape for every failure.

Like bookinghub.web.resolver.make_resolver, plus Powertools' request validation: a query or body that does not
match its model answers 400 INVALID_PAYLOAD with the failing fields, never Powertools' own 422 shape.
Bodies are JSON only: another media type is 415, and a body that is not UTF-8 JSON is 400 (never a 500).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic_core import from_json

from bookinghub.core.auth import Principal, principal_from_claims
from bookinghub.core.errors import DomainError, InvalidPayload, UnsupportedMediaType
from bookinghub.core.observability import logger
from bookinghub.core.settings import get_settings
from bookinghub.web.resolver import (
    add_error_handlers,
    domain_error_response,
    error_response,
    json_response,
    raw_body,
    sent_as_json,
)

API_TITLE = "bookinghub API"
API_VERSION = "1.0.0"
SECURITY_SCHEME = "cognito"
# Declared on every route that API Gateway guards with the Cognito authorizer
COGNITO_SECURITY: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
# `?organisation_id=`: a superadmin names the tenant; for anyone else it must be their own (or absent)
OrganisationParam = Annotated[str | None, Query(max_length=64)]


def ok(status: int = 200, **body: Any) -> Response:
    """A successful admin answer: `{"success": true, ...}`."""
    return json_response(status, {"success": True, **body})


def make_admin_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    # Powertools runs its request validation before any middleware of ours, so the body parsing has to
    # be replaced in the validator itself (the resolver builds each route's stack from this attribute).
    app._request_validation_middleware = JsonBodyValidation()
    app.use([reject_unknown_query])

    def _caller_first(rejection: Response) -> Response:
        # Powertools validates before the route runs: who is calling is still answered first (401/403)
        try:
            principal_of(app)
        except DomainError as auth_error:
            return domain_error_response(auth_error)
        return rejection

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response:
        details = [_detail(e) for e in error.errors()]
        logger.info("request rejected", extra={"code": "INVALID_PAYLOAD", "fields": [d["field"] for d in details]})
        return _caller_first(error_response(400, "INVALID_PAYLOAD", "Request validation failed", details))

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(_: RequestUnsupportedContentType) -> Response:
        return _caller_first(domain_error_response(UnsupportedMediaType()))

    return add_error_handlers(app)


class JsonBodyValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, with the body read as the API documents it: JSON, nothing else.

    Powertools would also parse form and multipart bodies (and fail with a bare ValueError on a multipart
    type without a boundary), and parses JSON with `json.loads`, which raises RecursionError on deeply
    nested arrays and ValueError on integers of more than 4300 digits: each of those was a 500. Here
    another media type is RequestUnsupportedContentType (415) and any undecodable body a validation error
    (400), both answered after the caller's own 401/403.
    """

    def _get_body(self, app: Any) -> Any:
        event = app.current_event
        if not sent_as_json(event):
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[{"type": "unsupported_content_type", "loc": ("body",), "msg": "must be application/json"}],
            )
        try:
            raw = raw_body(event)
        except InvalidPayload:  # base64 that does not decode: the same 400, still after the caller's 401/403
            raise _body_error("not valid base64") from None
        if not raw:
            return None  # as Powertools: a required body then fails as missing
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _body_error("not UTF-8") from None
        try:
            # jiter (pydantic's parser): bounded nesting and number size, no NaN/Infinity
            return from_json(raw, allow_inf_nan=False)
        except ValueError as invalid:
            raise _body_error(f"invalid JSON: {invalid}") from None


def _body_error(message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": message}])


def _detail(error: Any) -> dict[str, str]:
    location = [str(part) for part in error.get("loc", ())]
    # Powertools prefixes the source ("body", "query", "path"); name the field itself
    field = ".".join(location[1:]) if len(location) > 1 else ".".join(location) or "body"
    return {"field": field, "message": str(error.get("msg", "invalid"))}


def principal_of(app: APIGatewayRestResolver) -> Principal:
    """The caller, from the claims API Gateway's Cognito authorizer (or the local gateway) verified."""
    return principal_from_claims(app.current_event.request_context.authorizer.claims)


def openapi_document(app: APIGatewayRestResolver) -> dict[str, Any]:
    """The whole API's document (generated by infra/openapi.py at `make layer` and `make run`), or, where
    it was not generated (a handler invoked on its own, as in tests), this resolver's routes."""
    whole = _whole_api_document(get_settings().openapi_document_path or str(PACKAGED_DOCUMENT))
    return whole if whole is not None else _own_document(app)


# Written into the layer by `make layer` (infra/build_layer.py)
PACKAGED_DOCUMENT = Path(__file__).resolve().parents[1] / "openapi.json"


@cache
def _whole_api_document(path: str) -> dict[str, Any] | None:
    try:
        document: dict[str, Any] = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None
    return document


def _own_document(app: APIGatewayRestResolver) -> dict[str, Any]:
    # Powertools' OpenAPI models (~60 pydantic models, ~60 ms to build) only where a document is made
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    schema = app.get_openapi_json_schema(
        title=API_TITLE,
        version=API_VERSION,
        description=(
            "Admin API of the booking hub (seed 002 dashboard). Send a Cognito ID token as "
            "`Authorization: Bearer <token>` (locally: `bookinghub token --role superadmin`)."
        ),
        security_schemes={SECURITY_SCHEME: APIKey(name="Authorization", in_=APIKeyIn.header)},
    )
    document: dict[str, Any] = json.loads(schema)
    return document


def reject_unknown_query(app: APIGatewayRestResolver, next_middleware: Any) -> Response:
    """Unknown query parameters are rejected like unknown body fields (Powertools ignores them).

    Reads the matched route from the resolver's context, where Powertools' own validation finds it.
    """
    route = app.context.get("_route")
    given = set((app.current_event.query_string_parameters or {}).keys())
    if route is not None and given:
        known = {param.alias for param in route.dependant.query_params}
        unknown = sorted(given - known)
        if unknown:
            details = [{"field": name, "message": "unknown query parameter"} for name in unknown]
            return error_response(400, "INVALID_PAYLOAD", "Unknown query parameters", details)
    response: Response = next_middleware(app)
    return response
