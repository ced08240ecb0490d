"""The WebSocket API's declaration: real functions, the routes the protocol needs, tables with TTL."""

from __future__ import annotations

from infra import topology
from infra.topology import realtime as topology_realtime


def test_routes_name_declared_functions_and_cover_the_protocol() -> None:
    names = {fn.name for fn in topology.FUNCTIONS}
    assert {route.function for route in topology_realtime.WEBSOCKET_ROUTES} <= names
    assert {route.key for route in topology_realtime.WEBSOCKET_ROUTES} == {
        "$connect",
        "$disconnect",
        "$default",
        "subscribe",
        "unsubscribe",
        "ping",
    }
    assert set(topology_realtime.POSTING_FUNCTIONS) <= names


def test_tables_expire_their_items_and_the_broadcaster_reads_the_outbox_stream() -> None:
    for name in ("RealtimeConnections", "RealtimeTimeline"):
        assert topology.table(name).ttl_attribute == "expires_at"
    broadcaster = topology.function("realtime_broadcaster")
    assert broadcaster.stream is not None
    assert broadcaster.stream.sk_prefixes == ("EVENT#",)
    # The relay's mark for it is the attribute its filter looks for
    from bookinghub.bookings.dal.logs import REALTIME_WATCHED

    assert topology_realtime.WATCHED_MARK == REALTIME_WATCHED
    assert any((REALTIME_WATCHED, "S") in match.new_has for match in broadcaster.stream.matches)
    relay = topology.function("outbox_relay")
    assert relay.stream is not None
    assert relay.stream.table == broadcaster.stream.table
    readers = [fn.name for fn in topology.FUNCTIONS if fn.stream and fn.stream.table == "Bookings"]
    assert len(readers) <= 2  # DynamoDB Streams throttles a shard read by more than two consumers
