"""A bounded per-environment memory of recent reads, for decisions that may lag a change by a known age.

A Lambda execution environment lives for minutes to hours and serves one request at a time, so a value
read a moment ago can answer the next request without another read, as long as the caller can accept it
being up to `max_age_seconds` old. Entries are kept in the order they were stored; past `max_entries`,
the one stored longest ago goes first. Stdlib only: nothing to import at cold start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(
        self, key: K, read: Callable[[], V], *, max_age_seconds: float, keep: Callable[[V], bool] | None = None
    ) -> V:
        """The value stored for `key` if it is younger than `max_age_seconds`, else `read()`, stored unless
        `keep` refuses it (e.g. keep only found values)."""
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and now - hit[0] < max_age_seconds:
            return hit[1]
        value = read()
        self._entries.pop(key, None)
        if keep is None or keep(value):
            while len(self._entries) >= self._max_entries:
                del self._entries[next(iter(self._entries))]  # the longest since stored
            self._entries[key] = (now, value)
        return value

    def forget(self, key: K | None = None) -> None:
        """Forget one key (this environment's own change, seen at once), or everything."""
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
