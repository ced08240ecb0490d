"""Real-time booking events: a small WebSocket client (see docs/realtime.md).

Connects with a website API key or an operator token, subscribes to its filters, prints every event as
a JSON line, pings so API Gateway never closes it as idle (10 min), and reconnects with jittered
exponential backoff when the connection drops (API Gateway ends every connection after 2 h). It keeps
the last event id of each subscription (in memory and, with --cursor-file, on disk) and resumes from it
(`since`), so a restart misses nothing within the hub's 7-day window and sees nothing twice.

    python -m clients.realtime_client --url ws://127.0.0.1:3001 --api-key test_sk_xxxxx --website test-website
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

log = logging.getLogger("realtime_client")
FILTER_FIELDS = ("booking_id", "website_id", "user_id", "provider_id")


class Refused(Exception):
    """The hub refused the connection (401/403): retrying would not help."""


def filter_key(wanted: dict[str, str]) -> str:
    ((name, value),) = wanted.items()
    return f"{name}:{value.strip().lower() if name == 'user_id' else value.strip()}"


class RealtimeClient:
    def __init__(
        self,
        url: str,
        filters: Sequence[dict[str, str]],
        *,
        api_key: str | None = None,
        token: str | None = None,
        on_event: Callable[[dict[str, Any]], None] = lambda frame: print(json.dumps(frame), flush=True),
        cursor_file: Path | None = None,
        ping_seconds: float = 300.0,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        if not (api_key or token):
            raise ValueError("an API key or a token is needed")
        query = {"api_key": api_key} if api_key else {"token": token}
        self.url = f"{url.rstrip('/')}/?{urlencode(query)}"
        self.filters = list(filters)
        self.on_event = on_event
        self.cursor_file = cursor_file
        self.ping_seconds = ping_seconds
        self.max_backoff = max_backoff_seconds
        self.cursors: dict[str, str] = self._load_cursors()
        self.connections = 0  # how many times it connected (tests, logs)
        self.errors: list[dict[str, Any]] = []  # error frames received
        self.subscribed = asyncio.Event()

    # --- cursors ------------------------------------------------------------------------------------------

    def _load_cursors(self) -> dict[str, str]:
        if self.cursor_file and self.cursor_file.exists():
            return {str(k): str(v) for k, v in json.loads(self.cursor_file.read_text()).items()}
        return {}

    def _save_cursors(self) -> None:
        if self.cursor_file:
            self.cursor_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.cursor_file.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.cursors))
            os.replace(temporary, self.cursor_file)  # a crash never leaves half a file

    # --- connection loop ------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Stay connected until `stop` is set (or forever); raises Refused on 401/403."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidStatus

        stop = stop or asyncio.Event()
        failures = 0
        while not stop.is_set():
            try:
                async with connect(self.url, ping_interval=None, max_size=256 * 1024) as socket:
                    self.connections += 1
                    failures = 0
                    await self._session(socket, stop)
            except InvalidStatus as error:
                if error.response.status_code in (401, 403):
                    raise Refused(f"the hub refused the connection: HTTP {error.response.status_code}") from None
                failures += 1
            except (TimeoutError, OSError) as error:
                log.info("connection failed: %s", error)
                failures += 1
            except Exception as error:  # a dropped connection of any kind: reconnect
                log.info("connection lost: %s", error)
                failures += 1
            if stop.is_set():
                return
            self.subscribed.clear()
            delay = random.uniform(0, min(self.max_backoff, 0.5 * 2 ** min(failures, 10)))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)

    async def _session(self, socket: Any, stop: asyncio.Event) -> None:
        for wanted in self.filters:
            message: dict[str, Any] = {"action": "subscribe", "filter": wanted}
            since = self.cursors.get(filter_key(wanted))
            if since:
                message["since"] = since
            await socket.send(json.dumps(message))
        pinger = asyncio.create_task(self._ping(socket))
        stopper = asyncio.create_task(stop.wait())
        acked: set[str] = set()
        receive: asyncio.Task[Any] | None = None
        try:
            while True:
                receive = asyncio.create_task(socket.recv())
                done, _ = await asyncio.wait({receive, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if stopper in done:
                    await socket.close()
                    return
                self._frame(json.loads(receive.result()), acked)
        finally:
            for task in (pinger, stopper, receive):
                if task is not None and not task.done():
                    task.cancel()
            # Ctrl-C or a dropped connection: collect what the tasks ended with, so none is reported unread
            await asyncio.gather(*(t for t in (pinger, stopper, receive) if t is not None), return_exceptions=True)

    def _frame(self, frame: dict[str, Any], acked: set[str]) -> None:
        kind, key = frame.get("type"), frame.get("subscription")
        if kind == "ack" and key:
            acked.add(key)
            if frame.get("cursor") and key not in self.cursors:
                self.cursors[key] = frame["cursor"]  # where to resume even if nothing arrives before a drop
                self._save_cursors()
            if len(acked) == len(self.filters):
                self.subscribed.set()
        elif kind in ("event", "event_ref") and key:
            last = self.cursors.get(key)
            if last is not None and frame["id"] <= last:
                return  # already seen (a redelivery): each event is handed over once
            self.cursors[key] = frame["id"]
            self._save_cursors()
            self.on_event(frame)
        elif kind == "error":
            self.errors.append(frame)
            log.warning("hub error: %s %s", frame.get("code"), frame.get("message"))

    async def _ping(self, socket: Any) -> None:
        while True:
            await asyncio.sleep(self.ping_seconds)
            await socket.send(json.dumps({"action": "ping"}))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m clients.realtime_client", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("HUB_WS_URL", "ws://127.0.0.1:3001"))
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--api-key", help="a website's API key")
    who.add_argument("--token", help="an operator's ID token (locally: bookinghub token --role admin)")
    for name in FILTER_FIELDS:
        flag = name.removesuffix("_id")
        parser.add_argument(f"--{flag}", dest=name, action="append", default=[], help=f"subscribe to a {name}")
    parser.add_argument("--cursor-file", type=Path, default=Path(".hub/realtime-cursors.json"))
    parser.add_argument("--ping-seconds", type=float, default=300.0)
    args = parser.parse_args(argv)
    args.filters = [{name: value} for name in FILTER_FIELDS for value in getattr(args, name)]
    if not args.filters:
        parser.error("name at least one filter: --booking, --website, --user or --provider")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    client = RealtimeClient(
        args.url,
        args.filters,
        api_key=args.api_key,
        token=args.token,
        cursor_file=args.cursor_file,
        ping_seconds=args.ping_seconds,
    )
    try:
        asyncio.run(client.run())
    except Refused as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
