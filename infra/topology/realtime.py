"""Real-time booking events (issue 14): the WebSocket API, its tables and functions, declared once.

infra/topology/ adds TABLES and FUNCTIONS to its own; infra/cdk/websocket.py renders the WebSocket
API and infra/local/websocket.py serves the same routes on loopback. Each WebSocket route -> its function
(WEBSOCKET_ROUTES) -> functions/<name>/handler.py -> bookinghub/realtime/logic/.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.topology.model import Access, Function, Route, StreamMatch, StreamTrigger, Table


@dataclass(frozen=True)
class WebSocketRoute:
    key: str  # $connect, $disconnect, $default or an action name
    function: str
    # The function's answer body goes back to the client (API Gateway route response)
    returns_response: bool = False


CONNECT_FUNCTION = "realtime_connect"
# The $connect route's Lambda REQUEST authorizer (AWS only: locally the WebSocket server checks tokens)
AUTHORIZER_FUNCTION = "realtime_authorizer"
MESSAGES_FUNCTION = "realtime_messages"
# API Gateway selects a route from the message's `action`
ROUTE_SELECTION = "$request.body.action"
WEBSOCKET_ROUTES: tuple[WebSocketRoute, ...] = (
    WebSocketRoute("$connect", CONNECT_FUNCTION),
    WebSocketRoute("$disconnect", "realtime_disconnect"),
    WebSocketRoute("subscribe", MESSAGES_FUNCTION, returns_response=True),
    WebSocketRoute("unsubscribe", MESSAGES_FUNCTION, returns_response=True),
    WebSocketRoute("ping", MESSAGES_FUNCTION, returns_response=True),
    WebSocketRoute("$default", MESSAGES_FUNCTION, returns_response=True),  # an unknown action: error frame
)
# Functions that post to connections (execute-api:ManageConnections, REALTIME_MANAGEMENT_URL)
POSTING_FUNCTIONS = (MESSAGES_FUNCTION, "realtime_broadcaster")
MANAGEMENT_URL_ENV = "REALTIME_MANAGEMENT_URL"
# Query-string parameters $connect accepts (the API key one is checked by the function itself)
TOKEN_PARAMETER = "token"  # noqa: S105 (a parameter name, not a secret)
API_KEY_PARAMETER = "api_key"
# The attribute the outbox relay sets on an event item it hands to the broadcaster: the watched keys it
# found, read after the item was written (bookinghub/bookings/dal/logs.py REALTIME_WATCHED)
WATCHED_MARK = "rtw"


def tables() -> tuple[Table, ...]:
    return (
        Table(
            name="RealtimeConnections",
            env_var="REALTIME_CONNECTIONS_TABLE_NAME",
            partition_key="PK",  # CONN#{id} (the caller's scope) and SUB#{filter key} (the subscribers)
            sort_key="SK",
            ttl_attribute="expires_at",  # API Gateway's 2 h connection limit, plus a margin
        ),
        Table(
            name="RealtimeTimeline",
            env_var="REALTIME_TIMELINE_TABLE_NAME",
            partition_key="PK",  # TL#{shared filter key}: counter, entries by position; ID# placement records
            sort_key="SK",
            ttl_attribute="expires_at",  # the 7-day catch-up window
        ),
    )


def functions() -> tuple[Function, ...]:
    connections = ("RealtimeConnections",)
    return (
        Function(
            name=AUTHORIZER_FUNCTION,
            description="WebSocket $connect authorizer: an operator's ID token checked against the user pool",
            timeout_seconds=10,
        ),
        Function(
            name=CONNECT_FUNCTION,
            description="WebSocket $connect: admin token (verified by the authorizer) or website API key",
            timeout_seconds=10,
            access=Access(read_tables=("Bookings", *connections), write_tables=connections),
        ),
        Function(
            name="realtime_disconnect",
            description="WebSocket $disconnect: forgets the connection and its subscriptions",
            timeout_seconds=10,
            access=Access(read_tables=connections, write_tables=connections),
        ),
        Function(
            name=MESSAGES_FUNCTION,
            description="WebSocket subscribe/unsubscribe/ping: tenancy-checked filters, replay from the timeline",
            # API Gateway gives a route 29 s; a replay is capped well inside it (MAX_REPLAY)
            timeout_seconds=29,
            access=Access(
                read_tables=("Bookings", "RealtimeTimeline", *connections),
                write_tables=connections,
            ),
        ),
        Function(
            name="realtime_broadcaster",
            description="Booking domain events (outbox stream) -> timeline -> matching WebSocket connections",
            timeout_seconds=60,
            # Only what it has to act on: an event item written on its own, to number (the PMS outbox,
            # conflict events, a test webhook: no `relayed`), or one the relay marked as watched (a
            # change nobody watches never invokes it). The marked item's first marking only: a later
            # update of it is no new event.
            stream=StreamTrigger(
                table="Bookings",
                sk_prefixes=("EVENT#",),
                batch_size=50,
                matches=(
                    StreamMatch(("INSERT",), new_lacks=(("relayed", "BOOL"),)),
                    StreamMatch(("MODIFY",), new_has=((WATCHED_MARK, "S"),), old_lacks=((WATCHED_MARK, "S"),)),
                ),
            ),
            # Bookings: writes the sequence of an event item written without one (and its booking's count)
            access=Access(
                read_tables=("Bookings", "RealtimeTimeline", *connections),
                write_tables=("Bookings", "RealtimeTimeline", *connections),
            ),
        ),
        Function(
            name="realtime_timeline",
            description="A booking's real-time timeline for operators: GET /api/bookings/{booking_id}/events",
            timeout_seconds=10,
            routes=(Route("GET", "/api/bookings/{booking_id}/events", auth="cognito"),),
            # A booking's timeline is its event items (Bookings): nothing of it is in RealtimeTimeline
            access=Access(read_tables=("Bookings",)),
        ),
    )


TABLES: tuple[Table, ...] = tables()
FUNCTIONS: tuple[Function, ...] = functions()
