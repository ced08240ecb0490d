"""Source websites' webhook endpoints (seed 002 "Sync Back to Source"), for `make run`, demos and tests.

POST /<website_id>/api/webhooks/onebooking  verified with clients.onebooking_client.verify_webhook, as a
                                            website would: the seed's X-Webhook-Signature and/or Standard
                                            Webhooks' webhook-signature, every scheme present must match,
                                            timestamps within 5 minutes; kept once per webhook id
                                            (webhook-id, else X-Webhook-Id), duplicates counted
GET  /<website_id>/deliveries               what that website kept (JSON list, oldest first)
GET  /<website_id>/bookings                 its bookings with every update applied (updated_fields/data)
GET  /_received                             {"deliveries": [...], "attempts": [...]} for every website;
                                            attempts list every request with its answer (retries, 401s)
DELETE /_received                           forget everything received
POST /_control                              misbehave on command (receiver_control.py), optionally for one
                                            website: {"mode": "fail", "status": 503, "count": 2,
                                            "website_id": "test-website"}; the older
                                            {"website_id", "fail_with", "times"} form still works
GET  /_control                              the misbehaviour in force

`secrets` maps website id -> webhook secret. It is read on every request, not copied, so a runner can
register websites after the app was created.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from clients.onebooking_client import (
    TimestampOutOfTolerance,
    WebhookPayloadError,
    WebhookVerificationError,
    apply_updated_fields,
    verify_webhook,
)
from infra.local.sandbox.receiver_control import Control, ControlError, Misbehaviour, Recorder

TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 1024 * 1024


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


def _refuse(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return _json(status, {"success": False, "message": message}, headers)


class WebsiteReceiver:
    """The WSGI app; one instance plays every website named in `secrets`."""

    def __init__(
        self,
        secrets: MutableMapping[str, str],
        *,
        tolerance_seconds: int = TOLERANCE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secrets = secrets
        self.tolerance_seconds = tolerance_seconds
        self.clock = clock
        self.control = Control(scope_key="website_id")
        self.recorder = Recorder(clock=clock)
        self.bookings: dict[str, dict[str, dict[str, Any]]] = {}  # website -> source_booking_id -> fields
        self.routes = Map(
            [
                Rule("/_control", endpoint="control", methods=["POST"]),
                Rule("/_control", endpoint="control_state", methods=["GET"]),
                Rule("/_received", endpoint="received", methods=["GET"]),
                Rule("/_received", endpoint="forget", methods=["DELETE"]),
                Rule("/<website_id>/api/webhooks/onebooking", endpoint="webhook", methods=["POST"]),
                Rule("/<website_id>/deliveries", endpoint="deliveries", methods=["GET"]),
                Rule("/<website_id>/bookings", endpoint="bookings", methods=["GET"]),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, args = self.routes.bind_to_environ(environ).match()
            handler = getattr(self, f"on_{endpoint}")
            response: Response = handler(request, **args)
        except NotFound:
            response = _refuse(404, "No such route")
        except HTTPException as error:  # 405 and friends
            response = _refuse(error.code or 400, error.description or "Bad request")
        return response(environ, start_response)

    def stop(self) -> None:
        """Release requests held by the slow/timeout modes (the runtime calls this on shutdown)."""
        self.control.stop()

    # --- the webhook -------------------------------------------------------------------------------

    def on_webhook(self, request: Request, website_id: str) -> Response:
        secret = self.secrets.get(website_id)
        if secret is None:
            return _refuse(404, f"Unknown website {website_id}")
        claimed_id = request.headers.get("webhook-id") or request.headers.get("X-Webhook-Id")
        if (misbehaviour := self.control.take(website_id)) is not None:
            refused = self._misbehave(misbehaviour)
            if refused is not None:
                self.recorder.attempt(website_id, claimed_id, refused.status_code, f"simulated {misbehaviour.mode}")
                return refused
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return self._answer(website_id, claimed_id, _refuse(413, "Payload too large"), "too large")
        payload = request.get_data()
        try:
            verified = verify_webhook(
                request.headers, payload, secret, self.tolerance_seconds, now=self.clock(), parse_json=True
            )
        except TimestampOutOfTolerance as error:
            return self._answer(
                website_id, claimed_id, _refuse(401, f"Timestamp outside the tolerance window: {error}")
            )
        except WebhookVerificationError as error:
            return self._answer(website_id, claimed_id, _refuse(401, f"Invalid signature: {error}"))
        except WebhookPayloadError:
            return self._answer(website_id, claimed_id, _refuse(400, "Body is not JSON"))
        body = verified.payload
        duplicate = self.recorder.deliver(
            website_id,
            verified.webhook_id,
            {
                "webhook_id_signed": verified.id_is_signed,
                "schemes": list(verified.schemes),
                "signature": request.headers.get("X-Webhook-Signature", ""),
                "timestamp": request.headers.get("X-Webhook-Timestamp", ""),
                "standard_signature": request.headers.get("webhook-signature", ""),
                "standard_timestamp": request.headers.get("webhook-timestamp", ""),
                "raw_body": payload.decode("utf-8", errors="replace"),
                "body": body,
            },
        )
        if duplicate:  # kept once, but counted: a demo or test can tell a sender that posts twice
            answer = _json(200, {"success": True, "message": "Booking updated", "duplicate": True})
            return self._answer(website_id, verified.webhook_id, answer, "duplicate")
        self._apply(website_id, body)
        return self._answer(
            website_id, verified.webhook_id, _json(200, {"success": True, "message": "Booking updated"})
        )

    def _misbehave(self, misbehaviour: Misbehaviour) -> Response | None:
        """The simulated answer, or None to carry on normally (after a delay in slow mode)."""
        mode = misbehaviour.mode
        if mode == "slow":
            self.control.hold(misbehaviour.delay_seconds)
            return None
        if mode == "timeout":
            self.control.hold(misbehaviour.hang_seconds)
            return _refuse(504, "Simulated timeout")
        if mode == "gone":
            return _refuse(410, "Simulated: this webhook endpoint is gone")
        if mode == "rate_limit":
            return _refuse(429, "Simulated rate limit", {"Retry-After": str(misbehaviour.retry_after)})
        return _refuse(misbehaviour.status, f"Simulated failure (HTTP {misbehaviour.status})")

    def _answer(self, website_id: str, webhook_id: str | None, response: Response, outcome: str = "") -> Response:
        note = outcome or ("accepted" if response.status_code == 200 else response.get_json()["message"])
        self.recorder.attempt(website_id, webhook_id, response.status_code, note)
        return response

    def _apply(self, website_id: str, body: Any) -> None:
        """What a website does with a verified update (clients/README.md): apply the changed fields."""
        if not isinstance(body, dict) or not isinstance(body.get("source_booking_id"), str):
            return
        booking_id = body["source_booking_id"]
        with self.recorder.lock:
            site = self.bookings.setdefault(website_id, {})
            try:
                site[booking_id] = apply_updated_fields(site.get(booking_id, {}), body)
            except WebhookPayloadError:
                return  # kept as received; there is nothing to apply

    # --- inspection and control --------------------------------------------------------------------

    def on_deliveries(self, request: Request, website_id: str) -> Response:
        return _json(200, self.recorder.snapshot(website_id)["deliveries"])

    def on_bookings(self, request: Request, website_id: str) -> Response:
        with self.recorder.lock:
            return _json(200, dict(self.bookings.get(website_id, {})))

    def on_received(self, request: Request) -> Response:
        return _json(200, self.recorder.snapshot())

    def on_forget(self, request: Request) -> Response:
        self.recorder.clear()
        with self.recorder.lock:
            self.bookings.clear()
        return _json(200, {"success": True, "message": "Forgot everything received"})

    def on_control(self, request: Request) -> Response:
        try:
            message = self.control.apply(request.get_json(force=True, silent=True))
        except ControlError as error:
            return _refuse(400, str(error))
        return _json(200, {"success": True, "message": message})

    def on_control_state(self, request: Request) -> Response:
        return _json(200, self.control.state())


def create_app(
    secrets: MutableMapping[str, str],
    *,
    tolerance_seconds: int = TOLERANCE_SECONDS,
    clock: Callable[[], float] = time.time,
) -> WebsiteReceiver:
    """The receiver as a WSGI app (serve it with werkzeug.serving.make_server)."""
    return WebsiteReceiver(secrets, tolerance_seconds=tolerance_seconds, clock=clock)
