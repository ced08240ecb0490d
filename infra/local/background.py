"""The daemon-thread lifecycle shared by the local event sources (queue workers, stream pollers, schedules)."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod


class BackgroundLoop(ABC):
    """Runs `_run` in a daemon thread; `_run` loops until the stop event is set.

    The runtime hands every loop one shared stop event, so one `set()` stops them all.
    """

    def __init__(self, thread_name: str, stop: threading.Event | None) -> None:
        self._stop = stop or threading.Event()
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    @abstractmethod
    def _run(self) -> None:
        """One loop's work, until the stop event is set (each source defines its own)."""
