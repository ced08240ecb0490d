"""$connect and $disconnect: who the caller is, remembered on the connection.

An operator connects with `?token=<admin ID token>`: the token is verified before the function runs
(on AWS by the WebSocket API's authorizer, locally by infra/local/auth.py, as for the REST API) and its
claims arrive in requestContext.authorizer. A website connects with `?api_key=<its key>`, checked here
by its hash exactly as the booking sync checks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bookinghub.core.auth import principal_from_claims
from bookinghub.core.errors import AuthFailed
from bookinghub.realtime.dal import connections as store
from bookinghub.realtime.logic.scope import Scope

# What the authorizer passes besides the claims (API Gateway adds principalId and integrationLatency)
_AUTHORIZER_EXTRAS = {"principalId", "integrationLatency"}


def scope_of(query: Mapping[str, str] | None, authorizer: Mapping[str, Any] | None) -> Scope:
    """The caller's scope; AuthFailed (401) or Forbidden (403) when there is none."""
    query = query or {}
    api_key = query.get("api_key")
    if api_key:
        from bookinghub.websites.logic.auth import authenticate

        record = authenticate(api_key)
        return Scope.of_website(record.website_id, record.organisation_id)
    claims = {k: v for k, v in (authorizer or {}).items() if k not in _AUTHORIZER_EXTRAS}
    if not claims.get("sub"):
        raise AuthFailed("Connect with ?token=<admin token> or ?api_key=<website API key>")
    return Scope.of_operator(principal_from_claims(claims))


def connect(connection_id: str, query: Mapping[str, str] | None, authorizer: Mapping[str, Any] | None) -> Scope:
    scope = scope_of(query, authorizer)
    store.put_connection(connection_id, scope)
    return scope


def disconnect(connection_id: str) -> None:
    store.delete_connection(connection_id)
