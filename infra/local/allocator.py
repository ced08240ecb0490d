"""The local stack's C allocator: few arenas, and freed memory handed back to the system.

The local stack is one long-lived, many-threaded process (the moto server and the gateway answer each
connection on a thread of its own, plus the queue workers and pollers). glibc gives threads their own
malloc arenas (up to 8 per core), and memory freed in an arena stays with the process until the top of
that arena is free: the resident size grows with the churn of requests (parsed JSON, moto's responses,
copies of items), not only with what is kept. Two settings cut that, without changing what is stored:

- `limit_arenas()`, at startup before the threads: at most ARENAS arenas (glibc's M_ARENA_MAX, the
  MALLOC_ARENA_MAX environment variable); a MALLOC_ARENA_MAX the developer set wins;
- `trim()`, from the housekeeping loop: glibc's malloc_trim(0) returns the free pages of every arena.

Elsewhere than glibc (macOS, musl) both do nothing and say so (False).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

ARENAS = 2  # the moto server and the functions contend little: the hub serializes invocations
_M_ARENA_MAX = -8  # glibc's malloc.h


@functools.cache
def _libc() -> Any | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018  (glibc's names: absent from other C libraries)
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(count: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas for the threads made from now on; True if set (not overridden)."""
    libc = _libc()
    if libc is None or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, count))


def trim() -> bool:
    """Return the allocator's free memory to the system; True if glibc released any."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
