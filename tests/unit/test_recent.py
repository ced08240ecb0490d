"""core.recent.Recent: a read is reused while younger than its max age, the oldest entry goes past the
bound, refused values are not kept, and forget drops one key or all."""

from __future__ import annotations

import pytest

from bookinghub.core import recent
from bookinghub.core.recent import Recent


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(recent.time, "monotonic", lambda: now[0])
    return now


def test_a_read_is_reused_until_it_is_max_age_old(clock: list[float]) -> None:
    cache: Recent[str, int] = Recent(max_entries=4)
    reads: list[int] = []

    def read() -> int:
        reads.append(len(reads) + 1)
        return reads[-1]

    assert cache.get("a", read, max_age_seconds=30) == 1
    clock[0] += 29.9
    assert cache.get("a", read, max_age_seconds=30) == 1
    clock[0] += 0.1
    assert cache.get("a", read, max_age_seconds=30) == 2  # 30 s old: read again
    assert reads == [1, 2]


def test_past_the_bound_the_entry_stored_longest_ago_goes(clock: list[float]) -> None:
    cache: Recent[str, str] = Recent(max_entries=2)
    for key in ("a", "b", "c"):
        cache.get(key, lambda k=key: k.upper(), max_age_seconds=60)  # type: ignore[misc]
    assert len(cache) == 2
    assert cache.get("a", lambda: "again", max_age_seconds=60) == "again"  # evicted, so read
    assert cache.get("c", lambda: "not read", max_age_seconds=60) == "C"


def test_a_refused_value_is_not_kept_and_forget_drops_keys(clock: list[float]) -> None:
    cache: Recent[str, str | None] = Recent(max_entries=4)
    assert cache.get("missing", lambda: None, max_age_seconds=60, keep=lambda v: v is not None) is None
    assert cache.get("missing", lambda: "found now", max_age_seconds=60) == "found now"
    cache.get("other", lambda: "x", max_age_seconds=60)
    cache.forget("missing")
    assert cache.get("missing", lambda: "read", max_age_seconds=60) == "read"
    cache.forget()
    assert len(cache) == 0
