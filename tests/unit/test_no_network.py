"""The unit suite's socket guard (tests/unit/conftest.py) holds, for loopback too."""

from __future__ import annotations

import socket

import pytest
import requests

from tests.unit.conftest import NetworkBlocked


def test_a_socket_cannot_connect_even_to_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(NetworkBlocked, match=r"127\.0\.0\.1"):
            sock.connect(("127.0.0.1", 9))
        with pytest.raises(NetworkBlocked):
            sock.connect_ex(("127.0.0.1", 9))


def test_create_connection_is_refused() -> None:
    with pytest.raises(NetworkBlocked, match="localhost"):
        socket.create_connection(("localhost", 80), timeout=1)


def test_a_real_http_client_is_refused_before_any_byte_leaves() -> None:
    # requests/urllib3 connect with their own helper, which ends in socket.connect
    with pytest.raises(NetworkBlocked):
        requests.get("http://127.0.0.1:9/", timeout=1)
