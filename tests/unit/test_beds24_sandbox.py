"""The Beds24 API v2 sandbox (infra/local/sandbox/beds24.py), through werkzeug's test client: no sockets, a fake
clock, and an injected webhook sender that captures what would be POSTed."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from werkzeug.test import Client, TestResponse

from infra.local.sandbox.beds24 import (
    DEMO_PROPERTY_ID,
    DEMO_REFRESH_TOKEN,
    DEMO_ROOM_IDS,
    Beds24Sandbox,
    create_app,
)

NOW = datetime(2026, 3, 1, 5, 0, tzinfo=UTC).timestamp()  # 12:00 in Bangkok, the demo property's time zone
TODAY = date(2026, 3, 1)
FIRST = 40000001  # the first demo booking; the six demo bookings are FIRST .. FIRST + 5
ALL_STATUSES = ["confirmed", "request", "new", "cancelled", "black", "inquiry"]
WEBHOOK_URL = "http://hub.test/api/webhooks/beds24?token=hook-token"
CREDIT_HEADERS = ("X-FiveMinCreditLimit", "X-FiveMinCreditLimit-Remaining", "X-FiveMinCreditLimit-ResetsIn")


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CapturingSender:
    """Stands in for requests.post: records each webhook and answers the scripted outcomes, then 200."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.outcomes: list[int | Exception] = []
        self.gate: threading.Event | None = None  # when set, each send waits for it

    def __call__(self, url: str, *, data: bytes, headers: dict[str, str], timeout: float) -> Any:
        if self.gate is not None:
            self.gate.wait(5)
        self.sent.append({"url": url, "headers": headers, "body": json.loads(data), "timeout": timeout})
        outcome = self.outcomes.pop(0) if self.outcomes else 200
        if isinstance(outcome, Exception):
            raise outcome
        return SimpleNamespace(status_code=outcome)


@dataclass
class Sandbox:
    app: Beds24Sandbox
    client: Client
    clock: FakeClock
    sender: CapturingSender
    token: str = field(default="")

    def mint(self) -> str:
        response = self.client.get("/v2/authentication/token", headers={"refreshToken": DEMO_REFRESH_TOKEN})
        assert response.status_code == 200, response.get_json()
        return str(response.get_json()["token"])

    def get(self, path: str, params: list[tuple[str, Any]] | None = None, token: str | None = None) -> TestResponse:
        query = urlencode([(key, str(value)) for key, value in params or []])
        return self.client.get(path, query_string=query, headers={"token": self.token if token is None else token})

    def ids(self, params: list[tuple[str, Any]] | None = None) -> list[int]:
        response = self.get("/v2/bookings", params)
        assert response.status_code == 200, response.get_json()
        return [booking["id"] for booking in response.get_json()["data"]]

    def booking(self, booking_id: int) -> dict[str, Any]:
        data = self.get("/v2/bookings", [("id", booking_id), *[("status", s) for s in ALL_STATUSES]]).get_json()
        assert data["count"] == 1
        return dict(data["data"][0])

    def post(self, body: Any) -> TestResponse:
        return self.client.post("/v2/bookings", data=json.dumps(body), headers={"token": self.token})

    def control(self, path: str, body: Any) -> TestResponse:
        return self.client.post(path, json=body)


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    apps: list[Beds24Sandbox] = []

    def make(*, mint: bool = True, **options: Any) -> Sandbox:
        clock, sender = FakeClock(), CapturingSender()
        app = create_app(clock=clock, sender=sender, **options)
        app.webhooks.retry_delay = 0
        apps.append(app)
        sandbox = Sandbox(app, Client(app), clock, sender)
        if mint:
            sandbox.token = sandbox.mint()
        return sandbox

    yield make
    for app in apps:
        app.stop()


def assert_unsuccessful(response: TestResponse, code: int) -> None:
    assert response.status_code == code
    body = response.get_json()
    assert body == {"success": False, "type": "error", "code": code, "error": body["error"]}
    assert body["error"]


# --- authentication ----------------------------------------------------------------------------------------


def test_token_mint_and_reuse(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(mint=False)
    response = sandbox.client.get("/v2/authentication/token", headers={"refreshToken": DEMO_REFRESH_TOKEN})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"token", "expiresIn"}
    assert body["expiresIn"] == 86400
    assert response.headers["X-RequestCost"] == "1"
    sandbox.token = body["token"]
    for _ in range(3):
        assert sandbox.get("/v2/bookings").status_code == 200
    second = sandbox.mint()
    assert second != sandbox.token
    assert sandbox.get("/v2/bookings", token=second).status_code == 200
    assert sandbox.get("/v2/bookings").status_code == 200  # the first token still works
    calls = sandbox.client.get("/_calls").get_json()
    assert [call["path"] for call in calls].count("/v2/authentication/token") == 2
    assert all(call["cost"] == 1 and call["status"] == 200 for call in calls)
    assert all("token" not in json.dumps(call["query"]) for call in calls)


def test_bad_refresh_token_is_400_and_costs_nothing(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(mint=False)
    for headers in ({"refreshToken": "not-the-token"}, {}):
        response = sandbox.client.get("/v2/authentication/token", headers=headers)
        assert_unsuccessful(response, 400)
        assert response.headers["X-RequestCost"] == "0"
        assert response.headers["X-FiveMinCreditLimit-Remaining"] == "100"
    other = make_sandbox(mint=False, refresh_token="custom-refresh")
    assert other.client.get("/v2/authentication/token", headers={"refreshToken": "custom-refresh"}).status_code == 200


def test_missing_unknown_and_expired_token_is_401(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    assert_unsuccessful(sandbox.client.get("/v2/bookings"), 401)
    assert_unsuccessful(sandbox.get("/v2/bookings", token="unknown"), 401)
    assert_unsuccessful(sandbox.client.post("/v2/bookings", json=[]), 401)
    sandbox.clock.advance(86399)
    assert sandbox.get("/v2/bookings").status_code == 200
    sandbox.clock.advance(1)
    response = sandbox.get("/v2/bookings")
    assert_unsuccessful(response, 401)
    assert response.headers["X-RequestCost"] == "0"
    assert "expired" in response.get_json()["error"].lower()


# --- GET /v2/bookings --------------------------------------------------------------------------------------


def test_default_listing_is_upcoming_and_leaves_out_cancelled(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    response = sandbox.get("/v2/bookings")
    body = response.get_json()
    assert (body["success"], body["type"], body["count"]) == (True, "booking", 4)
    assert body["pages"] == {"nextPageExists": False, "nextPageLink": None}
    assert [booking["id"] for booking in body["data"]] == [FIRST, FIRST + 1, FIRST + 2, FIRST + 3]
    required = {"id", "propertyId", "roomId", "unitId", "status", "subStatus", "arrival", "departure", "numAdult",
                "numChild", "title", "firstName", "lastName", "email", "phone", "mobile", "country", "country2",
                "price", "deposit", "tax", "commission", "channel", "apiReference", "referer", "notes", "comments",
                "bookingTime", "modifiedTime", "cancelTime"}  # fmt: skip
    for booking in body["data"]:
        assert required <= booking.keys()
        assert "infoItems" not in booking
        assert "invoiceItems" not in booking
        assert booking["propertyId"] == DEMO_PROPERTY_ID
        assert booking["departure"] >= TODAY.isoformat()
        assert booking["status"] != "cancelled"
        assert booking["cancelTime"] is None
        assert len(booking["modifiedTime"]) == 20
        assert booking["modifiedTime"].endswith("Z")
    for name in (*CREDIT_HEADERS, "X-RequestCost"):
        assert response.headers[name].isdigit()


def test_status_date_id_room_and_search_filters(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    assert sandbox.ids([("status", "cancelled")]) == [FIRST + 5]
    assert sandbox.booking(FIRST + 5)["cancelTime"] is not None
    assert sandbox.ids([("status", "request"), ("status", "cancelled")]) == [FIRST + 3, FIRST + 5]
    # A date filter lifts "upcoming only": the past stay comes back
    assert sandbox.ids([("arrivalFrom", "2000-01-01")]) == [FIRST + n for n in range(5)]
    assert sandbox.ids([("arrival", day(3))]) == [FIRST]
    assert sandbox.ids([("arrivalFrom", day(3)), ("arrivalTo", day(7))]) == [FIRST, FIRST + 2]  # both inclusive
    assert sandbox.ids([("departureFrom", day(2)), ("departureTo", day(6))]) == [FIRST, FIRST + 3]
    assert sandbox.ids([("departure", day(-17))]) == [FIRST + 4]
    # So does an id filter; the status default still applies
    assert sandbox.ids([("id", FIRST + 4), ("id", FIRST + 5)]) == [FIRST + 4]
    assert sandbox.ids([("id", FIRST + 5), ("status", "cancelled")]) == [FIRST + 5]
    assert sandbox.ids([("propertyId", DEMO_PROPERTY_ID), ("propertyId", 999)]) == [FIRST + n for n in range(4)]
    assert sandbox.ids([("propertyId", 999)]) == []
    assert sandbox.ids([("roomId", 501), ("roomId", 503)]) == [FIRST, FIRST + 1, FIRST + 3]
    assert sandbox.ids([("searchString", "ANNA.LEE")]) == [FIRST, FIRST + 1]
    assert sandbox.ids([("searchString", "4012345678")]) == [FIRST]
    assert sandbox.ids([("searchString", "oliver brown")]) == [FIRST + 3]


def test_info_and_invoice_items_only_when_asked(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    plain = sandbox.get("/v2/bookings", [("id", FIRST)]).get_json()["data"][0]
    assert "infoItems" not in plain
    asked = [("id", FIRST), ("includeInfoItems", "true"), ("includeInvoiceItems", "true")]
    booking = sandbox.get("/v2/bookings", asked).get_json()["data"][0]
    assert [item["code"] for item in booking["infoItems"]] == ["PICKUP"]
    assert [item["type"] for item in booking["invoiceItems"]] == ["charge", "payment"]
    other = sandbox.get("/v2/bookings", [("id", FIRST + 1), ("includeInfoItems", "1")]).get_json()["data"][0]
    assert other["infoItems"] == []
    assert "invoiceItems" not in other


def test_modified_from_and_to(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    sandbox.clock.advance(3600)
    assert sandbox.post([{"id": FIRST + 2, "notes": "Crib please"}]).status_code == 201
    stamp = utc(NOW + 3600)
    assert sandbox.ids([("modifiedFrom", stamp[:-1])]) == [FIRST + 2]  # the hub's client sends no Z
    assert sandbox.ids([("modifiedFrom", stamp)]) == [FIRST + 2]
    assert sandbox.ids([("modifiedFrom", utc(NOW + 3601))]) == []
    assert sandbox.ids([("modifiedFrom", TODAY.isoformat())]) == [FIRST + 2]  # a bare date: from midnight UTC
    assert FIRST + 2 not in sandbox.ids([("modifiedTo", utc(NOW + 3599))])
    assert sandbox.ids([("modifiedTo", stamp), ("modifiedFrom", stamp)]) == [FIRST + 2]  # inclusive
    # Still "upcoming only" by default: the past stay is not returned even though modifiedFrom matches it
    assert sandbox.ids([("modifiedFrom", "2000-01-01T00:00:00")]) == [FIRST + n for n in range(4)]


def test_pagination_follows_next_page_link(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(page_size=2)
    params = [("arrivalFrom", "2000-01-01"), *[("status", s) for s in ALL_STATUSES]]
    body = sandbox.get("/v2/bookings", params).get_json()
    seen, pages = [], 0
    while True:
        pages += 1
        assert body["count"] == len(body["data"]) == 2
        seen += [booking["id"] for booking in body["data"]]
        if not body["pages"]["nextPageExists"]:
            assert body["pages"]["nextPageLink"] is None
            break
        link = urlsplit(body["pages"]["nextPageLink"])
        assert link.path == "/v2/bookings"
        assert f"page={pages + 1}" in link.query
        assert "status=cancelled" in link.query
        body = sandbox.client.get(link.path, query_string=link.query, headers={"token": sandbox.token}).get_json()
    assert (pages, seen) == (3, [FIRST + n for n in range(6)])
    beyond = sandbox.get("/v2/bookings", [*params, ("page", 4)]).get_json()
    assert (beyond["count"], beyond["data"], beyond["pages"]["nextPageExists"]) == (0, [], False)


def test_bad_query_input_is_400(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    for bad in (
        [("arrivalFrom", "2026-13-01")],
        [("arrivalFrom", "tomorrow")],
        [("departureTo", "2026-3-1")],
        [("modifiedFrom", "2026-03-01T25:00:00")],
        [("modifiedFrom", "2026-03-01 10:00")],
        [("id", "abc")],
        [("propertyId", "-1")],
        [("roomId", "5.0")],
        [("status", "booked")],
        [("page", "0")],
        [("page", "two")],
        [("includeInfoItems", "yes")],
    ):
        assert_unsuccessful(sandbox.get("/v2/bookings", bad), 400)


# --- credits -----------------------------------------------------------------------------------------------


def test_credit_headers_count_down_then_429_until_the_window_resets(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(mint=False, credit_limit=3)
    sandbox.token = sandbox.mint()  # costs 1
    remaining = []
    for _ in range(2):
        response = sandbox.get("/v2/bookings")
        assert response.status_code == 200
        assert response.headers["X-FiveMinCreditLimit"] == "3"
        assert response.headers["X-RequestCost"] == "1"
        remaining.append(response.headers["X-FiveMinCreditLimit-Remaining"])
    assert remaining == ["1", "0"]
    refused = sandbox.get("/v2/bookings")
    assert_unsuccessful(refused, 429)
    assert [refused.headers[name] for name in (*CREDIT_HEADERS, "X-RequestCost")] == ["3", "0", "300", "0"]
    mint = sandbox.client.get("/v2/authentication/token", headers={"refreshToken": DEMO_REFRESH_TOKEN})
    assert_unsuccessful(mint, 429)
    sandbox.clock.advance(120)
    assert sandbox.get("/v2/bookings").headers["X-FiveMinCreditLimit-ResetsIn"] == "180"
    sandbox.clock.advance(180)
    recovered = sandbox.get("/v2/bookings")
    assert recovered.status_code == 200
    assert recovered.headers["X-FiveMinCreditLimit-Remaining"] == "2"
    assert recovered.headers["X-FiveMinCreditLimit-ResetsIn"] == "300"


def test_control_sets_the_credit_budget(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    assert sandbox.control("/_control", {"credits": {"limit": 50, "remaining": 0, "resets_in": 30}}).status_code == 200
    refused = sandbox.get("/v2/bookings")
    assert_unsuccessful(refused, 429)
    assert [refused.headers[name] for name in CREDIT_HEADERS] == ["50", "0", "30"]
    sandbox.clock.advance(30)
    response = sandbox.get("/v2/bookings")
    assert response.status_code == 200
    assert response.headers["X-FiveMinCreditLimit-Remaining"] == "49"
    for bad in ({"credits": {"limit": 5, "remaining": 6}}, {"credits": {"limit": 5, "remaining": 1, "resets_in": 0}},
                {"credits": [1]}):  # fmt: skip
        assert sandbox.control("/_control", bad).status_code == 400


# --- POST and DELETE /v2/bookings, webhooks ----------------------------------------------------------------


def test_post_create_modify_cancel_sets_times_and_sends_webhooks(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(webhook_url=WEBHOOK_URL, webhook_headers={"X-Hub-Key": "hub-key"})
    new = {"roomId": 502, "arrival": day(31), "departure": day(33), "firstName": "Lina", "lastName": "Park",
           "email": "lina@example.com", "mobile": 66812345678, "numAdult": 2, "price": 9900.5}  # fmt: skip
    response = sandbox.post([new])
    assert response.status_code == 201
    assert response.headers["X-RequestCost"] == "1"
    [created] = response.get_json()
    assert created["success"] is True
    booking = created["new"]
    booking_id = booking["id"]
    assert booking_id == FIRST + 6
    assert (booking["propertyId"], booking["status"]) == (DEMO_PROPERTY_ID, "confirmed")
    assert booking["mobile"] == "66812345678"  # Beds24's own example posts mobile as a number
    assert booking["bookingTime"] == booking["modifiedTime"] == utc(NOW)
    assert booking["cancelTime"] is None

    sandbox.clock.advance(60)
    [modified] = sandbox.post([{"id": booking_id, "numAdult": 3, "notes": "Anniversary"}]).get_json()
    assert modified == {"success": True, "modified": {"id": booking_id, "numAdult": 3, "notes": "Anniversary"}}
    after = sandbox.booking(booking_id)
    assert (after["numAdult"], after["firstName"], after["modifiedTime"]) == (3, "Lina", utc(NOW + 60))
    assert after["bookingTime"] == utc(NOW)

    sandbox.clock.advance(60)
    assert sandbox.post([{"id": booking_id, "status": "cancelled"}]).get_json()[0]["success"] is True
    cancelled = sandbox.booking(booking_id)
    assert (cancelled["status"], cancelled["cancelTime"], cancelled["modifiedTime"]) == (
        "cancelled", utc(NOW + 120), utc(NOW + 120))  # fmt: skip
    assert booking_id not in sandbox.ids()  # the status default leaves it out now

    assert sandbox.app.wait_for_webhooks()
    sent = sandbox.sender.sent
    assert [delivery["url"] for delivery in sent] == [WEBHOOK_URL] * 3  # the URL's ?token= kept as configured
    for delivery in sent:
        assert delivery["headers"]["X-Hub-Key"] == "hub-key"
        assert delivery["headers"]["Content-Type"] == "application/json"
        assert not any("signature" in name.lower() for name in delivery["headers"])  # Beds24 does not sign
        assert delivery["timeout"] == 5.0
        body = delivery["body"]
        assert set(body) == {"timeStamp", "booking", "infoItems", "invoiceItems", "retries"}
        assert (body["infoItems"], body["invoiceItems"], body["retries"]) == ([], [], 0)
    assert [d["body"]["booking"]["status"] for d in sent] == ["confirmed", "confirmed", "cancelled"]
    assert [d["body"]["timeStamp"] for d in sent] == [utc(NOW), utc(NOW + 60), utc(NOW + 120)]
    assert sent[-1]["body"]["booking"] == cancelled  # the booking object as GET answers it
    records = sandbox.client.get("/_webhooks").get_json()
    assert [(r["event"], r["status"], r["error"]) for r in records] == [
        ("created", 200, None), ("modified", 200, None), ("cancelled", 200, None)]  # fmt: skip
    assert {r["bookingId"] for r in records} == {booking_id}


def test_multi_post_answers_each_element(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(webhook_url=WEBHOOK_URL)
    elements: list[Any] = [
        {"roomId": 501, "arrival": day(40), "departure": day(42)},
        {"id": 99999999, "status": "cancelled"},
        {"roomId": 9999, "arrival": day(40), "departure": day(42)},
        {"roomId": 501, "arrival": "2026-02-30", "departure": day(42), "status": "booked", "numAdult": -1},
        {"roomId": 501, "arrival": day(42), "departure": day(42)},
        {"arrival": day(40)},
        "not an object",
        {"id": FIRST, "firstName": "Anna", "bookingTime": "2020-01-01T00:00:00Z"},  # no change; a read-only field
        {"id": FIRST, "unitId": 9},
    ]
    response = sandbox.post(elements)
    assert response.status_code == 201
    results = response.get_json()
    assert len(results) == len(elements)
    assert results[0]["success"] is True
    assert results[0]["new"]["id"] == FIRST + 6
    assert [result["success"] for result in results] == [True, False, False, False, False, False, False, True, False]
    fields = [sorted(error["field"] for error in result.get("errors", [])) for result in results]
    assert fields[1:7] == [["id"], ["roomId"], ["arrival", "numAdult", "status"], ["departure"],
                           ["departure", "roomId"], [""]]  # fmt: skip
    assert fields[8] == ["unitId"]
    assert results[7]["modified"] == {"id": FIRST}
    assert results[7]["warnings"][0]["field"] == "bookingTime"
    assert sandbox.booking(FIRST)["unitId"] == 1  # a refused element changes nothing
    assert sandbox.app.wait_for_webhooks()
    assert [d["body"]["booking"]["id"] for d in sandbox.sender.sent] == [FIRST + 6]  # only the real change


def test_post_bad_body_is_400(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    assert_unsuccessful(sandbox.client.post("/v2/bookings", data="[{", headers={"token": sandbox.token}), 400)
    assert_unsuccessful(sandbox.post({"roomId": 501}), 400)
    assert sandbox.post([]).get_json() == []


def test_delete_removes_the_booking_and_sends_a_deleted_webhook(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(webhook_url=WEBHOOK_URL)
    before = sandbox.booking(FIRST)
    response = sandbox.client.delete(f"/v2/bookings?id={FIRST}&id=99", headers={"token": sandbox.token})
    assert response.status_code == 201
    assert response.headers["X-RequestCost"] == "1"
    gone, deleted = response.get_json()
    assert gone["success"] is False
    assert gone["errors"][0]["field"] == "id"
    assert deleted == {"success": True, "deleted": {"id": FIRST}}
    assert sandbox.get("/v2/bookings", [("id", FIRST), *[("status", s) for s in ALL_STATUSES]]).get_json()["data"] == []
    assert FIRST not in sandbox.ids()
    assert sandbox.app.wait_for_webhooks()
    [delivery] = sandbox.sender.sent
    body = delivery["body"]
    assert body["deleted"] is True
    assert body["booking"] == before  # the last known booking
    assert [item["code"] for item in body["infoItems"]] == ["PICKUP"]
    for bad in ("", "?id=abc"):
        assert_unsuccessful(sandbox.client.delete(f"/v2/bookings{bad}", headers={"token": sandbox.token}), 400)


def test_failed_webhooks_are_retried_and_recorded(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(webhook_url=WEBHOOK_URL)
    sandbox.sender.outcomes = [500, ConnectionError("connection refused"), 200, 503, 503, 503]
    sandbox.post([{"id": FIRST, "notes": "first change"}])
    assert sandbox.app.wait_for_webhooks()
    sandbox.post([{"id": FIRST, "notes": "second change"}])
    assert sandbox.app.wait_for_webhooks()
    records = sandbox.client.get("/_webhooks").get_json()
    attempts = [(r["attempt"], r["status"]) for r in records]
    assert attempts == [(1, 500), (2, None), (3, 200), (1, 503), (2, 503), (3, 503)]
    assert "ConnectionError: connection refused" in records[1]["error"]
    assert [d["body"]["retries"] for d in sandbox.sender.sent] == [0, 1, 2, 0, 1, 2]
    assert all(r["url"] == WEBHOOK_URL for r in records)


def test_webhook_target_is_set_at_run_time(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()  # no webhook_url: nothing is sent
    sandbox.post([{"id": FIRST, "notes": "unseen"}])
    assert sandbox.app.wait_for_webhooks()
    assert sandbox.sender.sent == []
    target = {"url": "http://127.0.0.1:3000/hook?token=t1", "headers": {"X-Api-Key": "k"}}
    assert sandbox.control("/_control/webhook", target).get_json() == {
        "success": True, "url": target["url"], "headers": ["X-Api-Key"]}  # fmt: skip
    sandbox.post([{"id": FIRST, "notes": "seen"}])
    assert sandbox.app.wait_for_webhooks()
    assert [(d["url"], d["headers"]["X-Api-Key"]) for d in sandbox.sender.sent] == [(target["url"], "k")]
    assert sandbox.control("/_control/webhook", {"url": None}).status_code == 200
    sandbox.post([{"id": FIRST, "notes": "unseen again"}])
    assert sandbox.app.wait_for_webhooks()
    assert len(sandbox.sender.sent) == 1
    bad_bodies: tuple[object, ...] = (
        {"url": "ftp://x"},
        {"url": "http://x", "headers": {"a": 1}},
        {"headers": {}},
        ["x"],
    )
    for bad in bad_bodies:
        assert sandbox.control("/_control/webhook", bad).status_code == 400


def test_api_call_does_not_wait_for_the_webhook_receiver_and_stop_is_clean(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox(webhook_url=WEBHOOK_URL)
    sandbox.sender.gate = threading.Event()  # the receiver hangs until released
    assert sandbox.post([{"id": FIRST, "notes": "while the receiver hangs"}]).status_code == 201
    assert sandbox.app.wait_for_webhooks(0.05) is False
    sandbox.sender.gate.set()
    assert sandbox.app.wait_for_webhooks()
    assert len(sandbox.sender.sent) == 1
    sandbox.app.stop()
    assert not any(thread.name == "beds24-sandbox-webhooks" for thread in threading.enumerate())
    sandbox.post([{"id": FIRST, "notes": "after stop"}])
    assert sandbox.app.wait_for_webhooks(0.05)
    assert len(sandbox.sender.sent) == 1


# --- control -----------------------------------------------------------------------------------------------


def test_fail_with_and_delay_controls(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    assert sandbox.control("/_control", {"fail_with": 503, "times": 2}).status_code == 200
    statuses = [sandbox.get("/v2/bookings").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    failed = sandbox.client.get("/_calls").get_json()[-3]
    assert (failed["status"], failed["cost"]) == (503, 0)
    assert sandbox.control("/_control", {"fail_with": 500, "times": 1}).status_code == 200
    response = sandbox.client.get("/v2/authentication/token", headers={"refreshToken": DEMO_REFRESH_TOKEN})
    assert_unsuccessful(response, 500)  # the token call misbehaves too
    assert response.headers["X-FiveMinCreditLimit"] == "100"
    assert sandbox.control("/_control", {"delay_seconds": 0.01, "times": 1}).status_code == 200
    assert sandbox.get("/v2/bookings").status_code == 200
    for bad in ({"times": -1}, {"fail_with": 200}, {"delay_seconds": 1000}, ["x"]):
        assert sandbox.control("/_control", bad).status_code == 400


def test_generate_10000_bookings_and_page_through_them(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(seed_demo=False, credit_limit=1000)
    response = sandbox.control("/_control/generate", {"count": 10000, "property_id": DEMO_PROPERTY_ID})
    assert response.get_json() == {"success": True, "generated": 10000, "firstId": FIRST, "lastId": FIRST + 9999}
    params = [("arrivalFrom", "2000-01-01"), *[("status", s) for s in ALL_STATUSES]]
    seen: list[int] = []
    page = 1
    while True:
        body = sandbox.get("/v2/bookings", [*params, ("page", page)]).get_json()
        seen += [booking["id"] for booking in body["data"]]
        if not body["pages"]["nextPageExists"]:
            break
        assert body["count"] == 100
        page += 1
    assert page == 100
    assert seen == list(range(FIRST, FIRST + 10000))
    # Deterministic for the same clock and count, with cancelled and past bookings among them
    again = make_sandbox(seed_demo=False)
    again.control("/_control/generate", {"count": 10000})
    first_page = again.get("/v2/bookings", params).get_json()["data"]
    assert first_page == sandbox.get("/v2/bookings", params).get_json()["data"]
    assert {"confirmed", "request", "cancelled"} <= {booking["status"] for booking in first_page}
    assert any(booking["departure"] < TODAY.isoformat() for booking in first_page)
    assert len(again.ids()) == 100  # the default page: upcoming, not cancelled
    assert all(booking_id > FIRST for booking_id in again.ids())


def test_generate_for_another_property(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(credit_limit=1000)
    assert sandbox.control("/_control/generate", {"count": 30, "property_id": 777}).status_code == 200
    properties = sandbox.get("/v2/properties").get_json()["data"]
    assert [p["id"] for p in properties] == [DEMO_PROPERTY_ID, 777]
    new_rooms = [room["id"] for room in properties[1]["roomTypes"]]
    assert not set(new_rooms) & set(DEMO_ROOM_IDS)
    params = [("propertyId", 777), ("arrivalFrom", "2000-01-01"), *[("status", s) for s in ALL_STATUSES]]
    bookings = sandbox.get("/v2/bookings", params).get_json()["data"]
    assert len(bookings) == 30
    assert {b["roomId"] for b in bookings} == set(new_rooms)
    assert sandbox.post([{"roomId": new_rooms[0], "arrival": day(5), "departure": day(6)}]).get_json()[0]["new"][
        "propertyId"] == 777  # fmt: skip
    for bad in ({"count": 0}, {"count": "10"}, {"count": 5, "property_id": "x"}, ["x"]):
        assert sandbox.control("/_control/generate", bad).status_code == 400


def test_calls_and_reset_calls(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(webhook_url=WEBHOOK_URL)
    sandbox.get("/v2/bookings", [("status", "new"), ("status", "request")])
    sandbox.post([{"id": FIRST, "notes": "x"}])
    assert sandbox.app.wait_for_webhooks()
    calls = sandbox.client.get("/_calls").get_json()
    assert [(c["method"], c["path"], c["status"]) for c in calls] == [
        ("GET", "/v2/authentication/token", 200), ("GET", "/v2/bookings", 200), ("POST", "/v2/bookings", 201)
    ]  # fmt: skip
    assert calls[1]["query"] == {"status": ["new", "request"]}
    assert len(sandbox.client.get("/_webhooks").get_json()) == 1
    assert sandbox.control("/_control/reset-calls", {}).status_code == 200
    assert sandbox.client.get("/_calls").get_json() == []
    assert sandbox.client.get("/_webhooks").get_json() == []


# --- properties, demo data, routes -------------------------------------------------------------------------


def test_properties_list_the_demo_room_types(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    body = sandbox.get("/v2/properties").get_json()
    assert (body["success"], body["type"], body["count"]) == (True, "property", 1)
    [prop] = body["data"]
    assert (prop["id"], prop["name"]) == (DEMO_PROPERTY_ID, "Demo Beach Hotel")
    assert [(room["id"], room["name"], room["qty"]) for room in prop["roomTypes"]] == [
        (501, "Deluxe Double", 4), (502, "Family Suite", 2), (503, "Garden Bungalow", 3)]  # fmt: skip
    assert tuple(room["id"] for room in prop["roomTypes"]) == DEMO_ROOM_IDS
    wanted = sandbox.get("/v2/properties", [("id", DEMO_PROPERTY_ID), ("includeAllRooms", "true")]).get_json()
    assert wanted["data"] == [prop]
    assert sandbox.get("/v2/properties", [("id", 1)]).get_json()["data"] == []
    assert_unsuccessful(sandbox.get("/v2/properties", [("id", "x")]), 400)
    assert_unsuccessful(sandbox.get("/v2/properties", token="nope"), 401)


def test_demo_bookings_cover_the_sync_edge_cases(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    params = [("arrivalFrom", "2000-01-01"), *[("status", s) for s in ALL_STATUSES]]
    bookings = sandbox.get("/v2/bookings", params).get_json()["data"]
    assert len(bookings) == 6
    emails = [b["email"] for b in bookings if b["email"].lower() == "anna.lee@example.com"]
    assert sorted(emails) == ["Anna.Lee@example.com", "anna.lee@example.com"]
    assert any(b["mobile"] == "081 234 5678" and not b["phone"] and b["country2"] == "TH" for b in bookings)
    assert any(b["phone"] and not b["email"] for b in bookings)
    assert [b["id"] for b in bookings if b["status"] == "cancelled" and b["cancelTime"]] == [FIRST + 5]
    assert any(b["departure"] < TODAY.isoformat() for b in bookings)
    assert all(b["modifiedTime"] <= utc(NOW) for b in bookings)
    assert make_sandbox(seed_demo=False).ids([("arrivalFrom", "2000-01-01")]) == []


def test_unknown_routes_and_methods(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    assert_unsuccessful(sandbox.get("/v2/nope"), 404)
    assert_unsuccessful(sandbox.client.put("/v2/bookings", headers={"token": sandbox.token}), 405)
