"""The sandbox webhook receivers (infra/local/sandbox) over real loopback HTTP: verification with the
website client, webhook-id dedupe, and every control mode (fail, slow, timeout, gone, rate_limit)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from infra.local.sandbox.make_receiver import DEMO_HOOK, LOCAL_DEMO_API_KEY, MakeReceiver
from infra.local.sandbox.receiver_control import DEFAULT_HANG_SECONDS, ControlError, parse_command
from infra.local.sandbox.website_receiver import WebsiteReceiver
from infra.local.servers import ServerThread
from tests.unit.clients.signing import hub_headers

SECRET = "whsec_" + base64.b64encode(b"r" * 32).decode()
LEGACY_SECRET = "whsec_local_demo_hanuman-world"  # what `make run`'s demo websites have today
SITES = {"site-a": SECRET, "site-b": LEGACY_SECRET}


def update(booking: str = "b-1", **data: Any) -> bytes:
    fields = data or {"status": "cancelled"}
    return json.dumps(
        {
            "event": "booking.status_changed",
            "source_booking_id": booking,
            "updated_fields": list(fields),
            "data": fields,
        }
    ).encode()


@dataclass
class Served:
    url: str
    app: Any

    def control(self, **command: Any) -> requests.Response:
        return requests.post(f"{self.url}/_control", json=command, timeout=5)

    def received(self, **params: str) -> dict[str, Any]:
        response = requests.get(f"{self.url}/_received", params=params, timeout=5)
        response.raise_for_status()
        return response.json()


def serve(app: Any) -> Iterator[Served]:
    server = ServerThread("test-receiver", "127.0.0.1", 0, app)
    server.start()
    try:
        yield Served(f"http://127.0.0.1:{server.port}", app)
    finally:
        app.stop()
        server.stop()


@pytest.fixture
def website() -> Iterator[Served]:
    yield from serve(WebsiteReceiver(dict(SITES)))


@pytest.fixture
def make() -> Iterator[Served]:
    yield from serve(MakeReceiver())


def deliver(
    served: Served, site: str = "site-a", body: bytes | None = None, webhook_id: str = "msg_1", **options: Any
) -> requests.Response:
    payload = update() if body is None else body
    headers = options.pop("headers", None) or hub_headers([SITES[site]], payload, webhook_id=webhook_id)
    url = f"{served.url}/{site}/api/webhooks/onebooking"
    return requests.post(url, data=payload, headers=headers, timeout=options.pop("timeout", 10))


def to_make(
    served: Served, body: bytes | None = None, *, hook: str = DEMO_HOOK, key: str | None = LOCAL_DEMO_API_KEY, **kw: Any
) -> requests.Response:
    payload = body if body is not None else json.dumps({"event_id": "ev-1", "event_type": "booking.created"}).encode()
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    if key is not None:
        headers["x-make-apikey"] = key
    return requests.post(f"{served.url}/{hook}", data=payload, headers=headers, timeout=kw.pop("timeout", 10))


# --- the websites' receiver ------------------------------------------------------------------------------


@pytest.mark.parametrize("site", ["site-a", "site-b"])
def test_a_delivery_signed_both_ways_is_verified_kept_and_applied(website: Served, site: str) -> None:
    response = deliver(website, site, update(status="cancelled", admin_notes="flight"))
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "message": "Booking updated"}
    (kept,) = website.received()["deliveries"]
    assert (kept["scope"], kept["webhook_id"], kept["webhook_id_signed"]) == (site, "msg_1", True)
    assert kept["schemes"] == ["standard-webhooks", "seed"]
    bookings = requests.get(f"{website.url}/{site}/bookings", timeout=5).json()
    assert bookings == {"b-1": {"status": "cancelled", "admin_notes": "flight"}}


def test_the_same_webhook_id_is_kept_once_and_counted(website: Served) -> None:
    assert deliver(website).status_code == 200
    again = deliver(website)
    assert again.json()["duplicate"] is True
    assert deliver(website, webhook_id="msg_2").status_code == 200
    deliveries = requests.get(f"{website.url}/site-a/deliveries", timeout=5).json()
    assert [(d["webhook_id"], d["times_received"]) for d in deliveries] == [("msg_1", 2), ("msg_2", 1)]
    assert [a["outcome"] for a in website.received()["attempts"]] == ["accepted", "duplicate", "accepted"]


def test_one_bad_scheme_is_enough_to_refuse(website: Served) -> None:
    body = update()
    headers = hub_headers([SECRET], body)
    headers["webhook-signature"] = hub_headers([LEGACY_SECRET], body)["webhook-signature"]
    response = deliver(website, body=body, headers=headers)
    assert response.status_code == 401
    assert "Invalid signature" in response.json()["message"]
    assert website.received()["deliveries"] == []
    assert website.received()["attempts"][0]["status"] == 401


def test_a_stale_delivery_is_refused(website: Served) -> None:
    body = update()
    response = deliver(website, body=body, headers=hub_headers([SECRET], body, stamp=int(time.time()) - 600))
    assert response.status_code == 401
    assert "tolerance" in response.json()["message"]


def test_fail_answers_the_next_count_requests_then_recovers(website: Served) -> None:
    assert website.control(mode="fail", status=503, count=2).status_code == 200
    assert [deliver(website).status_code for _ in range(3)] == [503, 503, 200]
    (kept,) = website.received()["deliveries"]
    assert kept["times_received"] == 1
    assert [a["status"] for a in website.received()["attempts"]] == [503, 503, 200]


def test_a_scoped_command_affects_only_its_website(website: Served) -> None:
    website.control(mode="gone", count=5, website_id="site-b")
    assert deliver(website, "site-a").status_code == 200
    assert deliver(website, "site-b").status_code == 410
    assert requests.get(f"{website.url}/_control", timeout=5).json()["site-b"]["remaining"] == 4
    website.control(mode="normal")
    assert deliver(website, "site-b").status_code == 200


def test_rate_limit_sends_retry_after(website: Served) -> None:
    website.control(mode="rate_limit", retry_after=7)
    response = deliver(website)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "7")
    assert deliver(website).status_code == 200


def test_slow_answers_late_but_keeps_the_delivery(website: Served) -> None:
    website.control(mode="slow", delay_seconds=0.4)
    started = time.monotonic()
    assert deliver(website).status_code == 200
    assert time.monotonic() - started >= 0.4
    assert len(website.received()["deliveries"]) == 1


def test_timeout_holds_the_answer_past_the_senders_patience_and_keeps_nothing(website: Served) -> None:
    website.control(mode="timeout", hang_seconds=1.5)
    with pytest.raises(requests.ReadTimeout):
        deliver(website, timeout=0.3)
    # the held request answers after its 1.5 s (later on a loaded machine): wait for its attempt, not a fixed time
    deadline = time.monotonic() + 30
    while not website.received()["attempts"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert website.received()["deliveries"] == []
    assert website.received()["attempts"][0]["outcome"] == "simulated timeout"
    assert deliver(website).status_code == 200  # the sender's retry


def test_stopping_releases_a_held_request(website: Served) -> None:
    website.control(mode="timeout")  # 20 s by default, longer than the hub's 15 s timeout
    answers: list[int] = []
    sender = threading.Thread(target=lambda: answers.append(deliver(website, timeout=30).status_code))
    sender.start()
    time.sleep(0.3)
    started = time.monotonic()
    website.app.stop()
    sender.join(timeout=5)
    assert answers == [504]
    assert time.monotonic() - started < 3


def test_a_command_sent_as_curl_does_without_a_content_type_is_read(website: Served) -> None:
    sent = requests.post(f"{website.url}/_control", data='{"mode": "gone"}', timeout=5)  # curl -d
    assert sent.status_code == 200, sent.text
    assert deliver(website).status_code == 410


def test_the_legacy_command_form_still_works(website: Served) -> None:
    assert website.control(website_id="site-a", fail_with=500, times=1).status_code == 200
    assert deliver(website).status_code == 500
    assert deliver(website).status_code == 200


@pytest.mark.parametrize(
    "command",
    [
        {},
        {"mode": "explode"},
        {"mode": "fail", "status": 200},
        {"mode": "fail", "count": -1},
        {"mode": "slow", "delay_seconds": 1000},
        {"mode": "rate_limit", "retry_after": "soon"},
        {"mode": "fail", "website_id": 7},
        {"mode": "queue_full"},  # the Make receiver's mode only
    ],
)
def test_bad_commands_are_400(website: Served, command: dict[str, Any]) -> None:
    response = website.control(**command)
    assert response.status_code == 400
    assert response.json()["success"] is False


def test_forgetting_clears_the_record(website: Served) -> None:
    deliver(website)
    assert requests.delete(f"{website.url}/_received", timeout=5).status_code == 200
    assert website.received() == {"deliveries": [], "attempts": []}
    assert deliver(website).json().get("duplicate") is None


def test_timeout_defaults_to_longer_than_the_hubs_15_seconds() -> None:
    _, misbehaviour = parse_command({"mode": "timeout"}, scope_key="website_id")
    assert misbehaviour.hang_seconds == DEFAULT_HANG_SECONDS > 15
    with pytest.raises(ControlError):
        parse_command(["fail"], scope_key="website_id")


# --- the Make.com-style receiver ---------------------------------------------------------------------


def test_make_accepts_a_request_with_its_api_key_like_make(make: Served) -> None:
    response = to_make(make)
    assert (response.status_code, response.text) == (200, "Accepted")
    assert response.headers["Content-Type"].startswith("text/plain")
    (kept,) = make.received()["deliveries"]
    assert (kept["scope"], kept["webhook_id"], kept["verified"]) == (DEMO_HOOK, "ev-1", None)
    assert kept["body"]["event_type"] == "booking.created"
    assert "x-make-apikey" not in {k.lower() for k in kept["headers"]}


@pytest.mark.parametrize("key", [None, "", "wrong"])
def test_make_refuses_a_missing_or_wrong_api_key(make: Served, key: str | None) -> None:
    assert to_make(make, key=key).status_code == 401
    assert make.received()["deliveries"] == []


def test_make_dedupes_by_webhook_id_then_event_id(make: Served) -> None:
    to_make(make)
    to_make(make)
    to_make(make, headers={"webhook-id": "msg_9"})
    kept = make.received()["deliveries"]
    assert [(d["webhook_id"], d["times_received"]) for d in kept] == [("ev-1", 2), ("msg_9", 1)]


def test_a_make_hook_with_a_signing_secret_verifies_both_schemes(make: Served) -> None:
    configured = requests.put(
        f"{make.url}/_hooks/signed", json={"api_keys": ["k1", "k2"], "signing_secret": SECRET}, timeout=5
    )
    assert configured.status_code == 200
    body = json.dumps({"event_id": "ev-2"}).encode()
    good = to_make(make, body, hook="signed", key="k2", headers=hub_headers([SECRET], body, webhook_id="msg_2"))
    assert good.status_code == 200
    forged = to_make(make, body, hook="signed", key="k1", headers=hub_headers([LEGACY_SECRET], body))
    assert forged.status_code == 401
    assert to_make(make, body, hook="signed", key="k1").status_code == 401  # no signature at all
    (kept,) = make.received(hook="signed")["deliveries"]
    assert (kept["verified"], kept["schemes"]) == (True, ["standard-webhooks", "seed"])
    assert requests.get(f"{make.url}/_hooks", timeout=5).json()["signed"] == {
        "api_keys": 2,
        "verifies_signatures": True,
    }


@pytest.mark.parametrize(
    ("command", "status", "text"),
    [
        ({"mode": "gone"}, 410, "There is no scenario listening for this webhook."),
        ({"mode": "queue_full"}, 400, "Queue is full."),
        ({"mode": "rate_limit", "retry_after": 3}, 429, "Too many requests"),
        ({"mode": "fail", "status": 502}, 502, "Simulated failure (HTTP 502)"),
    ],
)
def test_make_failure_modes_answer_like_make(make: Served, command: dict[str, Any], status: int, text: str) -> None:
    assert make.control(**command).status_code == 200
    response = to_make(make)
    assert (response.status_code, response.text) == (status, text)
    if status == 429:
        assert response.headers["Retry-After"] == "3"
    assert make.received()["deliveries"] == []
    assert to_make(make).status_code == 200


def test_make_timeout_and_scoping(make: Served) -> None:
    make.control(mode="timeout", hang_seconds=1.0, hook="slow-hook", count=1)
    with pytest.raises(requests.ReadTimeout):
        to_make(make, hook="slow-hook", timeout=0.3)
    assert to_make(make).status_code == 200  # other hooks are unaffected
    bad = requests.put(f"{make.url}/_hooks/x", json={"api_keys": [""]}, timeout=5)
    assert bad.status_code == 400
