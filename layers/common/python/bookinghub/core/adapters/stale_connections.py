"""A request that meets a kept-alive connection the server has just closed goes again, once, on a new one.

A server may close an idle kept-alive connection at any moment without saying so (no `Connection: close`).
urllib3 checks a pooled connection before reusing it, but a server that closes right after its answer can
still be mid-close at that check: the next request is written to a socket that is going away, and comes back
as "connection aborted" (RemoteDisconnected, a reset, a broken pipe) before any answer. That failure is the
client's race, not the receiver's, so it must not count as a failed delivery (nor towards a circuit breaker
or auto-disable). Browsers, Go's net/http and hyper all retry it once on a new connection; so does this.

Only when the connection came from the pool (a fresh connection failing the same way is a real failure, as
it is today) and only for a request that is safe to send twice: an idempotent method, or every method for a
session whose requests carry their own idempotency key (a webhook delivery's `webhook-id`, which receivers
de-duplicate by). Every other error is raised exactly as requests' default adapter (`Retry(0, read=False)`)
raises it. urllib3 is imported at first use, not at cold start.
"""

from __future__ import annotations

import threading
from functools import cache
from http.client import RemoteDisconnected
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from urllib3 import HTTPConnectionPool
    from urllib3.util.retry import Retry

# The ways a server that closed the connection first shows itself to the next request, before any answer
_CLOSED_BY_SERVER = (RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


@cache
def reuse_tracking_pools() -> dict[str, type[HTTPConnectionPool]]:
    """urllib3's pool classes by scheme, each noting (per thread) whether its last connection was reused."""
    from urllib3 import HTTPConnectionPool, HTTPSConnectionPool

    class _Tracking:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.last_connection = threading.local()  # pools are shared by a session's threads

        def _get_conn(self, timeout: float | None = None) -> Any:
            connection = super()._get_conn(timeout)  # type: ignore[misc]
            # a new connection has no socket yet; a pooled one found dropped was closed (socket None)
            self.last_connection.reused = getattr(connection, "sock", None) is not None
            return connection

    class TrackingHTTPConnectionPool(_Tracking, HTTPConnectionPool):
        pass

    class TrackingHTTPSConnectionPool(_Tracking, HTTPSConnectionPool):
        pass

    return {"http": TrackingHTTPConnectionPool, "https": TrackingHTTPSConnectionPool}


def was_reused(pool: object) -> bool:
    tracked = getattr(pool, "last_connection", None)
    return bool(getattr(tracked, "reused", False))


def closed_by_server(error: BaseException | None) -> bool:
    """urllib3 wraps these as ProtocolError("Connection aborted.", cause)."""
    cause = error.args[1] if error is not None and len(error.args) == 2 else None
    return isinstance(cause, _CLOSED_BY_SERVER)


@cache
def stale_connection_retry(*, any_method: bool) -> Retry:
    """The adapter's `max_retries`: one more try for a reused connection the server had closed."""
    from urllib3.exceptions import ProtocolError
    from urllib3.util.retry import Retry

    class StaleConnectionRetry(Retry):
        def increment(
            self,
            method: str | None = None,
            url: str | None = None,
            response: Any = None,
            error: Exception | None = None,
            _pool: Any = None,
            _stacktrace: Any = None,
        ) -> StaleConnectionRetry:
            replayable = any_method or (method or "").upper() in Retry.DEFAULT_ALLOWED_METHODS
            if (
                self.total
                and replayable
                and isinstance(error, ProtocolError)
                and closed_by_server(error)
                and was_reused(_pool)
            ):
                return self.new(total=0)
            # requests' own default: raise the error as it came (read errors) or as MaxRetryError
            default = Retry(0, read=False)
            return default.increment(method, url, response, error, _pool, _stacktrace)  # type: ignore[return-value]

    return StaleConnectionRetry(
        total=1,
        connect=0,
        read=0,
        redirect=0,
        status=0,
        other=0,
        backoff_factor=0,
        respect_retry_after_header=False,  # a Retry-After is the dispatcher's to schedule, never slept here
    )
