"""Deliveries never keep nor send cookies: one session serves every endpoint of every customer, and
receivers of different customers share hosts (Make.com's hooks, a hosting provider's address; URLs are
pinned to the address checked), so a cookie one receiver set must not go back to another, nor to itself."""

from __future__ import annotations

from typing import Any

from bookinghub.delivery.adapters import http
from bookinghub.delivery.logic.fanout import fan_out
from infra.local.resources import LocalResources
from tests.integration.delivery.conftest import Receiver, Reply, admin_event, pump, subscription

SET_COOKIE = {"Set-Cookie": "sid=customer-a-session; Path=/; Max-Age=3600"}


def _cookies(receiver: Receiver, path: str) -> list[str | None]:
    return [r["headers"].get("Cookie") for r in receiver.received if r["path"] == path]


def test_a_cookie_set_by_one_customers_receiver_never_reaches_another_on_the_same_host(
    receiver: Receiver, delivery_env: LocalResources
) -> None:
    # customer A's receiver sets a cookie; customer B's endpoint is on the same host (another path)
    receiver.path_defaults["/a"] = Reply(headers=SET_COOKIE)
    subscription(receiver.url("/a"))
    fan_out(admin_event(source_booking_id="cookie-0"))
    pump(delivery_env)  # the consumer's own path: deliver_webhooks, the shared session
    assert [r["answered"] for r in receiver.received] == [200]
    subscription(receiver.url("/b"))
    for n in (1, 2):
        fan_out(admin_event(source_booking_id=f"cookie-{n}"))
        pump(delivery_env)
    assert _cookies(receiver, "/b") == [None, None]  # the other customer's requests carry no Cookie
    assert _cookies(receiver, "/a") == [None, None, None]  # nor do A's own later ones
    assert len(http._session().cookies) == 0


def test_the_shared_session_stores_nothing_even_when_told_to() -> None:
    session = http.new_session()
    session.cookies.set("sid", "planted", domain="127.0.0.1", path="/")
    session.cookies.update({"other": "planted"})
    assert len(session.cookies) == 0


def test_a_session_with_a_cookie_jar_would_leak_it(receiver: Receiver) -> None:
    """The stage above can fail: the same two requests through a session that keeps cookies carry A's
    cookie to B (what the shared session did before)."""
    import requests

    receiver.path_defaults["/a"] = Reply(headers=SET_COOKIE)
    session: Any = http.new_session()
    session.cookies = requests.cookies.RequestsCookieJar()
    for path in ("/a", "/b"):
        result = http.post(
            receiver.url(path), b"{}", {}, timeout_seconds=2, allow_insecure_loopback=True, session=session
        )
        assert result.status_code == 200
    assert _cookies(receiver, "/b") == ["sid=customer-a-session"]
