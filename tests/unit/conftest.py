"""Unit tests run without a network: no socket may connect anywhere, loopback included.

What needs a server (moto, the local stack, a sandbox over real HTTP) belongs in tests/integration or
tests/e2e; here a stray connection fails the test at once, naming the address, instead of slowing it
down or reaching something real.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest


class NetworkBlocked(RuntimeError):
    """A unit test tried to connect a socket (not an OSError: no retry logic may swallow it)."""


def _refuse(*args: Any, **kwargs: Any) -> Any:
    address = next((a for a in args if isinstance(a, tuple | str | bytes)), kwargs.get("address"))
    raise NetworkBlocked(f"unit tests cannot open connections (to {address!r}): use tests/integration or tests/e2e")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
