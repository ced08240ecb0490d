"""The $connect authorizer (AWS): Cognito ID tokens checked as the REST API's Cognito authorizer does."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bookinghub.realtime.logic.authorizer import AUDIENCE_ENV, ISSUER_ENV, Unauthorized, authorize

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"
AUDIENCE = "app-client"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc/prod/$connect"


class Keys:
    """Stands in for PyJWKClient (the user pool's JWKS)."""

    def __init__(self, key: Any) -> None:
        self.key = key

    def get_signing_key_from_jwt(self, token: str) -> Any:
        return self


def token(**changes: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "token_use": "id",
        "iat": now,
        "exp": now + 300,
        "cognito:groups": ["admin"],
        "custom:organisation_id": "demo-org",
        **changes,
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, KEY, algorithm="RS256")


@pytest.fixture(autouse=True)
def _pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ISSUER_ENV, ISSUER)
    monkeypatch.setenv(AUDIENCE_ENV, AUDIENCE)


def test_a_valid_token_passes_its_claims_as_the_rest_authorizer_shapes_them() -> None:
    answer = authorize({"methodArn": ARN, "queryStringParameters": {"token": token()}}, keys=Keys(KEY.public_key()))
    assert answer["principalId"] == "user-1"
    assert answer["policyDocument"]["Statement"][0] == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": ARN,
    }
    assert answer["context"]["cognito:groups"] == "admin"
    assert answer["context"]["custom:organisation_id"] == "demo-org"


def test_no_token_passes_without_claims_for_connect_to_decide() -> None:
    answer = authorize({"methodArn": ARN, "queryStringParameters": {"api_key": "k"}}, keys=Keys(KEY.public_key()))
    assert answer["context"] == {}


@pytest.mark.parametrize(
    "bad",
    [
        {"exp": int(time.time()) - 1},
        {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/other"},
        {"aud": "another-client"},
        {"token_use": "access"},
        {"token_use": None},
    ],
)
def test_bad_tokens_are_unauthorized(bad: dict[str, Any]) -> None:
    with pytest.raises(Unauthorized):
        authorize({"methodArn": ARN, "queryStringParameters": {"token": token(**bad)}}, keys=Keys(KEY.public_key()))


def test_a_token_signed_by_another_key_is_unauthorized() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    with pytest.raises(Unauthorized):
        authorize({"methodArn": ARN, "queryStringParameters": {"token": token()}}, keys=Keys(other))
    with pytest.raises(Unauthorized):
        authorize({"methodArn": ARN, "queryStringParameters": {"token": "not-a-jwt"}}, keys=Keys(other))
