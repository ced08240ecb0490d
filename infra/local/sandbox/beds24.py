"""A Beds24 API v2 stand-in, for `make run`, demos, tests and the Beds24 benchmark. It speaks the documented v2
protocol (server path /v2), so the hub's Beds24 client works against it with only the base URL changed.

GET    /v2/authentication/token  header refreshToken -> 200 {"token", "expiresIn": 86400}; unknown -> 400
GET    /v2/bookings              header token; filters propertyId, id, roomId, status (repeatable; default all
                                 but cancelled), arrival[From|To], departure[From|To], modifiedFrom/To, searchString,
                                 includeInfoItems, includeInvoiceItems, page. Without a date or id filter only
                                 upcoming bookings (departure >= today). -> {"success", "type": "booking", "count",
                                 "pages": {"nextPageExists", "nextPageLink"}, "data"}, ordered by id
POST   /v2/bookings              JSON array; an element with id modifies, without creates -> 201 [{"success": true,
                                 "new"|"modified": {...}} | {"success": false, "errors": [{"field", "message"}]}]
DELETE /v2/bookings?id=..        -> 201 [{"success": true, "deleted": {"id"}}]
GET    /v2/properties            ?id=..&includeAllRooms=true -> {"success", "type": "property", "data"} with roomTypes

A missing, unknown or expired token is 401; bad input 400; both as {"success": false, "type": "error", "code",
"error"}. Every /v2 answer carries X-FiveMinCreditLimit, X-FiveMinCreditLimit-Remaining,
X-FiveMinCreditLimit-ResetsIn and X-RequestCost; each authenticated request costs 1 credit (a bookings page, a
token), and a spent budget answers 429 until the 5-minute window resets.

Webhooks: after every create, modify, cancel and delete the "Webhooks - bookings" payload {"timeStamp", "booking",
"infoItems", "invoiceItems", "retries"} (+ "deleted": true) is POSTed, unsigned like Beds24's, to the configured
URL with the configured headers, from a background thread, with retries.

Control (not Beds24):
POST /_control              {"fail_with": 503, "times": 2} | {"delay_seconds": 5, "times": 1} (next API calls)
                            {"credits": {"limit": 100, "remaining": 0, "resets_in": 30}}  set the budget
POST /_control/generate     {"count": 10000, "property_id": 12345}  add deterministic bookings (no webhooks)
POST /_control/webhook      {"url": "http://...?token=..." | null, "headers": {...}}  the webhook target
POST /_control/reset-calls  forget /_calls and /_webhooks
GET  /_calls                API requests received (method, path, query, status, cost), oldest first
GET  /_webhooks             webhook delivery attempts (url, event, bookingId, attempt, status, error, payload)

Everything is in memory; a restart forgets it.
"""

from __future__ import annotations

import copy
import hmac
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from infra.local.sandbox.beds24_data import (
    DEMO_PROPERTY_ID,
    DEMO_REFRESH_TOKEN,
    DEMO_ROOM_IDS,
    DEMO_ROOM_TYPES,
    FIRST_BOOKING_ID,
    MAX_RECORDS,
    BadRequest,
    BookingQuery,
    check_booking,
    demo_bookings,
    demo_items,
    flag,
    generate_bookings,
    int_list,
    is_int,
    iso_time,
    local_today,
    make_property,
    parse_booking_changes,
    parse_booking_query,
    render,
)
from infra.local.sandbox.beds24_webhooks import WebhookDispatcher, WebhookSender

__all__ = ["DEMO_PROPERTY_ID", "DEMO_REFRESH_TOKEN", "DEMO_ROOM_IDS", "Beds24Sandbox", "WebhookSender", "create_app"]

TOKEN_TTL_SECONDS = 86400
WINDOW_SECONDS = 300
REQUEST_COST = 1
MAX_BODY_BYTES = 1024 * 1024
MAX_DELAY_SECONDS = 120
MAX_GENERATE = 200_000


@dataclass
class _Credits:
    limit: int
    window_start: float
    used: int = 0

    def roll(self, now: float) -> None:
        if now >= self.window_start + WINDOW_SECONDS:
            self.window_start, self.used = now, 0

    def headers(self, now: float, cost: int) -> dict[str, str]:
        return {
            "X-FiveMinCreditLimit": str(self.limit),
            "X-FiveMinCreditLimit-Remaining": str(max(self.limit - self.used, 0)),
            "X-FiveMinCreditLimit-ResetsIn": str(max(int(self.window_start + WINDOW_SECONDS - now + 0.999), 0)),
            "X-RequestCost": str(cost),
        }


@dataclass
class _Misbehaviour:
    remaining: int = 0
    fail_with: int | None = None
    delay_seconds: float = 0.0


@dataclass
class _Match:  # one query's matching bookings, kept while a client pages through them
    query: BookingQuery
    version: int
    bookings: list[dict[str, Any]] = field(default_factory=list)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


def _unsuccessful(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "type": "error", "code": code, "error": message}


def _control_error(message: str) -> Response:
    return _json(400, {"success": False, "error": message})


class Beds24Sandbox:
    """The WSGI app."""

    def __init__(
        self,
        *,
        refresh_token: str,
        clock: Callable[[], float],
        webhook_url: str | None,
        webhook_headers: dict[str, str] | None,
        page_size: int,
        credit_limit: int,
        seed_demo: bool,
        sender: WebhookSender | None,
    ) -> None:
        self.refresh_token = refresh_token
        self.clock = clock
        self.page_size = page_size
        self.webhook_url = webhook_url
        self.webhook_headers = dict(webhook_headers or {})
        self.lock = threading.Lock()
        self.tokens: dict[str, float] = {}  # access token -> expiry
        self.credits = _Credits(limit=credit_limit, window_start=clock())
        self.misbehaviour = _Misbehaviour()
        self.calls: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDS)
        # Ids only grow, so the dict's insertion order is Beds24's id order
        self.bookings: dict[int, dict[str, Any]] = {}
        self.items: dict[str, dict[int, list[dict[str, Any]]]] = {"infoItems": {}, "invoiceItems": {}}
        self.properties: dict[int, dict[str, Any]] = {}
        self.rooms: dict[int, tuple[int, int]] = {}  # room id -> (property id, qty)
        self.next_id = FIRST_BOOKING_ID
        self.version = 0  # bumped on every booking change; invalidates the cached match
        self._match: _Match | None = None
        self._stopping = threading.Event()
        self.webhooks = WebhookDispatcher(sender)
        self._add_property(make_property(DEMO_PROPERTY_ID, "Demo Beach Hotel", DEMO_ROOM_TYPES))
        if seed_demo:
            self.items = demo_items(self.next_id, clock())
            self._add_bookings(demo_bookings(clock(), self.next_id))
        self.routes = Map(
            [
                Rule("/v2/authentication/token", endpoint="api_token", methods=["GET"]),
                Rule("/v2/bookings", endpoint="api_bookings_get", methods=["GET"]),
                Rule("/v2/bookings", endpoint="api_bookings_post", methods=["POST"]),
                Rule("/v2/bookings", endpoint="api_bookings_delete", methods=["DELETE"]),
                Rule("/v2/properties", endpoint="api_properties", methods=["GET"]),
                Rule("/_control", endpoint="control", methods=["POST"]),
                Rule("/_control/generate", endpoint="control_generate", methods=["POST"]),
                Rule("/_control/webhook", endpoint="control_webhook", methods=["POST"]),
                Rule("/_control/reset-calls", endpoint="control_reset_calls", methods=["POST"]),
                Rule("/_calls", endpoint="calls", methods=["GET"]),
                Rule("/_webhooks", endpoint="webhooks", methods=["GET"]),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, _ = self.routes.bind_to_environ(environ).match()
        except HTTPException as error:  # 404, 405
            response = _json(error.code or 400, _unsuccessful(error.code or 400, error.description or "Bad request"))
        else:
            if endpoint.startswith("api_"):
                response = self._api(request, endpoint)
            else:
                response = getattr(self, f"on_{endpoint}")(request)
        return response(environ, start_response)

    def stop(self) -> None:
        """Release a delayed answer and stop the webhook thread (pending deliveries are dropped)."""
        self._stopping.set()
        self.webhooks.stop()

    def wait_for_webhooks(self, timeout: float = 5.0) -> bool:
        """True once every queued webhook has been delivered or given up (for tests and demos)."""
        return self.webhooks.wait_idle(timeout)

    # --- the Beds24 API: misbehaviour, authentication, credits, then the endpoint --------------------------

    def _api(self, request: Request, endpoint: str) -> Response:
        query = request.args.to_dict(flat=False)
        call: dict[str, Any] = {"method": request.method, "path": request.path, "query": query}
        with self.lock:
            self.calls.append(call)
            misbehaviour = self.misbehaviour
            act = misbehaviour.remaining > 0
            if act:
                misbehaviour.remaining -= 1
            fail_with, delay = (misbehaviour.fail_with, misbehaviour.delay_seconds) if act else (None, 0.0)
        if delay:
            self._stopping.wait(delay)
        cost = 0
        if fail_with is not None:
            status, body = fail_with, _unsuccessful(fail_with, f"Simulated failure (HTTP {fail_with})")
        else:
            status, body, cost = self._authorised(request, endpoint)
        with self.lock:
            now = self.clock()
            self.credits.roll(now)
            headers = self.credits.headers(now, cost)
            call.update(status=status, cost=cost)
        return _json(status, body, headers)

    def _authorised(self, request: Request, endpoint: str) -> tuple[int, Any, int]:
        now = self.clock()
        with self.lock:
            self.credits.roll(now)
            if endpoint == "api_token":
                given = request.headers.get("refreshToken", "")
                if not hmac.compare_digest(given.encode(), self.refresh_token.encode()):
                    return 400, _unsuccessful(400, "Invalid refresh token"), 0
            elif problem := self._token_problem(request.headers.get("token"), now):
                return 401, _unsuccessful(401, problem), 0
            if self.credits.limit - self.credits.used < REQUEST_COST:
                return 429, _unsuccessful(429, "Credit limit exceeded, wait for the 5 minute window to reset"), 0
            self.credits.used += REQUEST_COST
        try:
            status, body = getattr(self, f"on_{endpoint}")(request)
        except BadRequest as problem:
            status, body = 400, _unsuccessful(400, str(problem))
        return status, body, REQUEST_COST

    def _token_problem(self, token: str | None, now: float) -> str | None:
        if not token:
            return "Missing token header"
        expiry = self.tokens.get(token)
        if expiry is None:
            return "Token not valid"
        if now >= expiry:
            del self.tokens[token]
            return "Token expired"
        return None

    def on_api_token(self, request: Request) -> tuple[int, Any]:
        token, now = secrets.token_urlsafe(32), self.clock()
        with self.lock:
            self.tokens = {key: expiry for key, expiry in self.tokens.items() if expiry > now}  # stay bounded
            self.tokens[token] = now + TOKEN_TTL_SECONDS
        return 200, {"token": token, "expiresIn": TOKEN_TTL_SECONDS}

    def on_api_bookings_get(self, request: Request) -> tuple[int, Any]:
        query = parse_booking_query(request.args, local_today(self.clock()))
        start = (query.page - 1) * self.page_size
        with self.lock:
            matches = self._matching(query)
            data = [self._render(booking, query) for booking in matches[start : start + self.page_size]]
        more = len(matches) > start + self.page_size
        pairs = [(key, value) for key, value in request.args.items(multi=True) if key != "page"]
        link = f"{request.base_url}?{urlencode([*pairs, ('page', str(query.page + 1))])}" if more else None
        pages = {"nextPageExists": more, "nextPageLink": link}
        return 200, {"success": True, "type": "booking", "count": len(data), "pages": pages, "data": data}

    def _matching(self, query: BookingQuery) -> list[dict[str, Any]]:
        # A client paging through 10,000 bookings would otherwise re-filter all of them for every page
        key = replace(query, page=1, include_info_items=False, include_invoice_items=False)
        if self._match is None or self._match.query != key or self._match.version != self.version:
            pool: Iterable[dict[str, Any]] = self.bookings.values()
            if key.ids is not None:  # look the ids up rather than scanning everything
                pool = [self.bookings[i] for i in sorted(key.ids) if i in self.bookings]
            found = [booking for booking in pool if key.matches(booking)]
            self._match = _Match(query=key, version=self.version, bookings=found)
        return self._match.bookings

    def _render(self, booking: dict[str, Any], query: BookingQuery | None = None) -> dict[str, Any]:
        rendered = render(booking)
        for kind, wanted in (("infoItems", query and query.include_info_items),
                             ("invoiceItems", query and query.include_invoice_items)):  # fmt: skip
            if wanted:
                rendered[kind] = [dict(item) for item in self.items[kind].get(booking["id"], [])]
        return rendered

    def on_api_bookings_post(self, request: Request) -> tuple[int, Any]:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            raise BadRequest("Body too large")
        try:
            elements = json.loads(request.get_data(as_text=True))
        except ValueError:
            raise BadRequest("Body is not valid JSON") from None
        if not isinstance(elements, list):
            raise BadRequest("Body must be a JSON array of bookings")
        stamp = iso_time(self.clock())
        with self.lock:
            outcomes = [self._post_one(element, stamp) for element in elements]
        for _, event in outcomes:
            if event is not None:
                self._send_webhook(*event)
        return 201, [result for result, _ in outcomes]

    def _post_one(self, element: Any, stamp: str) -> tuple[dict[str, Any], tuple[str, dict[str, Any]] | None]:
        """One element of a multi-post (under the lock): (its result, (event, webhook payload) or None)."""
        if not isinstance(element, dict):
            return {"success": False, "errors": [{"field": "", "message": "Each booking must be an object"}]}, None
        changes, errors, warnings = parse_booking_changes(element)
        booking_id = element.get("id")
        current = self.bookings.get(booking_id) if is_int(booking_id) else None
        if booking_id is not None and current is None:
            errors.append({"field": "id", "message": f"No booking with id {booking_id!r}"})
        if booking_id is None:
            missing = [name for name in ("roomId", "arrival", "departure") if name not in element]
            errors += [{"field": name, "message": f"{name} is required for a new booking"} for name in missing]
        merged = {**(current or {}), **changes}
        if not errors:
            errors += check_booking(merged, self.rooms)
        extra = {"warnings": warnings} if warnings else {}
        if errors:
            return {"success": False, "errors": errors, **extra}, None
        changed = {key: value for key, value in changes.items() if current is None or render(current)[key] != value}
        if not changed:
            return {"success": True, "modified": {"id": booking_id}, **extra}, None  # nothing to change
        if "status" in changed:  # cancelling stamps cancelTime; reinstating clears it
            merged["cancelTime"] = stamp if changed["status"] == "cancelled" else None
        cancelled = changed.get("status") == "cancelled"
        event = "created" if current is None else "cancelled" if cancelled else "modified"
        merged.update(propertyId=self.rooms[merged["roomId"]][0], modifiedTime=stamp)
        if current is None:
            merged = {"id": self.next_id, "status": "confirmed", "bookingTime": stamp, "cancelTime": None, **merged}
            self.next_id += 1
        self.bookings[merged["id"]] = merged
        self.version += 1
        result = {"new": render(merged)} if current is None else {"modified": {"id": merged["id"], **changes}}
        return {"success": True, **result, **extra}, (event, self._payload(merged))

    def on_api_bookings_delete(self, request: Request) -> tuple[int, Any]:
        ids = int_list(request.args, "id")
        if not ids:
            raise BadRequest("id is required")
        results: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        with self.lock:
            for booking_id in sorted(ids):
                if booking_id not in self.bookings:
                    results.append({"success": False, "errors": [{"field": "id", "message": "No such booking"}]})
                    continue
                events.append({**self._payload(self.bookings[booking_id]), "deleted": True})
                del self.bookings[booking_id]
                for per_booking in self.items.values():
                    per_booking.pop(booking_id, None)
                self.version += 1
                results.append({"success": True, "deleted": {"id": booking_id}})
        for payload in events:
            self._send_webhook("deleted", payload)
        return 201, results

    def on_api_properties(self, request: Request) -> tuple[int, Any]:
        ids = int_list(request.args, "id")
        flag(request.args, "includeAllRooms")  # validated; roomTypes are always included (one small property)
        with self.lock:
            data = [copy.deepcopy(p) for p in self.properties.values() if ids is None or p["id"] in ids]
        pages = {"nextPageExists": False, "nextPageLink": None}
        return 200, {"success": True, "type": "property", "count": len(data), "pages": pages, "data": data}

    # --- webhooks ----------------------------------------------------------------------------------------

    def _payload(self, booking: dict[str, Any]) -> dict[str, Any]:
        """The "Webhooks - bookings" body (under the lock): the booking as GET answers it, and its items."""
        booking_id = booking["id"]
        return {
            "timeStamp": iso_time(self.clock()),
            "booking": render(booking),
            "infoItems": [dict(item) for item in self.items["infoItems"].get(booking_id, [])],
            "invoiceItems": [dict(item) for item in self.items["invoiceItems"].get(booking_id, [])],
        }

    def _send_webhook(self, event: str, payload: dict[str, Any]) -> None:
        with self.lock:
            url, headers = self.webhook_url, dict(self.webhook_headers)
        if url:
            self.webhooks.enqueue(url, headers, event, payload)

    # --- control and inspection --------------------------------------------------------------------------

    def on_control(self, request: Request) -> Response:
        command = request.get_json(silent=True)
        if not isinstance(command, dict):
            return _control_error("Expected {fail_with?, delay_seconds?, times} and/or {credits}")
        credits = command.get("credits", {})
        if not isinstance(credits, dict):
            return _control_error("credits must be {limit, remaining, resets_in?}")
        budget: _Credits | None = None
        if credits:
            limit, remaining = credits.get("limit"), credits.get("remaining")
            resets_in = credits.get("resets_in", WINDOW_SECONDS)
            if not is_int(limit) or not is_int(remaining) or not 0 <= remaining <= limit:
                return _control_error("credits needs integers limit >= remaining >= 0")
            if not isinstance(resets_in, int | float) or not 0 < resets_in <= WINDOW_SECONDS:
                return _control_error(f"credits.resets_in must be 1-{WINDOW_SECONDS} seconds")
            # The window started (WINDOW - resets_in) seconds ago and has spent (limit - remaining)
            budget = _Credits(limit, self.clock() - WINDOW_SECONDS + resets_in, used=limit - remaining)
        times, fail_with, delay = command.get("times", 1), command.get("fail_with"), command.get("delay_seconds", 0)
        if not isinstance(times, int) or times < 0:
            return _control_error("times must be a count >= 0")
        if fail_with is not None and (not isinstance(fail_with, int) or not 400 <= fail_with <= 599):
            return _control_error("fail_with must be an HTTP status 400-599")
        if not isinstance(delay, int | float) or not 0 <= delay <= MAX_DELAY_SECONDS:
            return _control_error(f"delay_seconds must be 0-{MAX_DELAY_SECONDS}")
        with self.lock:
            if budget is not None:
                self.credits = budget
            if budget is None or {"times", "fail_with", "delay_seconds"} & command.keys():
                self.misbehaviour = _Misbehaviour(times, fail_with, float(delay))
        return _json(200, {"success": True})

    def on_control_generate(self, request: Request) -> Response:
        command = request.get_json(silent=True)
        count = command.get("count") if isinstance(command, dict) else None
        property_id = command.get("property_id", DEMO_PROPERTY_ID) if isinstance(command, dict) else None
        if not isinstance(count, int) or not 1 <= count <= MAX_GENERATE:
            return _control_error(f"Expected {{count: 1-{MAX_GENERATE}, property_id?}}")
        if not isinstance(property_id, int) or property_id < 1:
            return _control_error("property_id must be a positive integer")
        now = self.clock()
        with self.lock:
            if property_id not in self.properties:  # a second property, with room ids after the known ones
                first_room = max(self.rooms) + 1
                rooms = [(first_room + n, name, qty, kind) for n, (_, name, qty, kind) in enumerate(DEMO_ROOM_TYPES)]
                self._add_property(make_property(property_id, f"Generated property {property_id}", rooms))
            room_ids = [(room["id"], room["qty"]) for room in self.properties[property_id]["roomTypes"]]
            first_id = self.next_id
            self._add_bookings(generate_bookings(count, first_id=first_id, property_id=property_id,
                                                 rooms=room_ids, now=now))  # fmt: skip
        return _json(200, {"success": True, "generated": count, "firstId": first_id, "lastId": first_id + count - 1})

    def on_control_webhook(self, request: Request) -> Response:
        command = request.get_json(silent=True)
        if not isinstance(command, dict) or "url" not in command:
            return _control_error('Expected {"url": "http://..." or null, "headers"?: {...}}')
        url, headers = command["url"], command.get("headers", {})
        if url is not None and (not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https")):
            return _control_error("url must be an http(s) URL or null")
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            return _control_error("headers must map names to strings")
        with self.lock:
            self.webhook_url, self.webhook_headers = url, dict(headers)
        return _json(200, {"success": True, "url": url, "headers": sorted(headers)})  # names only

    def on_control_reset_calls(self, request: Request) -> Response:
        with self.lock:
            self.calls.clear()
        self.webhooks.clear()
        return _json(200, {"success": True})

    def on_calls(self, request: Request) -> Response:
        with self.lock:
            return _json(200, list(self.calls))

    def on_webhooks(self, request: Request) -> Response:
        return _json(200, self.webhooks.records())

    # --- state helpers (callers hold the lock, or run before the app serves) ------------------------------

    def _add_property(self, prop: dict[str, Any]) -> None:
        self.properties[prop["id"]] = prop
        self.rooms.update({room["id"]: (prop["id"], room["qty"]) for room in prop["roomTypes"]})

    def _add_bookings(self, bookings: Iterable[dict[str, Any]]) -> None:
        for booking in bookings:
            self.bookings[booking["id"]] = booking
            self.next_id = booking["id"] + 1
        self.version += 1


def create_app(
    *,
    refresh_token: str = DEMO_REFRESH_TOKEN,
    clock: Callable[[], float] = time.time,
    webhook_url: str | None = None,
    webhook_headers: dict[str, str] | None = None,
    page_size: int = 100,
    credit_limit: int = 100,
    seed_demo: bool = True,
    sender: WebhookSender | None = None,
) -> Beds24Sandbox:
    """The sandbox as a WSGI app (serve it with werkzeug.serving.make_server); call stop() when done."""
    return Beds24Sandbox(
        refresh_token=refresh_token,
        clock=clock,
        webhook_url=webhook_url,
        webhook_headers=webhook_headers,
        page_size=page_size,
        credit_limit=credit_limit,
        seed_demo=seed_demo,
        sender=sender,
    )
