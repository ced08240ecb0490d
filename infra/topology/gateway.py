"""How the API gateway answers the requests it rejects itself, before any function runs.

Declared once, rendered by both targets: the CDK renderer turns each entry into an API Gateway gateway
response (infra/cdk/api.py), and the local gateway (infra/local/gateway.py) answers the same status and
body for the same cause. Every body is the hub's error shape {"success": false, "error", "code"}, like
the functions' own errors (bookinghub.web.resolver), so a client handles one shape whoever rejected it.

An unknown route and a wrong method on a known path get the same answer, 404 NOT_FOUND: that is all a
REST API can say. API Gateway treats a method a resource lacks like a resource it lacks (one gateway
response type, MISSING_AUTHENTICATION_TOKEN), and a gateway response's template cannot tell the two
apart or add an Allow header; a 405 would need a method of its own on every resource.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# API Gateway's variable for its own message of the rejection
GATEWAY_MESSAGE = "$context.error.messageString"


@dataclass(frozen=True)
class GatewayError:
    response_type: str  # API Gateway's gateway response type, e.g. "THROTTLED"
    code: str
    status: int | None = None  # None keeps API Gateway's status for the type
    message: str | None = None  # None keeps API Gateway's message (GATEWAY_MESSAGE)

    def template(self) -> str:
        """The response body as a gateway response template (a JSON document; the message may be VTL)."""
        message = json.dumps(self.message) if self.message else GATEWAY_MESSAGE  # the variable renders quoted
        return f'{{"success":false,"error":{message},"code":{json.dumps(self.code)}}}'


# No route uses IAM auth, so "Missing Authentication Token" (403) can only mean a path or method API
# Gateway does not know: answer what the functions answer for an unknown route. A fixed message: with an
# operator's Bearer token, API Gateway's own message for the same case is a SigV4 parsing complaint.
UNKNOWN_ROUTE = GatewayError("MISSING_AUTHENTICATION_TOKEN", "NOT_FOUND", 404, "No such route")
BAD_BODY = GatewayError("BAD_REQUEST_BODY", "INVALID_PAYLOAD", 400, "Request body must be a JSON object")
TOO_LARGE = GatewayError("REQUEST_TOO_LARGE", "PAYLOAD_TOO_LARGE", 413)
UNAUTHORIZED = GatewayError("UNAUTHORIZED", "AUTH_FAILED", 401)  # the Cognito authorizer refused the token
# Includes integration timeouts (504) and Lambda failures (502): never leak API Gateway's detail.
SERVER_ERROR = GatewayError("DEFAULT_5XX", "SERVER_ERROR", None, "Internal server error")

GATEWAY_ERRORS: tuple[GatewayError, ...] = (
    BAD_BODY,
    GatewayError("BAD_REQUEST_PARAMETERS", "INVALID_PAYLOAD", 400),
    TOO_LARGE,
    GatewayError("THROTTLED", "RATE_LIMITED", 429),
    GatewayError("QUOTA_EXCEEDED", "RATE_LIMITED", 429),
    UNKNOWN_ROUTE,
    UNAUTHORIZED,
    GatewayError("ACCESS_DENIED", "AUTH_FAILED", 403),
    GatewayError("INVALID_API_KEY", "AUTH_FAILED", 403),
    # Any other 4xx API Gateway raises itself (e.g. 415): its own status and message, generic code.
    GatewayError("DEFAULT_4XX", "BAD_REQUEST"),
    SERVER_ERROR,
)
