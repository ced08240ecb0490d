"""A source website's webhook endpoint (seed 002 "Sync Back to Source"), for `make run`, demos and tests.

POST /<website_id>/api/webhooks/onebooking  verifies the signature as the seed's verifyWebhookSignature
                                            (HMAC-SHA256 of "{timestamp}.{payload}", "sha256=" + hex),
                                            within a 5 minute timestamp tolerance; dedupes by X-Webhook-Id
GET  /<website_id>/deliveries               what was received (JSON list, oldest first)
POST /_control                              {"website_id": ..., "fail_with": 500, "times": 2}: answer the
                                            next deliveries with that status (retry demos); times 0 clears

`secrets` maps website id -> webhook secret. It is read on every request, not copied, so a runner can
register websites after the app was created.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 1024 * 1024


def expected_signature(secret: str, timestamp: str, payload: str) -> str:
    """The seed's verifyWebhookSignature, computed on the receiving side."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


@dataclass
class _Failure:
    status: int
    remaining: int


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    deliveries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seen_ids: dict[str, set[str]] = field(default_factory=dict)  # X-Webhook-Id values kept, per website
    failures: dict[str, _Failure] = field(default_factory=dict)


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _refuse(status: int, message: str) -> Response:
    return _json(status, {"success": False, "message": message})


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
        self.state = _State()
        self.routes = Map(
            [
                Rule("/_control", endpoint="control", methods=["POST"]),
                Rule("/<website_id>/api/webhooks/onebooking", endpoint="webhook", methods=["POST"]),
                Rule("/<website_id>/deliveries", endpoint="deliveries", methods=["GET"]),
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

    # --- endpoints ---------------------------------------------------------------------------------

    def on_webhook(self, request: Request, website_id: str) -> Response:
        secret = self.secrets.get(website_id)
        if secret is None:
            return _refuse(404, f"Unknown website {website_id}")
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _refuse(413, "Payload too large")
        payload = request.get_data(as_text=True)
        signature = request.headers.get("X-Webhook-Signature", "")
        timestamp = request.headers.get("X-Webhook-Timestamp", "")
        if problem := self._timestamp_problem(timestamp):
            return _refuse(401, problem)
        # Constant-time comparison, unlike the seed's `===`: a receiver must not leak the signature by timing
        if not hmac.compare_digest(expected_signature(secret, timestamp, payload).encode(), signature.encode()):
            return _refuse(401, "Invalid signature")
        try:
            body = json.loads(payload)
        except ValueError:
            return _refuse(400, "Body is not JSON")
        webhook_id = request.headers.get("X-Webhook-Id", "")
        with self.state.lock:
            failure = self.state.failures.get(website_id)
            if failure and failure.remaining > 0:
                failure.remaining -= 1
                return _refuse(failure.status, f"Simulated failure ({failure.remaining} more)")
            received = self.state.deliveries.setdefault(website_id, [])
            if webhook_id and webhook_id in self.state.seen_ids.setdefault(website_id, set()):
                # Kept once, but counted: a demo or test can tell a sender that posts twice
                next(d for d in received if d["webhook_id"] == webhook_id)["times_received"] += 1
                return _json(200, {"success": True, "message": "Booking updated", "duplicate": True})
            if webhook_id:
                self.state.seen_ids[website_id].add(webhook_id)
            received.append(
                {
                    "webhook_id": webhook_id,
                    "times_received": 1,
                    "received_at": self.clock(),
                    "signature": signature,
                    "timestamp": timestamp,
                    "raw_body": payload,
                    "body": body,
                }
            )
        return _json(200, {"success": True, "message": "Booking updated"})

    def on_deliveries(self, request: Request, website_id: str) -> Response:
        with self.state.lock:
            return _json(200, list(self.state.deliveries.get(website_id, [])))

    def on_control(self, request: Request) -> Response:
        command = request.get_json(silent=True)
        if not isinstance(command, dict) or not isinstance(command.get("website_id"), str):
            return _refuse(400, "Expected {website_id, fail_with, times}")
        status, times = command.get("fail_with", 500), command.get("times", 1)
        if not isinstance(status, int) or not 300 <= status <= 599 or not isinstance(times, int) or times < 0:
            return _refuse(400, "fail_with must be an HTTP status 300-599 and times a count >= 0")
        with self.state.lock:
            self.state.failures[command["website_id"]] = _Failure(status=status, remaining=times)
        return _json(200, {"success": True, "message": f"Next {times} deliveries answer {status}"})

    def _timestamp_problem(self, timestamp: str) -> str | None:
        if not timestamp.isdigit():
            return "Missing or malformed X-Webhook-Timestamp"
        if abs(self.clock() - int(timestamp)) > self.tolerance_seconds:
            return "Timestamp outside the tolerance window"
        return None


def create_app(
    secrets: dict[str, str], *, tolerance_seconds: int = TOLERANCE_SECONDS, clock: Callable[[], float] = time.time
) -> WebsiteReceiver:
    """The receiver as a WSGI app (serve it with werkzeug.serving.make_server)."""
    return WebsiteReceiver(secrets, tolerance_seconds=tolerance_seconds, clock=clock)
