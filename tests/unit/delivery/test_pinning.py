"""The delivery connection is pinned to the address the SSRF check saw (no socket opens: urllib3's
create_connection is replaced by a recorder that refuses)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests

from bookinghub.delivery.adapters import http


class _Refused(OSError):
    pass


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    import urllib3.util.connection

    seen: list[Any] = []

    def record(address: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(address)
        raise _Refused("recorded, not connected")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", record)
    return seen


def test_a_rebinding_resolver_cannot_move_the_connection(
    connections: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([["93.184.216.34"], ["10.0.0.7"], ["10.0.0.7"]])  # public to the check, private after
    lookups: list[str] = []

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 443)) for a in next(answers)]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    result = http.post(
        "https://hooks.example.com/in",
        b"{}",
        {"Content-Type": "application/json"},
        timeout_seconds=1,
        allow_insecure_loopback=False,
        session=http.new_session(),
    )
    assert result.status_code is None
    assert lookups == ["hooks.example.com"]  # resolved once, by the check
    assert connections
    assert {address[0] for address in connections} == {"93.184.216.34"}


def test_the_pinned_request_keeps_the_name_for_host_sni_and_certificate() -> None:
    pinned = http.check_url(
        "https://hooks.example.com:8443/in?x=1", allow_insecure_loopback=False, resolver=lambda _: ["93.184.216.34"]
    )
    assert pinned == http.Pinned("https://93.184.216.34:8443/in?x=1", "hooks.example.com", "hooks.example.com:8443")
    v6 = http.check_url(
        "https://hooks.example.com/in", allow_insecure_loopback=False, resolver=lambda _: ["2606:2800::1"]
    )
    assert v6.url == "https://[2606:2800::1]/in"
    prepared = http.new_session().prepare_request(
        requests.Request("POST", pinned.url, headers={"Host": pinned.host_header})
    )
    prepared.pinned_hostname = pinned.hostname  # type: ignore[attr-defined]
    adapter = http.pinned_adapter_class()()
    host_params, pool_kwargs = adapter.build_connection_pool_key_attributes(prepared, True)
    assert host_params["host"] == "93.184.216.34"
    assert pool_kwargs["server_hostname"] == pool_kwargs["assert_hostname"] == "hooks.example.com"


def test_every_address_is_checked_before_one_is_pinned() -> None:
    with pytest.raises(http.DestinationRefused):
        http.check_url(
            "https://hooks.example.com/in",
            allow_insecure_loopback=False,
            resolver=lambda _: ["93.184.216.34", "169.254.169.254"],
        )
