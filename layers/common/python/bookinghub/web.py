"""HTTP edge shared by the API handlers: one resolver factory, domain errors mapped to HTTP once.

Every error answers `{"success": false, "error": <message>, "code": <CODE>}` (plus `details` where a
field is at fault), the seed 002 shape, and never leaks internals.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from bookinghub.errors import DomainError
from bookinghub.observability import logger, metrics


def error_response(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response:
    body: dict[str, Any] = {"success": False, "error": message, "code": code}
    if details:
        body["details"] = details
    return json_response(status, body)


def json_response(status: int, body: dict[str, Any]) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, separators=(",", ":")),
        headers={"Cache-Control": "no-store"},
    )


def make_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()

    @app.exception_handler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        if error.status >= 500:
            logger.exception("request failed", extra={"code": error.code})
        else:
            logger.info("request rejected", extra={"code": error.code, "reason": error.message})
        metrics.add_metric(name=f"Rejected{error.code.title().replace('_', '')}", unit="Count", value=1)
        return error_response(error.status, error.code, error.message, error.details)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return error_response(404, "NOT_FOUND", "No such route")

    @app.exception_handler(Exception)
    def _unexpected(_: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(500, "SERVER_ERROR", "Internal server error")

    return app
