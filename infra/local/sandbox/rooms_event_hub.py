"""A Rooms Event Hub stand-in (the seed's "Rooms Event Hub Integration"), for `make run`, demos and tests.

POST /v1/webhooks/zezamiiPass/reservation/<reservationId>
        body {propertyId, arrivalDate, departureDate, lockId, guestName, guestPhone, guestEmail}
        -> 200 {"success": true, "pincode": "123456", "reservationId": ...}; the same reservationId
        always gets the same pincode; a body without the required fields -> 400 {"success": false, "error"}
POST /_control   {"fail_with": 503, "times": 2}       answer the next 2 reservations with 503
                 {"delay_seconds": 15, "times": 1}    hold the next answer 15 s (a client times out first)
                 {"times": 0}                          back to normal
GET  /_calls     every reservation request received, with the status and pincode answered (JSON list,
                 oldest first), for tests and demos

The sandbox keeps everything in memory; a restart forgets the pincodes.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

BASE_PATH = "/v1/webhooks"
WEBHOOK_PATH = "zezamiiPass/reservation"
REQUIRED_FIELDS = ("propertyId", "arrivalDate", "departureDate", "lockId", "guestName", "guestEmail")
MAX_BODY_BYTES = 64 * 1024
MAX_DELAY_SECONDS = 120


@dataclass
class _Misbehaviour:
    remaining: int = 0
    fail_with: int | None = None
    delay_seconds: float = 0.0


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    pincodes: dict[str, str] = field(default_factory=dict)  # reservationId -> pincode
    calls: list[dict[str, Any]] = field(default_factory=list)
    misbehaviour: _Misbehaviour = field(default_factory=_Misbehaviour)


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class RoomsEventHub:
    """The WSGI app."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.state = _State()
        self._stopping = threading.Event()  # set on shutdown so a delayed answer does not hold it up
        self.routes = Map(
            [
                Rule(f"{BASE_PATH}/{WEBHOOK_PATH}/<reservation_id>", endpoint="reservation", methods=["POST"]),
                Rule("/_control", endpoint="control", methods=["POST"]),
                Rule("/_calls", endpoint="calls", methods=["GET"]),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, args = self.routes.bind_to_environ(environ).match()
            response: Response = getattr(self, f"on_{endpoint}")(request, **args)
        except NotFound:
            response = _json(404, {"success": False, "error": "No such route"})
        except HTTPException as error:
            response = _json(error.code or 400, {"success": False, "error": error.description or "Bad request"})
        return response(environ, start_response)

    def stop(self) -> None:
        self._stopping.set()

    # --- endpoints ---------------------------------------------------------------------------------

    def on_reservation(self, request: Request, reservation_id: str) -> Response:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _json(413, {"success": False, "error": "Payload too large"})
        body = request.get_json(silent=True)
        call: dict[str, Any] = {"reservationId": reservation_id, "body": body, "received_at": self.clock()}
        with self.state.lock:
            self.state.calls.append(call)
            misbehaviour = self.state.misbehaviour
            act = misbehaviour.remaining > 0
            if act:
                misbehaviour.remaining -= 1
            fail_with, delay = (misbehaviour.fail_with, misbehaviour.delay_seconds) if act else (None, 0.0)
        if delay:
            self._stopping.wait(delay)
        response = self._answer(reservation_id, body, fail_with)
        with self.state.lock:
            call["status"] = response.status_code
            call["pincode"] = (response.get_json(silent=True) or {}).get("pincode")
        return response

    def _answer(self, reservation_id: str, body: Any, fail_with: int | None) -> Response:
        if fail_with is not None:
            return _json(fail_with, {"success": False, "error": f"Simulated failure (HTTP {fail_with})"})
        if not isinstance(body, dict):
            return _json(400, {"success": False, "error": "Body must be a JSON object"})
        missing = [name for name in REQUIRED_FIELDS if not isinstance(body.get(name), str) or not body[name]]
        if missing:
            return _json(400, {"success": False, "error": f"Missing fields: {', '.join(missing)}"})
        with self.state.lock:
            pincode = self.state.pincodes.setdefault(reservation_id, f"{secrets.randbelow(10**6):06d}")
        return _json(200, {"success": True, "pincode": pincode, "reservationId": reservation_id})

    def on_control(self, request: Request) -> Response:
        command = request.get_json(silent=True)
        if not isinstance(command, dict):
            return _json(400, {"success": False, "error": "Expected {fail_with?, delay_seconds?, times}"})
        times = command.get("times", 1)
        fail_with = command.get("fail_with")
        delay = command.get("delay_seconds", 0)
        if not isinstance(times, int) or times < 0:
            return _json(400, {"success": False, "error": "times must be a count >= 0"})
        if fail_with is not None and (not isinstance(fail_with, int) or not 400 <= fail_with <= 599):
            return _json(400, {"success": False, "error": "fail_with must be an HTTP status 400-599"})
        if not isinstance(delay, int | float) or not 0 <= delay <= MAX_DELAY_SECONDS:
            return _json(400, {"success": False, "error": f"delay_seconds must be 0-{MAX_DELAY_SECONDS}"})
        with self.state.lock:
            self.state.misbehaviour = _Misbehaviour(remaining=times, fail_with=fail_with, delay_seconds=float(delay))
        return _json(200, {"success": True, "message": f"Next {times} reservations misbehave"})

    def on_calls(self, request: Request) -> Response:
        with self.state.lock:
            return _json(200, list(self.state.calls))


def create_app(*, clock: Callable[[], float] = time.time) -> RoomsEventHub:
    """The sandbox as a WSGI app (serve it with werkzeug.serving.make_server)."""
    return RoomsEventHub(clock=clock)


# --- Demo data -------------------------------------------------------------------------------------------

DEMO_ORG = "demo-org"
DEMO_PROPERTY_ID = "z71owzgoNUxJtxOC"  # the seed's (formerly hard-coded) property id
DEMO_RESERVATION_PREFIX = "SAMPLE"


def seed_rooms_demo(base_url: str, organisation_id: str = DEMO_ORG) -> Any:
    """Register the demo organisation's Rooms integration, pointing at this sandbox at `base_url`
    (e.g. http://127.0.0.1:4100). The environment must already point the hub at moto."""
    from bookinghub.registry.logic.registry import register_rooms_integration

    return register_rooms_integration(
        organisation_id=organisation_id,
        name="Zezamii Pass (local sandbox)",
        base_url=f"{base_url.rstrip('/')}{BASE_PATH}",
        webhook_path=WEBHOOK_PATH,
        property_id=DEMO_PROPERTY_ID,
        reservation_id_prefix=DEMO_RESERVATION_PREFIX,
        integration_id="demo-rooms-event-hub",
    )
