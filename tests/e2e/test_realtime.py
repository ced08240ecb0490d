"""Real-time booking events end to end: the local hub (in this process, free loopback ports), its
WebSocket server and management endpoint, and real WebSocket clients.

Bookings change through POST /api/bookings/sync; the outbox stream feeds the broadcaster, which posts
through the management API exactly as on AWS (the local server answers 410 for a gone connection).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from clients.realtime_client import RealtimeClient
from infra.local.runtime import LocalRuntime, RuntimeConfig
from infra.local.sandboxes import SANDBOXES

SEED = Path(__file__).resolve().parents[2] / "events" / "sync_bookings" / "seed_booking_created.body.json"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    from infra.local import auth

    patch = pytest.MonkeyPatch()
    patch.setenv(auth.KEY_ENV, str(tmp_path_factory.mktemp("jwt") / "local-jwt-key.pem"))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    ports = {sandbox.name: 0 for sandbox in SANDBOXES}
    config = RuntimeConfig(port=0, aws_port=0, sandbox_ports=ports, ws_port=0, ws_management_port=0)
    with LocalRuntime(config) as running:
        yield running
    patch.undo()


def api_key(hub: LocalRuntime, website: str = "test-website") -> str:
    return next(site.api_key for site in hub.websites if site.id == website)


def sync(hub: LocalRuntime, source_id: str, website: str = "test-website", **changes: Any) -> str:
    body = {**json.loads(SEED.read_text()), "source_booking_id": source_id, **changes}
    if changes:  # a change of an existing booking
        body = {"event": "booking.updated", "source_booking_id": source_id, **changes}
    request = urllib.request.Request(
        f"{hub.gateway_url}/api/bookings/sync",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-API-Key": api_key(hub, website)},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["booking_id"])


@contextmanager
def subscribe(hub: LocalRuntime, query: str, wanted: dict[str, str]) -> Iterator[ClientConnection]:
    with connect(f"{hub.websocket_url}/?{query}", open_timeout=30) as socket:
        socket.send(json.dumps({"action": "subscribe", "filter": wanted}))
        ack = json.loads(socket.recv(timeout=30))
        assert ack["type"] == "ack", ack
        yield socket


def next_event(socket: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    while True:
        frame = json.loads(socket.recv(timeout=timeout))
        if frame["type"] in ("event", "event_ref"):
            return frame


def wait_for(predicate: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_an_event_arrives_within_a_second_of_the_sync(hub: LocalRuntime) -> None:
    with subscribe(hub, f"api_key={api_key(hub)}", {"website_id": "test-website"}) as socket:
        sync(hub, "live-warm-up")
        assert next_event(socket)["event_type"] == "booking.created"
        latencies = []
        for n in range(3):
            started = time.monotonic()
            booking = sync(hub, f"live-{n}")
            frame = next_event(socket)
            latencies.append(time.monotonic() - started)
            assert (frame["booking_id"], frame["sequence"], frame["event_type"]) == (booking, 1, "booking.created")
            assert frame["data"]["customer_email"] == "john@example.com"
        assert sorted(latencies)[1] < 1.0, latencies  # the median of three
        socket.send(json.dumps({"action": "ping"}))
        assert json.loads(socket.recv(timeout=10))["type"] == "pong"


def test_operator_token_and_refusals(hub: LocalRuntime) -> None:
    from websockets.exceptions import InvalidStatus

    from infra.local.auth import issue_token

    token = issue_token(role="staff", websites=["test-website"])
    with subscribe(hub, f"token={token}", {"provider_id": "demo-org"}) as socket:
        other = sync(hub, "tenancy-other", website="hanuman-world")
        mine = sync(hub, "tenancy-mine")
        assert next_event(socket)["booking_id"] == mine  # the other website's booking never reaches staff
        socket.send(json.dumps({"action": "subscribe", "filter": {"booking_id": other}}))
        refused = json.loads(socket.recv(timeout=10))
        assert (refused["type"], refused["code"]) == ("error", "SUBSCRIPTION_REFUSED")
    expired = issue_token(role="admin", ttl_seconds=1, now=1)
    for query in ("", "token=not-a-jwt", "api_key=wrong", f"token={expired}"):
        with pytest.raises(InvalidStatus) as raised, connect(f"{hub.websocket_url}/?{query}", open_timeout=30):
            pass
        assert raised.value.response.status_code == 401, query


def test_a_gone_connection_is_cleaned_up(hub: LocalRuntime) -> None:
    """A connection whose $disconnect never ran: the first post answers 410 and the hub forgets it."""
    from bookinghub.realtime.dal import connections
    from bookinghub.realtime.logic.scope import Scope

    stale = "staleConnection="
    scope = Scope.of_website("test-website", "demo-org")
    connections.put_connection(stale, scope)
    connections.add_subscription(stale, "website_id:test-website", scope, state="live")
    with subscribe(hub, f"api_key={api_key(hub)}", {"website_id": "test-website"}) as socket:
        sync(hub, "gone-1")
        next_event(socket)  # the live subscriber still gets it
        wait_for(lambda: connections.get_connection(stale) is None)
        assert stale not in {s.connection_id for s in connections.subscribers("website_id:test-website")}


def test_a_reconnecting_client_receives_every_missed_event_once_in_order(hub: LocalRuntime, tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []
    cursor_file = tmp_path / "cursors.json"

    def run_client(stop: threading.Event) -> threading.Thread:
        client = RealtimeClient(
            hub.websocket_url,
            [{"website_id": "test-website"}],
            api_key=api_key(hub),
            on_event=received.append,
            cursor_file=cursor_file,
        )

        def _run() -> None:
            async def _main() -> None:
                done = asyncio.Event()
                task = asyncio.create_task(client.run(done))
                while not stop.is_set():
                    await asyncio.sleep(0.05)
                done.set()
                await task

            asyncio.run(_main())

        thread = threading.Thread(target=_run)
        thread.start()
        return thread

    stop = threading.Event()
    thread = run_client(stop)
    first = sync(hub, "burst-0")
    wait_for(lambda: any(e["booking_id"] == first for e in received))
    stop.set()
    thread.join(timeout=30)
    seen_before = len(received)
    # The client is away: a burst over three bookings
    bookings = [first, sync(hub, "burst-1"), sync(hub, "burst-2")]
    for round_number in range(4):
        for n, source in enumerate(("burst-0", "burst-1", "burst-2")):
            sync(hub, source, guest_count=2 + round_number, updated_at=f"2026-02-21T10:0{round_number}:0{n}Z")
    stop = threading.Event()
    thread = run_client(stop)
    try:
        expected = 5 * len(bookings) - 1  # created + 4 updates each; burst-0's creation was seen before
        wait_for(lambda: len(received) - seen_before >= expected, timeout=30)
        live = sync(hub, "burst-3")  # and then live again
        wait_for(lambda: any(e["booking_id"] == live for e in received))
    finally:
        stop.set()
        thread.join(timeout=30)
    ids = [e["id"] for e in received]
    assert len(ids) == len(set(ids))  # exactly once
    for booking in bookings:
        assert [e["sequence"] for e in received if e["booking_id"] == booking] == [1, 2, 3, 4, 5]


def test_two_hundred_subscribers_all_receive_an_event(hub: LocalRuntime) -> None:
    from websockets.asyncio.client import connect as connect_async

    count = 200

    async def _main() -> list[float]:
        sockets = []
        for _ in range(count):
            socket = await connect_async(f"{hub.websocket_url}/?api_key={api_key(hub)}", open_timeout=60)
            await socket.send(json.dumps({"action": "subscribe", "filter": {"website_id": "test-website"}}))
            assert json.loads(await socket.recv())["type"] == "ack"
            sockets.append(socket)
        started = time.monotonic()
        booking = await asyncio.to_thread(sync, hub, "fan-out")

        async def _receive(socket: Any) -> float:
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=60))
                if frame.get("booking_id") == booking:
                    return time.monotonic() - started

        latencies = await asyncio.gather(*(_receive(s) for s in sockets))
        await asyncio.gather(*(s.close() for s in sockets))
        return list(latencies)

    latencies = asyncio.run(_main())
    assert len(latencies) == count
    wait_for(lambda: hub._websocket is not None and hub._websocket.connection_count() == 0, timeout=60)


def test_idle_connections_close_as_on_api_gateway_and_pings_keep_them_open(hub: LocalRuntime) -> None:
    from websockets.exceptions import ConnectionClosed

    assert hub._websocket is not None
    limits = hub._websocket.limits
    saved = limits.idle_seconds
    limits.idle_seconds = 1.0  # API Gateway's is 10 minutes
    try:
        with connect(f"{hub.websocket_url}/?api_key={api_key(hub)}", open_timeout=30) as idle:
            with pytest.raises(ConnectionClosed) as closed:
                idle.recv(timeout=10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1001
        with connect(f"{hub.websocket_url}/?api_key={api_key(hub)}", open_timeout=30) as busy:
            for _ in range(4):
                time.sleep(0.5)
                busy.send(json.dumps({"action": "ping"}))
                assert json.loads(busy.recv(timeout=10))["type"] == "pong"
    finally:
        limits.idle_seconds = saved


def test_management_endpoint_speaks_the_api_gateway_shape(hub: LocalRuntime) -> None:
    import boto3

    assert hub._websocket is not None
    api = boto3.client(
        "apigatewaymanagementapi", endpoint_url=f"http://127.0.0.1:{hub._websocket.management_port}/local"
    )
    with connect(f"{hub.websocket_url}/?api_key={api_key(hub)}", open_timeout=30) as socket:
        wait_for(lambda: hub._websocket is not None and hub._websocket.connection_count() >= 1)
        (connection_id,) = list(hub._websocket._connections)  # the only one open now
        described = api.get_connection(ConnectionId=connection_id)
        assert described["Identity"]["SourceIp"] == "127.0.0.1"
        assert described["ConnectedAt"] <= described["LastActiveAt"]
        api.post_to_connection(ConnectionId=connection_id, Data=b'{"hello":1}')
        assert json.loads(socket.recv(timeout=10)) == {"hello": 1}
        with pytest.raises(api.exceptions.PayloadTooLargeException):
            api.post_to_connection(ConnectionId=connection_id, Data=b"x" * (129 * 1024))
        api.delete_connection(ConnectionId=connection_id)
        wait_for(lambda: hub._websocket is not None and hub._websocket.connection_count() == 0)
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId=connection_id, Data=b"{}")
