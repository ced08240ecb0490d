"""Real-time fan-out benchmark: N WebSocket subscribers on loopback, a booking change, how long until
each of them has it. Prints figures; asserts nothing.

The whole local hub runs in this process (moto, gateway, stream pollers, the WebSocket server and its
management endpoint), as under `make run`: a change goes POST /api/bookings/sync -> outbox -> stream ->
broadcaster -> one post_to_connection per subscriber -> the client. Latency is from the sync request
being sent to each subscriber's receipt; the 1st event warms everything up and is not counted.

Run: .venv/bin/python bench/realtime.py --subscribers 200 --events 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]
SEED = ROOT / "events" / "sync_bookings" / "seed_booking_created.body.json"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def post_sync(gateway: str, api_key: str, source_id: str) -> None:
    body = {**json.loads(SEED.read_text()), "source_booking_id": source_id}
    request = urllib.request.Request(  # noqa: S310 - the local gateway's http URL
        f"{gateway}/api/bookings/sync",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-API-Key": api_key},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
        response.read()


async def run(ws_url: str, gateway: str, api_key: str, subscribers: int, events: int) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    started = time.monotonic()
    sockets = []
    for _ in range(subscribers):
        socket = await connect(f"{ws_url}/?api_key={api_key}", open_timeout=60, ping_interval=None)
        await socket.send(json.dumps({"action": "subscribe", "filter": {"website_id": "test-website"}}))
        json.loads(await socket.recv())  # the ack
        sockets.append(socket)
    connect_seconds = time.monotonic() - started
    latencies: list[float] = []
    last_arrivals: list[float] = []
    for n in range(events + 1):
        sent = time.monotonic()
        await asyncio.to_thread(post_sync, gateway, api_key, f"bench-{n}")

        async def receive(socket: Any, sent: float = sent) -> float:
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=120))
                if frame.get("type") == "event":
                    return time.monotonic() - sent

        arrivals = await asyncio.gather(*(receive(s) for s in sockets))
        if n:  # the first event warms up imports, clients and moto
            latencies.extend(arrivals)
            last_arrivals.append(max(arrivals))
    await asyncio.gather(*(s.close() for s in sockets))
    return {"connect_seconds": connect_seconds, "latencies": latencies, "last": last_arrivals}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--events", type=int, default=5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from infra.local.runtime import LocalRuntime, RuntimeConfig
    from infra.local.sandboxes import SANDBOXES

    ports = {sandbox.name: 0 for sandbox in SANDBOXES}
    config = RuntimeConfig(port=0, aws_port=0, sandbox_ports=ports, ws_port=0, ws_management_port=0)
    with LocalRuntime(config) as hub:
        api_key = next(site.api_key for site in hub.websites if site.id == "test-website")
        figures = asyncio.run(run(hub.websocket_url, hub.gateway_url, api_key, args.subscribers, args.events))
    latencies = figures["latencies"]
    print(f"subscribers {args.subscribers}, events {args.events} (after one warm-up)")
    print(f"connect + subscribe, all subscribers   {figures['connect_seconds']:.2f} s")
    p50, p95 = (percentile(latencies, share) * 1000 for share in (0.5, 0.95))
    print(f"fan-out latency  p50 {p50:.0f} ms   p95 {p95:.0f} ms")
    print(f"last subscriber served, per event     median {statistics.median(figures['last']) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
