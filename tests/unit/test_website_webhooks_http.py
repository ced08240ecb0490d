"""The HTTP edge of outbound webhooks: URL policy, no redirects, outcomes; HTTP played by a requests adapter."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from bookinghub.core.urls import WebhookUrlRejected, check_webhook_url
from bookinghub.websites.adapters.webhooks import WebhookResponse, WebhookTransportError, post_webhook


class FakeWebsite(BaseAdapter):
    """Answers every request from `answer(request)` (a status, or an exception to raise) and keeps them."""

    def __init__(self, answer: Callable[[requests.PreparedRequest], int | Exception], body: bytes = b"ok") -> None:
        super().__init__()
        self.answer = answer
        self.body = body
        self.requests: list[requests.PreparedRequest] = []
        self.options: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, **options: Any) -> requests.Response:  # type: ignore[override]
        self.requests.append(request)
        self.options.append(options)
        outcome = self.answer(request)
        if isinstance(outcome, Exception):
            raise outcome
        response = requests.Response()
        response.status_code = outcome
        response.raw = BytesIO(self.body)
        response.request = request
        response.url = request.url or ""
        if 300 <= outcome < 400:
            response.headers["Location"] = "https://elsewhere.example.com/"
        return response

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """No DNS in unit tests: every host resolves to a public address unless a test says otherwise."""
    answers: dict[str, list[str]] = {}
    monkeypatch.setattr("bookinghub.core.urls.resolve", lambda host: answers.get(host, ["93.184.216.34"]))
    return answers


def session_for(site: FakeWebsite) -> requests.Session:
    session = requests.Session()
    session.mount("https://", site)
    session.mount("http://", site)
    return session


URL = "https://site.example.com/api/webhooks/onebooking"


@pytest.mark.parametrize(
    ("url", "allow", "ok"),
    [
        ("https://site.example.com/hook", False, True),
        ("https://127.0.0.1:8443/hook", False, True),
        ("http://site.example.com/hook", False, False),
        ("http://site.example.com/hook", True, False),  # insecure is for loopback only
        ("http://10.0.0.5/hook", True, False),
        ("http://127.0.0.1:4000/w/api/webhooks/onebooking", False, False),
        ("http://127.0.0.1:4000/w/api/webhooks/onebooking", True, True),
        ("http://localhost:4000/hook", True, True),
        ("http://[::1]:4000/hook", True, True),
        ("ftp://site.example.com/hook", True, False),
        ("not a url", True, False),
        ("https:///no-host", False, False),
    ],
)
def test_url_policy(url: str, allow: bool, ok: bool) -> None:
    if ok:
        check_webhook_url(url, allow_insecure_loopback=allow)
    else:
        with pytest.raises(WebhookUrlRejected):
            check_webhook_url(url, allow_insecure_loopback=allow)


def test_posts_the_exact_bytes_with_headers_timeout_and_no_redirects() -> None:
    site = FakeWebsite(lambda _: 200, body=b'{"success":true,"message":"Booking updated"}')
    response = post_webhook(URL, b'{"a":1}', {"X-Webhook-Id": "evt-1"}, timeout_seconds=3.5, session=session_for(site))
    assert response.outcome == "delivered"
    assert response.body_excerpt == '{"success":true,"message":"Booking updated"}'
    (request,) = site.requests
    assert (request.method, request.url, request.body) == ("POST", URL, b'{"a":1}')
    assert request.headers["X-Webhook-Id"] == "evt-1"
    assert site.options[0]["timeout"] == 3.5


def test_a_redirect_is_not_followed_and_counts_as_a_refusal() -> None:
    site = FakeWebsite(lambda _: 302)
    response = post_webhook(URL, b"{}", {}, timeout_seconds=1, session=session_for(site))
    assert len(site.requests) == 1
    assert (response.status_code, response.outcome) == (302, "rejected")


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "delivered"),
        (202, "delivered"),
        (204, "delivered"),
        (400, "rejected"),
        (403, "rejected"),
        (404, "rejected"),
        (408, "retry"),
        (429, "retry"),
        (500, "retry"),
        (503, "retry"),
    ],
)
def test_outcome_by_status(status: int, outcome: str) -> None:
    assert WebhookResponse(status, 1, "").outcome == outcome


@pytest.mark.parametrize(
    "error",
    [requests.Timeout("read timed out"), requests.ConnectionError("refused"), requests.exceptions.SSLError("bad cert")],
)
def test_no_answer_is_a_transport_error(error: Exception) -> None:
    site = FakeWebsite(lambda _: error)
    with pytest.raises(WebhookTransportError):
        post_webhook(URL, b"{}", {}, timeout_seconds=1, session=session_for(site))


def test_a_rejected_url_is_never_requested() -> None:
    site = FakeWebsite(lambda _: 200)
    with pytest.raises(WebhookUrlRejected):
        post_webhook("http://site.example.com/hook", b"{}", {}, timeout_seconds=1, session=session_for(site))
    assert site.requests == []


def test_only_the_start_of_a_large_answer_is_read() -> None:
    site = FakeWebsite(lambda _: 500, body=b"x" * 100_000)
    response = post_webhook(URL, b"{}", {}, timeout_seconds=1, session=session_for(site))
    assert 0 < len(response.body_excerpt) <= 512


def test_a_host_rebound_inside_the_network_is_refused_at_delivery(dns: dict[str, list[str]]) -> None:
    site = FakeWebsite(lambda request: 200)
    dns["site.example.com"] = ["10.0.0.7"]
    with pytest.raises(WebhookUrlRejected, match="private"):
        post_webhook(URL, b"{}", {}, timeout_seconds=1, session=session_for(site))
    assert site.requests == []


def test_a_host_without_an_address_is_retried_later(dns: dict[str, list[str]]) -> None:
    dns["site.example.com"] = []
    with pytest.raises(WebhookTransportError):
        post_webhook(URL, b"{}", {}, timeout_seconds=1, session=session_for(FakeWebsite(lambda request: 200)))
