"""The Beds24 sandbox (infra/local/sandbox/beds24.py) as the tests drive it: bookings changed through its v2
API the way a Beds24 user changes them, its webhooks captured (never sent anywhere), its calls and credits.

The sandbox's clock is the real clock plus an offset that every change through `Sandbox` moves one second
forward, so consecutive changes get distinct Beds24 modification times without sleeping. A test delivers
the captured webhooks to the hub when, in what order and how often it likes.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from infra.local.sandbox.beds24 import DEMO_REFRESH_TOKEN, Beds24Sandbox

TODAY = date.today()


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


class Clock:
    """The sandbox's clock: real time plus an offset the tests move forward."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen: float | None = None

    def __call__(self) -> float:
        return (time.time() if self.frozen is None else self.frozen) + self.offset

    def freeze(self) -> None:
        """Real time stops at the start of a second (only `advance` moves the clock): what happens next
        happens within one Beds24 second, however loaded the machine."""
        self.frozen = float(int(time.time()))

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass(frozen=True)
class Sent:
    """One webhook the sandbox sent (captured, not delivered)."""

    url: str
    body: bytes
    headers: dict[str, str]

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    @property
    def booking_id(self) -> int:
        return int(self.payload["booking"]["id"])

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query))


class CapturingSender:
    """The sandbox's webhook sender: records each webhook and answers 200."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self._lock = threading.Lock()

    def __call__(self, url: str, *, data: bytes, headers: dict[str, str], timeout: float) -> Any:
        with self._lock:
            self.sent.append(Sent(url, data, dict(headers)))
        return SimpleNamespace(status_code=200)


@dataclass
class Sandbox:
    app: Beds24Sandbox
    base_url: str
    clock: Clock
    sender: CapturingSender
    _token: str | None = field(default=None, repr=False)

    @property
    def api(self) -> str:
        return f"{self.base_url}/v2"

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            answer = requests.get(
                f"{self.api}/authentication/token", headers={"refreshToken": DEMO_REFRESH_TOKEN}, timeout=5
            )
            answer.raise_for_status()
            self._token = str(answer.json()["token"])
        return {"token": self._token}

    # Changes as a Beds24 user makes them (each sends a webhook, captured)

    def create(self, **fields: Any) -> int:
        """A new booking (room 501, in 10 days, Anna Lee unless told otherwise); returns its Beds24 id."""
        element = {
            "roomId": 501,
            "arrival": day(10),
            "departure": day(13),
            "numAdult": 2,
            "firstName": "Anna",
            "lastName": "Lee",
            "email": "anna.lee@example.com",
            "country2": "AU",
            "price": 10500,
            **fields,
        }
        (result,) = self._post([element])
        assert result["success"], result
        return int(result["new"]["id"])

    def modify(self, booking_id: int, *, same_second: bool = False, **fields: Any) -> None:
        """`same_second`: the clock is not moved on (the change may share the last one's modifiedTime)."""
        (result,) = self._post([{"id": booking_id, **fields}], advance=not same_second)
        assert result["success"], result

    def cancel(self, booking_id: int) -> None:
        self.modify(booking_id, status="cancelled")

    def delete(self, booking_id: int) -> None:
        self.clock.advance(1)
        answer = requests.delete(f"{self.api}/bookings", params={"id": booking_id}, headers=self._headers(), timeout=5)
        assert answer.status_code == 201, answer.text
        assert answer.json()[0]["success"], answer.text

    def _post(self, elements: list[dict[str, Any]], *, advance: bool = True) -> list[dict[str, Any]]:
        if advance:
            self.clock.advance(1)  # a distinct modifiedTime for every change
        answer = requests.post(f"{self.api}/bookings", json=elements, headers=self._headers(), timeout=5)
        assert answer.status_code == 201, answer.text
        return list(answer.json())

    def booking(self, booking_id: int) -> dict[str, Any]:
        """What the sandbox holds now (rendered as GET answers it)."""
        with self.app.lock:
            return {**self.app._render(self.app.bookings[booking_id])}

    # Webhooks and calls

    def webhooks(self, booking_id: int | None = None) -> list[Sent]:
        """Captured webhooks, oldest first (waits until the sandbox has sent what it queued)."""
        assert self.app.wait_for_webhooks(5), "the sandbox did not send its webhooks"
        return [s for s in self.sender.sent if booking_id is None or s.booking_id == booking_id]

    def control(self, **command: Any) -> None:
        requests.post(f"{self.base_url}/_control", json=command, timeout=5).raise_for_status()

    def credits(self, *, remaining: int, resets_in: int, limit: int = 100) -> None:
        self.control(credits={"limit": limit, "remaining": remaining, "resets_in": resets_in})

    def calls(self, path: str | None = "/v2/bookings", method: str | None = "GET") -> list[dict[str, Any]]:
        """API requests received, oldest first: the hub's reads of bookings unless told otherwise (None: any)."""
        answer = requests.get(f"{self.base_url}/_calls", timeout=5)
        answer.raise_for_status()
        return [
            c
            for c in answer.json()
            if (path is None or c["path"] == path) and (method is None or c["method"] == method)
        ]

    def reset_calls(self) -> None:
        requests.post(f"{self.base_url}/_control/reset-calls", timeout=5).raise_for_status()
