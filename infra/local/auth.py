"""The local stand-in for the Cognito user pool and API Gateway's Cognito authorizer.

- The "user pool" is one RSA key pair, generated on first use into `.hub/local-jwt-key.pem` (gitignored,
  mode 0600; HUB_LOCAL_JWT_KEY names another file). `bookinghub token` signs ID tokens with it; the
  gateway verifies them with its public half. It is a demo key for this machine only: it never leaves it
  and nothing deployed trusts it.
- `verify_token` checks what the authorizer checks (signature RS256, issuer, audience, `token_use=id`,
  expiry) and returns the claims shaped as API Gateway REST hands them to the function in
  requestContext.authorizer.claims: every value a string, lists comma-separated, exp/iat as dates.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = "HUB_LOCAL_JWT_KEY"
DEFAULT_KEY_PATH = ROOT / ".hub" / "local-jwt-key.pem"
ISSUER = "https://cognito-idp.local.bookinghub/local-user-pool"
AUDIENCE = "bookinghub-local-client"
KEY_ID = "local-demo-key"
ALGORITHM = "RS256"
DEFAULT_TTL_SECONDS = 3600
MAX_TTL_SECONDS = 24 * 3600
ROLES = ("superadmin", "admin", "staff")


class InvalidToken(Exception):
    """The request carries no token, or one the user pool did not issue or that has expired."""


def key_path() -> Path:
    return Path(os.environ.get(KEY_ENV) or DEFAULT_KEY_PATH)


def signing_key(path: Path | None = None) -> Any:
    """The local pool's private key, created on first use (atomically: a concurrent first use is safe)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = path or key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        try:
            os.link(temporary, path)  # fails if another process created it first: theirs wins
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def issue_token(
    *,
    role: str,
    organisation_id: str | None = "demo-org",
    websites: Iterable[str] = (),
    email: str | None = None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
    path: Path | None = None,
) -> str:
    """An ID token as the user pool would issue it for a user in `role`'s group."""
    import jwt

    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be between 1 and {MAX_TTL_SECONDS} seconds")
    issued = int(time.time() if now is None else now)
    email = email or f"{role}@{organisation_id or 'bookinghub'}.local"
    claims: dict[str, Any] = {
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"local-user:{email}")),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "token_use": "id",
        "auth_time": issued,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "email": email,
        "email_verified": True,
        "cognito:username": email,
        "cognito:groups": [role],
        "custom:websites": ",".join(w.strip() for w in websites if w.strip()),
        "event_id": str(uuid.uuid4()),
    }
    if organisation_id:
        claims["custom:organisation_id"] = organisation_id
    return jwt.encode(claims, signing_key(path), algorithm=ALGORITHM, headers={"kid": KEY_ID})


def verify_token(authorization: str | None, *, path: Path | None = None) -> dict[str, str]:
    """The claims of a valid token in an Authorization header value (raw or `Bearer <token>`)."""
    import jwt

    token = (authorization or "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise InvalidToken("missing token")
    public_key = signing_key(path).public_key()
    try:
        claims = jwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],  # never "none", never HS256 keyed with the public key
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
            leeway=0,
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token expired") from None
    except jwt.PyJWTError as error:
        raise InvalidToken(f"invalid token: {type(error).__name__}") from None
    if claims.get("token_use") != "id":
        raise InvalidToken("not an ID token")
    return gateway_claims(claims)


def gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway REST passes them: strings; lists comma-joined; exp/iat as UTC dates."""
    shaped: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat"):
            shaped[name] = datetime.fromtimestamp(int(value), UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
        elif isinstance(value, list | tuple):
            shaped[name] = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            shaped[name] = "true" if value else "false"
        else:
            shaped[name] = str(value)
    return shaped
