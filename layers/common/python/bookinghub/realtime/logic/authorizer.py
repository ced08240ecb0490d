"""The WebSocket API's $connect authorizer (AWS): an operator's `?token=` verified as Cognito's
authorizer verifies it for the REST API, the claims handed to $connect in API Gateway's REST shape.

API Gateway has no Cognito authorizer for WebSocket APIs, so this Lambda REQUEST authorizer does the same
checks: RS256 signature by one of the user pool's keys (its JWKS, cached), issuer, audience (the
operators' app client), `token_use=id`, expiry. A connection without a token is allowed through with
no claims: the $connect function then requires a website API key, or refuses it (401). Locally the
WebSocket server does these checks with the local user pool (infra/local/auth.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

ISSUER_ENV = "REALTIME_TOKEN_ISSUER"  # https://cognito-idp.{region}.amazonaws.com/{user pool id}
AUDIENCE_ENV = "REALTIME_TOKEN_AUDIENCE"  # the app client id


class Unauthorized(Exception):
    """API Gateway answers 401 when a REQUEST authorizer raises exactly this message."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@cache
def _jwks(issuer: str) -> Any:
    from jwt import PyJWKClient

    return PyJWKClient(f"{issuer}/.well-known/jwks.json", cache_keys=True, lifespan=3600)


def verify(token: str, *, issuer: str, audience: str, keys: Any = None) -> dict[str, Any]:
    import jwt

    try:
        signing_key = (keys or _jwks(issuer)).get_signing_key_from_jwt(token).key
        claims: dict[str, Any] = jwt.decode(
            token,
            signing_key,
            algorithms=["RS256"],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
        )
    except jwt.PyJWTError:
        raise Unauthorized() from None
    if claims.get("token_use") != "id":
        raise Unauthorized()
    return claims


def gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """An authorizer's context holds only strings, numbers and booleans: lists comma-joined, as API
    Gateway REST passes Cognito claims (bookinghub.core.auth reads either shape)."""
    shaped: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, list | tuple):
            shaped[name] = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            shaped[name] = "true" if value else "false"
        else:
            shaped[name] = str(value)
    return shaped


def authorize(event: Mapping[str, Any], *, keys: Any = None) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token")
    context: dict[str, str] = {}
    principal = "anonymous"  # no token: the $connect function decides (website API key or 401)
    if token:
        claims = verify(token, issuer=os.environ[ISSUER_ENV], audience=os.environ[AUDIENCE_ENV], keys=keys)
        context, principal = gateway_claims(claims), str(claims["sub"])
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}],
        },
        "context": context,
    }
