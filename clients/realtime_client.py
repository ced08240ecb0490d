"""Real-time booking events: a small WebSocket client (see docs/realtime.md).

Connects with a website API key or an operator token, subscribes to its filters, prints every event as
a JSON line, pings so API Gateway never closes it as idle (10 min), and reconnects with jittered
exponential backoff when the connection drops (API Gateway ends every connection after 2 h). It keeps
a cursor per subscription (in memory and, with --cursor-file, on disk): the event at the furthest
position of the subscription's order it has received, plus the ids it received in the RESUME_OVERLAP
positions before it (live frames of different bookings can arrive out of their order). It resumes with
both (`since`, `seen`), so a restart misses nothing within the hub's 7-day window and sees nothing twice.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

log = logging.getLogger("realtime_client")
FILTER_FIELDS = ("booking_id", "website_id", "user_id", "provider_id")
RESUME_OVERLAP = 64  # the hub's: how far before `since` a resume re-reads (bookinghub/realtime/models.py)


@dataclass
class Cursor:
    """Where a subscription resumes: `since` is the event at the furthest `position` received; `seen`
    the ids (with their positions) received within RESUME_OVERLAP positions before it."""

    since: str | None = None
    position: int | None = None
    seen: dict[str, int] = field(default_factory=dict)

    def has_seen(self, frame: dict[str, Any]) -> bool:
        position = frame.get("position")
        if frame["id"] in self.seen or frame["id"] == self.since:
            return True
        if position is None or self.position is None:  # a hub without positions: ids are its order
            return self.since is not None and frame["id"] <= self.since
        return int(position) <= self.position - RESUME_OVERLAP  # older than the overlap: had before

    def add(self, frame: dict[str, Any]) -> None:
        position = frame.get("position")
        if position is None:
            self.since, self.seen = frame["id"], {}
            return
        position = int(position)
        if self.position is None or position > self.position:
            if self.since is not None and self.position is not None:
                self.seen[self.since] = self.position
            self.since, self.position = frame["id"], position
        else:
            self.seen[frame["id"]] = position
        floor = self.position - RESUME_OVERLAP
        self.seen = {event_id: at for event_id, at in self.seen.items() if at > floor}

    def subscribe_fields(self) -> dict[str, Any]:
        if not self.since:
            return {}
        fields: dict[str, Any] = {"since": self.since}
        if self.position is not None:
            fields["seen"] = sorted(self.seen, key=self.seen.__getitem__)
        return fields

    def as_json(self) -> dict[str, Any]:
        return {"since": self.since, "position": self.position, "seen": self.seen}

    @classmethod
    def from_json(cls, value: Any) -> Cursor:
        if isinstance(value, str):  # a cursor file of an earlier version: the last id only
            return cls(since=value)
        return cls(value.get("since"), value.get("position"), {str(k): int(v) for k, v in value["seen"].items()})


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
        self.cursors: dict[str, Cursor] = self._load_cursors()
        self.connections = 0  # how many times it connected (tests, logs)
        self.errors: list[dict[str, Any]] = []  # error frames received
        self.subscribed = asyncio.Event()

    # --- cursors ------------------------------------------------------------------------------------------

    def _load_cursors(self) -> dict[str, Cursor]:
        if self.cursor_file and self.cursor_file.exists():
            return {str(k): Cursor.from_json(v) for k, v in json.loads(self.cursor_file.read_text()).items()}
        return {}

    def _save_cursors(self) -> None:
        if self.cursor_file:
            self.cursor_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.cursor_file.with_suffix(".tmp")
            temporary.write_text(json.dumps({key: cursor.as_json() for key, cursor in self.cursors.items()}))
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
            message.update(self.cursors.get(filter_key(wanted), Cursor()).subscribe_fields())
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
                # where to resume even if nothing arrives before a drop
                self.cursors[key] = Cursor(frame["cursor"], frame.get("position"))
                self._save_cursors()
            if len(acked) == len(self.filters):
                self.subscribed.set()
        elif kind in ("event", "event_ref") and key:
            cursor = self.cursors.setdefault(key, Cursor())
            if cursor.has_seen(frame):
                return  # already seen (a redelivery): each event is handed over once
            cursor.add(frame)
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
