"""The local stack's allocator settings (infra/local/allocator.py): glibc's free memory goes back to the
system on trim, a developer's MALLOC_ARENA_MAX wins, and the housekeeping pass trims."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.local import allocator
from infra.local.housekeeping import Housekeeping

glibc = pytest.mark.skipif(allocator._libc() is None, reason="glibc's mallopt/malloc_trim only")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    pytest.skip("no /proc/self/status")


@glibc
def test_trim_hands_freed_heap_memory_back() -> None:
    # 64 KB blocks: under glibc's mmap threshold, so they live in the heap; the last block pins the heap's
    # top, so free() alone cannot shrink it and the freed blocks stay resident until a trim
    blocks = [bytearray(64 * 1024) for _ in range(640)]  # 40 MB, touched (zero-filled)
    pin = bytearray(64 * 1024)
    del blocks
    before = _rss_mb()
    assert allocator.trim() is True
    assert before - _rss_mb() > 20  # most of the 40 MB
    del pin


@glibc
def test_a_developers_arena_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert allocator.limit_arenas() is False
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert allocator.limit_arenas() is True


def test_without_glibc_both_say_they_did_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator, "_libc", lambda: None)
    assert allocator.limit_arenas() is False
    assert allocator.trim() is False


def test_each_housekeeping_pass_trims(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models import dynamodb_backends

    trims: list[bool] = []

    def trim() -> bool:
        trims.append(True)
        return True

    monkeypatch.setattr(allocator, "trim", trim)
    dynamodb_backends["123456789012"]["us-east-1"]  # a backend without tables: nothing to trim or expire
    assert Housekeeping(account_id="123456789012", region="us-east-1", pollers=[]).run_once() == (0, 0)
    assert trims == [True]
