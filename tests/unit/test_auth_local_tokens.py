"""infra/local/auth.py: the local user pool and authorizer accept only what API Gateway's would."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import jwt
import pytest

from infra.local import auth


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "hub" / "key.pem"
    monkeypatch.setenv(auth.KEY_ENV, str(path))
    return path


def test_a_fresh_key_is_created_once_private_to_the_user(key_file: Path) -> None:
    token = auth.issue_token(role="admin")
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o777 == 0o600
    first = key_file.read_bytes()
    auth.verify_token(token)
    assert key_file.read_bytes() == first  # reused, not regenerated


def test_claims_are_shaped_as_api_gateway_rest_passes_them(key_file: Path) -> None:
    token = auth.issue_token(
        role="staff", organisation_id="org-a", websites=["a", "b"], email="t@x.io", now=time.time()
    )
    claims = auth.verify_token(f"Bearer {token}")
    assert claims["cognito:groups"] == "staff"
    assert claims["custom:websites"] == "a,b"
    assert claims["custom:organisation_id"] == "org-a"
    assert claims["email"] == "t@x.io"
    assert claims["token_use"] == "id"
    assert claims["email_verified"] == "true"
    assert all(isinstance(v, str) for v in claims.values())
    assert claims["exp"].endswith(" UTC " + time.strftime("%Y", time.gmtime(time.time() + 3600)))
    # the raw token (without "Bearer") is accepted too, as by the Cognito authorizer
    assert auth.verify_token(token)["sub"] == claims["sub"]


def test_an_expired_token_is_refused(key_file: Path) -> None:
    token = auth.issue_token(role="admin", ttl_seconds=60, now=time.time() - 120)
    with pytest.raises(auth.InvalidToken, match="expired"):
        auth.verify_token(token)


def _tampered(token: str, **changes: object) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: _tampered(t, **{"cognito:groups": ["superadmin"]}),  # privilege escalation
        lambda t: _tampered(t, **{"custom:organisation_id": "rival-org"}),  # tenant hop
        lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),  # broken signature
        lambda t: jwt.encode(jwt.decode(t, options={"verify_signature": False}), key="", algorithm="none"),
        lambda t: "not-a-jwt",
        lambda t: "",
    ],
)
def test_tampered_or_unsigned_tokens_are_refused(key_file: Path, forge: object) -> None:
    token = auth.issue_token(role="staff", websites=["a"])
    with pytest.raises(auth.InvalidToken):
        auth.verify_token(forge(token))  # type: ignore[operator]


def test_a_token_from_another_key_is_refused(key_file: Path, tmp_path: Path) -> None:
    foreign = auth.issue_token(role="superadmin", path=tmp_path / "other.pem")
    with pytest.raises(auth.InvalidToken):
        auth.verify_token(foreign)


def test_an_access_token_or_another_audience_is_refused(key_file: Path) -> None:
    key = auth.signing_key()
    now = int(time.time())
    base = {"sub": "u", "iss": auth.ISSUER, "aud": auth.AUDIENCE, "iat": now, "exp": now + 60, "token_use": "id"}
    for claims in ({**base, "token_use": "access"}, {**base, "aud": "someone-else"}, {**base, "iss": "https://evil"}):
        token = jwt.encode(claims, key, algorithm="RS256")
        with pytest.raises(auth.InvalidToken):
            auth.verify_token(token)


@pytest.mark.parametrize(("role", "ttl"), [("owner", 60), ("admin", 0), ("admin", 86401)])
def test_issue_rejects_unknown_roles_and_bad_lifetimes(key_file: Path, role: str, ttl: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        auth.issue_token(role=role, ttl_seconds=ttl)
