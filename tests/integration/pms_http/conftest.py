"""Fixtures of the PMS adapters and Cloudbeds client tests: sandboxes served on loopback threads, a recording sleep."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.local.servers import ServerThread


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """Serve a WSGI app on a free loopback port; returns its base URL."""
    servers: list[ServerThread] = []

    def start(app: Any) -> str:
        server = ServerThread("pms-test", "127.0.0.1", 0, app)
        server.start()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield start
    for server in servers:
        server.stop()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
