"""The API Gateway REST (v1) proxy event for a request, and the HTTP response for a proxy result.

Handlers must see locally exactly what Lambda hands them behind API Gateway: the raw body (base64 for
binary), header names as the client sent them, single and multi-value headers and query strings, the
resource template with its path parameters, and the request context.
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from infra.local.aws_env import ACCOUNT_ID

# Set by servers.CasePreservingHandler: the header lines as received (WSGI upper-cases their names)
RAW_HEADERS_KEY = "bookinghub.raw_headers"
API_ID = "local"
_TEXT_TYPES = (
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/graphql",
)


def header_pairs(request: Request) -> list[tuple[str, str]]:
    raw = request.environ.get(RAW_HEADERS_KEY)
    if raw is not None:
        return [(str(name), str(value)) for name, value in raw]
    return list(request.headers.items())  # no raw lines (werkzeug's test client): WSGI's spelling


def is_text_body(mimetype: str, raw: bytes) -> bool:
    """Text travels as a string; anything else (or undecodable) as base64, like binary media types."""
    textual = (
        not mimetype or mimetype.startswith("text/") or mimetype in _TEXT_TYPES or mimetype.endswith(("+json", "+xml"))
    )
    if not textual:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def build_event(
    request: Request,
    *,
    resource: str,
    path_parameters: Mapping[str, str],
    body: bytes,
    stage: str,
    request_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    now = time.time() if now is None else now
    request_id = request_id or str(uuid.uuid4())
    pairs = header_pairs(request)
    source_ip = request.remote_addr or "127.0.0.1"
    pairs += _forwarded_headers(pairs, source_ip, request)
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in pairs:
        headers[name] = value  # the last value wins in `headers`, all of them are in `multiValueHeaders`
        multi_headers.setdefault(name, []).append(value)
    query = request.args.to_dict(flat=False)
    text = is_text_body(request.mimetype, body)
    host = request.host.split(":")[0]
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": f"{zlib.crc32(resource.encode()):08x}"[:6],
            "resourcePath": resource,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{request.path}",
            "accountId": ACCOUNT_ID,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "stage": stage,
            "domainPrefix": host.split(".")[0],
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": request.headers.get("User-Agent"),
                "user": None,
            },
            "domainName": host,
            "apiId": API_ID,
        },
        "body": (body.decode("utf-8") if text else base64.b64encode(body).decode("ascii")) if body else None,
        "isBase64Encoded": bool(body) and not text,
    }


def _forwarded_headers(pairs: list[tuple[str, str]], source_ip: str, request: Request) -> list[tuple[str, str]]:
    """API Gateway adds the client address, scheme and port; an existing X-Forwarded-For is extended."""
    present = {name.lower(): value for name, value in pairs}
    added = []
    if "x-forwarded-for" in present:
        pairs[:] = [(n, v) for n, v in pairs if n.lower() != "x-forwarded-for"]
        added.append(("X-Forwarded-For", f"{present['x-forwarded-for']}, {source_ip}"))
    else:
        added.append(("X-Forwarded-For", source_ip))
    if "x-forwarded-proto" not in present:
        added.append(("X-Forwarded-Proto", request.scheme))
    if "x-forwarded-port" not in present:
        added.append(("X-Forwarded-Port", str(request.environ.get("SERVER_PORT", "80"))))
    return added


class MalformedProxyResponse(ValueError):
    pass


def to_response(result: Any) -> Response:
    """A Lambda proxy result -> HTTP response; API Gateway answers 502 to anything malformed."""
    if not isinstance(result, dict):
        raise MalformedProxyResponse(f"expected a dict, got {type(result).__name__}")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedProxyResponse(f"invalid statusCode {status!r}")
    body = result.get("body") or ""
    if not isinstance(body, str):
        raise MalformedProxyResponse("body must be a string")
    try:
        payload = base64.b64decode(body, validate=True) if result.get("isBase64Encoded") else body.encode("utf-8")
    except binascii.Error as error:
        raise MalformedProxyResponse(f"body is not valid base64: {error}") from None
    response = Response(status=status)
    response.headers.clear()
    multi = result.get("multiValueHeaders") or {}
    for name, values in multi.items():
        for value in values:
            response.headers.add(name, str(value))
    lowered = {name.lower() for name in multi}
    for name, value in (result.get("headers") or {}).items():
        if name.lower() not in lowered:
            response.headers.set(name, str(value))
    if "Content-Type" not in response.headers:
        response.headers.set("Content-Type", "application/json")  # API Gateway's default
    response.set_data(payload)  # also sets Content-Length
    return response
