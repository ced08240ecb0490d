"""A Cloudbeds API v1.3 stand-in for `make run`, demos and tests, built from Cloudbeds' OpenAPI description.

Served under /api/v1.3/{method}, like https://api.cloudbeds.com/api/v1.3/, so the hub's client works
against it with only the base URL changed. Auth: header `x-api-key` (the demo key, `cbat_...`); bodies of
POSTs are form-encoded. Answers are `{"success": true, "data", "count", "total"}`; errors are
`{"success": false, "message"}`, on HTTP 200 where Cloudbeds does so (unknown reservation, bad filter),
401 for a bad key.

GET  getReservationsWithRateDetails  modifiedFrom, reservationID, pageNumber, pageSize (<= 100)
GET  getReservations                 status, modifiedFrom, pageNumber, pageSize (<= 100); rows carry balance only
GET  getReservation                  reservationID -> data (total, balance, assigned rooms, guestList)
GET  getRooms                        pageNumber, pageSize (default 20) -> data [{propertyID, rooms}]
GET  getHousekeepingStatus           pageNumber, pageSize -> data [{roomID, roomCondition, roomOccupied, ...}]
GET  getGuestList                    pageNumber, pageSize (<= 100) -> data {guestID: guest}
GET  getGuest                        guestID -> data (a merged guest: isMerged + newGuestID)
POST postWebhook                     object, action, endpointUrl -> data {subscriptionID}

Rate limit: 5 requests per second per key (sliding window); over it, 429 with Retry-After: 1. A key
that exceeds it `suspend_after` times within a minute is suspended for `suspend_seconds` (every call 403,
success false), as Cloudbeds warns it may do.

Control (not Cloudbeds):
POST /_control          {"fail_with": 503, "times": 2, "retry_after": 1, "after": 0} (API calls fail, after
                        `after` more have succeeded)
                        {"success_false": 1} (next calls answer 200 with success false)
                        {"rate_limit": 5, "suspend_after": 20, "suspend_seconds": 60}
POST /_control/reservation  {"reservationID", ...fields} modify or add a reservation (then POST its webhook
                            {"version", "event": "reservation/status_changed", "timestamp", "propertyID",
                            "reservationID"} to every subscribed endpoint, unsigned like Cloudbeds')
GET  /_calls            API requests received (method, path, status), oldest first
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from infra.local.sandbox import cloudbeds_data as demo

BASE_PATH = "/api/v1.3"
MAX_PAGE_SIZE = 100


def _page(request: Request, default_size: int) -> tuple[int, int]:
    try:
        number = max(1, int(request.values.get("pageNumber", 1)))
        size = min(MAX_PAGE_SIZE, max(1, int(request.values.get("pageSize", default_size))))
    except ValueError:
        raise _Failure(200, "pageNumber and pageSize must be integers") from None
    return number, size


class _Failure(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class CloudbedsSandbox:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.api_keys = {demo.DEMO_API_KEY: demo.DEMO_PROPERTY_ID}
        self.reservations = {r["reservationID"]: r for r in demo.reservations()}
        self.rooms = demo.rooms()
        self.housekeeping = demo.housekeeping(self.rooms)
        self.guests = {g["guestID"]: g for g in (demo.guest(i) for i in range(demo.RESERVATION_COUNT))}
        # One merged guest: the duplicate profile points at the guest it became
        merged = {**demo.guest(0), "guestID": "799999", "isMerged": True, "newGuestID": demo.guest(0)["guestID"]}
        self.guests[merged["guestID"]] = merged
        self.subscriptions: list[dict[str, str]] = []
        self.calls: list[dict[str, Any]] = []
        self.failures: deque[tuple[int, float | None]] = deque()
        self.fail_after = 0  # calls to let through before the queued failures start
        self.success_false = 0
        self.rate_limit = 5
        self.suspend_after = 20
        self.suspend_seconds = 60.0
        self.recent: dict[str, deque[float]] = {}
        self.violations: dict[str, deque[float]] = {}
        self.suspended_until: dict[str, float] = {}

    # --- WSGI ---------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/_"):
            return self._control(request)
        if not path.startswith(BASE_PATH + "/"):
            return _json(404, {"success": False, "message": "Not found"})
        method = path[len(BASE_PATH) + 1 :]
        try:
            with self.lock:
                self._admit(request)
                body = self._method(request, method)
            status, headers = 200, {}
        except _Failure as failure:
            body, status, headers = {"success": False, "message": failure.message}, failure.status, failure.headers
        with self.lock:
            self.calls.append({"method": request.method, "path": method, "status": status, "at": time.time()})
        return _json(status, body, headers)

    def _admit(self, request: Request) -> None:
        key = request.headers.get("x-api-key", "")
        if key not in self.api_keys:
            raise _Failure(401, "Invalid API key")
        now = self.clock()
        if self.suspended_until.get(key, 0) > now:
            raise _Failure(403, "API key suspended for exceeding the rate limit")
        window = self.recent.setdefault(key, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.rate_limit:
            strikes = self.violations.setdefault(key, deque())
            strikes.append(now)
            while strikes and strikes[0] <= now - 60.0:
                strikes.popleft()
            if len(strikes) >= self.suspend_after:
                self.suspended_until[key] = now + self.suspend_seconds
            raise _Failure(429, "Rate limit exceeded", {"Retry-After": "1"})
        window.append(now)
        if self.failures and self.fail_after > 0:
            self.fail_after -= 1
        elif self.failures:
            status, retry_after = self.failures.popleft()
            headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
            raise _Failure(status, f"Injected failure {status}", headers)
        if self.success_false:
            self.success_false -= 1
            raise _Failure(200, "Injected error: success false")

    # --- API methods ----------------------------------------------------------------------------------

    def _method(self, request: Request, method: str) -> dict[str, Any]:
        handlers: dict[str, Callable[[Request], dict[str, Any]]] = {
            "getReservationsWithRateDetails": self._rate_details,
            "getReservations": self._reservations,
            "getReservation": self._reservation,
            "getRooms": self._rooms,
            "getHousekeepingStatus": self._housekeeping,
            "getGuestList": self._guest_list,
            "getGuest": self._guest,
            "postWebhook": self._post_webhook,
        }
        handler = handlers.get(method)
        if handler is None:
            raise _Failure(404, f"Unknown method {method[:40]}")
        if (method == "postWebhook") != (request.method == "POST"):
            raise _Failure(405, "Method not allowed")
        return handler(request)

    def _filtered(self, request: Request) -> list[dict[str, Any]]:
        rows = sorted(self.reservations.values(), key=lambda r: r["reservationID"])
        if since := request.values.get("modifiedFrom"):
            rows = [r for r in rows if r["dateModified"] >= since]
        if status := request.values.get("status"):
            rows = [r for r in rows if r["status"] == status]
        if wanted := request.values.get("reservationID"):
            ids = set(wanted.split(","))
            rows = [r for r in rows if r["reservationID"] in ids]
        return rows

    @staticmethod
    def _paged(rows: list[Any], number: int, size: int) -> dict[str, Any]:
        page = rows[(number - 1) * size : number * size]
        return {"success": True, "data": copy.deepcopy(page), "count": len(page), "total": len(rows)}

    def _rate_details(self, request: Request) -> dict[str, Any]:
        return self._paged(self._filtered(request), *_page(request, MAX_PAGE_SIZE))

    def _reservations(self, request: Request) -> dict[str, Any]:
        keep = (
            "propertyID",
            "reservationID",
            "dateCreated",
            "dateModified",
            "status",
            "guestID",
            "startDate",
            "endDate",
            "balance",
            "sourceName",
            "sourceID",
            "guestName",
            "adults",
            "children",
        )
        rows = []
        for r in self._filtered(request):
            main = next(iter(r["guestList"].values()))
            flat = {
                **r,
                "guestName": main["guestName"],
                "startDate": r["reservationCheckIn"],
                "endDate": r["reservationCheckOut"],
                "adults": "2",
                "children": "0",
                "sourceID": r["source"]["sourceID"],
            }
            rows.append({k: flat[k] for k in keep})
        return self._paged(rows, *_page(request, MAX_PAGE_SIZE))

    def _reservation(self, request: Request) -> dict[str, Any]:
        row = self.reservations.get(request.values.get("reservationID", ""))
        if row is None:
            raise _Failure(200, "Reservation not found")
        main = next(iter(row["guestList"].values()))
        data = {
            "propertyID": row["propertyID"],
            "reservationID": row["reservationID"],
            "status": row["status"],
            "guestName": main["guestName"],
            "guestEmail": main["guestEmail"],
            "guestList": row["guestList"],
            "dateCreated": row["dateCreated"],
            "dateModified": row["dateModified"],
            "source": row["sourceName"],
            "sourceID": row["source"]["sourceID"],
            "total": row["total"],
            "balance": row["balance"],
            "startDate": row["reservationCheckIn"],
            "endDate": row["reservationCheckOut"],
            "assigned": [
                {
                    "roomID": r["roomID"],
                    "roomName": r["roomName"],
                    "roomTypeName": r["roomTypeName"],
                    "startDate": r["roomCheckIn"],
                    "endDate": r["roomCheckOut"],
                }
                for r in row["rooms"]
            ],
            "unassigned": [],
        }
        return {"success": True, "data": copy.deepcopy(data)}

    def _rooms(self, request: Request) -> dict[str, Any]:
        number, size = _page(request, 20)
        page = self.rooms[(number - 1) * size : number * size]
        return {
            "success": True,
            "data": [{"propertyID": demo.DEMO_PROPERTY_ID, "rooms": copy.deepcopy(page)}],
            "count": 1,
            "total": 1,
        }

    def _housekeeping(self, request: Request) -> dict[str, Any]:
        return self._paged(self.housekeeping, *_page(request, MAX_PAGE_SIZE))

    def _guest_list(self, request: Request) -> dict[str, Any]:
        number, size = _page(request, MAX_PAGE_SIZE)
        rows = sorted(self.guests.values(), key=lambda g: g["guestID"])
        page = rows[(number - 1) * size : number * size]
        return {
            "success": True,
            "data": {g["guestID"]: copy.deepcopy(g) for g in page},
            "count": len(page),
            "total": len(rows),
        }

    def _guest(self, request: Request) -> dict[str, Any]:
        row = self.guests.get(request.values.get("guestID", ""))
        if row is None:
            raise _Failure(200, "Guest not found")
        data = {
            "firstName": row["guestFirstName"],
            "lastName": row["guestLastName"],
            "email": row["guestEmail"],
            "phone": row["guestPhone"],
            "country": row["guestCountry"],
            "isMerged": bool(row.get("isMerged")),
            "newGuestID": row.get("newGuestID"),
        }
        return {"success": True, "data": data}

    def _post_webhook(self, request: Request) -> dict[str, Any]:
        if request.mimetype != "application/x-www-form-urlencoded":
            raise _Failure(200, "Body must be form-encoded")
        fields = {k: request.form.get(k, "") for k in ("object", "action", "endpointUrl")}
        if not all(fields.values()):
            raise _Failure(200, "object, action and endpointUrl are required")
        subscription = {**fields, "subscriptionID": f"sub-{len(self.subscriptions) + 1}"}
        self.subscriptions.append(subscription)
        return {"success": True, "data": {"subscriptionID": subscription["subscriptionID"]}}

    # --- control ------------------------------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        if request.path == "/_calls":
            with self.lock:
                return _json(200, {"calls": list(self.calls)})
        body = request.get_json(silent=True) or {}
        if request.path == "/_control":
            with self.lock:
                if "fail_with" in body:
                    self.failures.extend(
                        [(int(body["fail_with"]), body.get("retry_after"))] * int(body.get("times", 1))
                    )
                    self.fail_after = int(body.get("after", 0))
                self.success_false += int(body.get("success_false", 0))
                for name in ("rate_limit", "suspend_after"):
                    if name in body:
                        setattr(self, name, int(body[name]))
                if "suspend_seconds" in body:
                    self.suspend_seconds = float(body["suspend_seconds"])
                if body.get("reset"):
                    self.calls.clear()
                    self.failures.clear()
                    self.recent.clear()
                    self.violations.clear()
                    self.suspended_until.clear()
            return _json(200, {"ok": True})
        if request.path == "/_control/reservation":
            reservation_id = str(body.get("reservationID", ""))
            with self.lock:
                base = self.reservations.get(reservation_id) or demo.reservation(len(self.reservations))
                self.reservations[reservation_id] = {**base, **body}
                targets = [s["endpointUrl"] for s in self.subscriptions if s["object"] == "reservation"]
            event = {
                "version": "1.0",
                "event": "reservation/status_changed",
                "timestamp": time.time(),
                "propertyID": demo.DEMO_PROPERTY_ID,
                "reservationID": reservation_id,
            }
            delivered = [_deliver(url, event) for url in targets]
            return _json(200, {"ok": True, "webhooks": delivered})
        return _json(404, {"error": "unknown control path"})


def _deliver(url: str, event: dict[str, Any]) -> int | str:
    try:
        return requests.post(url, json=event, timeout=5).status_code
    except requests.RequestException as error:
        return type(error).__name__


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, mimetype="application/json")


def create_app() -> CloudbedsSandbox:
    return CloudbedsSandbox()
