"""Posting to a WebSocket connection through the API Gateway management API.

On AWS the endpoint is the stage's callback URL; under `make run` it is the local WebSocket server's
loopback endpoint, which speaks the same API (POST /@connections/{id}, 410 for an unknown connection),
so this is the one code path for both. A connection that is gone (410 GoneException) is reported as
ConnectionGone for the caller to forget it; a throttle (429 LimitExceededException) is retried with
jittered backoff, then reported as Throttled so the batch item fails and is redelivered.
"""

from __future__ import annotations

import contextlib
import random
import time
from typing import Any

from bookinghub.aws.clients import endpoint_client
from bookinghub.core.settings import get_settings

RETRIES = 4


class ConnectionGone(Exception):
    """The client disconnected (or never was): the hub should delete the connection."""


class Throttled(Exception):
    """API Gateway kept refusing with LimitExceeded."""


def management_client() -> Any:
    url = get_settings().realtime_management_url
    if not url:
        raise RuntimeError("REALTIME_MANAGEMENT_URL is not set")
    # One pooled connection per parallel post of the broadcaster (logic/broadcast.POST_WORKERS)
    return endpoint_client("apigatewaymanagementapi", url, max_pool_connections=16)


def post(connection_id: str, data: bytes, *, sleep: Any = time.sleep) -> None:
    api = management_client()
    for attempt in range(RETRIES + 1):
        try:
            api.post_to_connection(ConnectionId=connection_id, Data=data)
            return
        except api.exceptions.GoneException:
            raise ConnectionGone(connection_id) from None
        except api.exceptions.LimitExceededException:
            if attempt == RETRIES:
                raise Throttled(connection_id) from None
            sleep(random.uniform(0, min(2.0, 0.1 * 2**attempt)))


def disconnect(connection_id: str) -> None:
    """Close a connection from the hub's side (idempotent)."""
    api = management_client()
    with contextlib.suppress(api.exceptions.GoneException):
        api.delete_connection(ConnectionId=connection_id)
