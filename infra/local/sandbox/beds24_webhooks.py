"""The Beds24 sandbox's webhook dispatcher: sends Beds24's booking webhooks from a background thread, so
the API call that caused one never waits for the receiver, with retries, recording every attempt."""

from __future__ import annotations

import json
import queue
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from infra.local.sandbox.beds24_data import MAX_RECORDS

WEBHOOK_ATTEMPTS = 3  # the first try and two retries
WEBHOOK_RETRY_DELAY_SECONDS = 1.0  # times the attempt number
WEBHOOK_TIMEOUT_SECONDS = 5.0


class WebhookSender(Protocol):
    """What sends one webhook; `requests.post` by default. Returns something with `status_code`."""

    def __call__(self, url: str, *, data: bytes, headers: dict[str, str], timeout: float) -> Any: ...


def _post(url: str, *, data: bytes, headers: dict[str, str], timeout: float) -> Any:
    return requests.post(url, data=data, headers=headers, timeout=timeout)


@dataclass
class _Delivery:
    url: str
    headers: dict[str, str]
    event: str  # created, modified, cancelled, deleted
    payload: dict[str, Any]


class WebhookDispatcher:
    """Sends webhooks from one background thread, so the API call that caused one never waits for the
    receiver; retries failures; records every attempt."""

    def __init__(self, sender: WebhookSender | None) -> None:
        self.sender: WebhookSender = sender or _post
        self.retry_delay = WEBHOOK_RETRY_DELAY_SECONDS  # tests set 0
        self._queue: queue.Queue[_Delivery | None] = queue.Queue()
        self._idle = threading.Condition()  # guards _pending, _records and _thread
        self._pending = 0
        self._records: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDS)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def enqueue(self, url: str, headers: dict[str, str], event: str, payload: dict[str, Any]) -> None:
        with self._idle:
            if self._stopping.is_set():
                return
            if self._thread is None:  # started on first use: an app that never sends holds no thread
                self._thread = threading.Thread(target=self._run, name="beds24-sandbox-webhooks", daemon=True)
                self._thread.start()
            self._pending += 1
        self._queue.put(_Delivery(url, headers, event, payload))

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def records(self) -> list[dict[str, Any]]:
        with self._idle:
            return list(self._records)

    def clear(self) -> None:
        with self._idle:
            self._records.clear()

    def stop(self) -> None:
        self._stopping.set()
        self._queue.put(None)
        with self._idle:
            thread = self._thread
        if thread is not None:
            thread.join(timeout=WEBHOOK_TIMEOUT_SECONDS + 1)

    def _run(self) -> None:
        while (delivery := self._queue.get()) is not None and not self._stopping.is_set():
            try:
                self._deliver(delivery)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
        with self._idle:  # whatever was still queued is dropped on stop
            self._pending = 0
            self._idle.notify_all()

    def _deliver(self, delivery: _Delivery) -> None:
        headers = {"Content-Type": "application/json", **delivery.headers}
        for attempt in range(1, WEBHOOK_ATTEMPTS + 1):
            payload = {**delivery.payload, "retries": attempt - 1}
            status: int | None = None
            problem: str | None = None
            try:
                response = self.sender(delivery.url, data=json.dumps(payload).encode(), headers=headers,
                                       timeout=WEBHOOK_TIMEOUT_SECONDS)  # fmt: skip
                status = int(response.status_code)
            except Exception as exc:  # any failure of the receiver is recorded and retried, never raised
                problem = f"{type(exc).__name__}: {exc}"
            with self._idle:
                self._records.append({"url": delivery.url, "event": delivery.event,
                                      "bookingId": payload["booking"]["id"], "attempt": attempt, "status": status,
                                      "error": problem, "payload": payload})  # fmt: skip
            if status is not None and 200 <= status < 300:
                return
            if attempt < WEBHOOK_ATTEMPTS and self._stopping.wait(self.retry_delay * attempt):
                return
