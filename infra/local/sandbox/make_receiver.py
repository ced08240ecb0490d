"""A Make.com-style custom webhook (seed 003's MAKE_WEBHOOK_URL), for `make run`, demos and tests.

POST /<hook>           x-make-apikey must be one of the hook's API keys (default: LOCAL_DEMO_API_KEY), else
                       401; then 200 text/plain "Accepted", as Make answers. Bodies are kept per hook, once
                       per webhook id (webhook-id, else X-Webhook-Id, else the payload's event_id), duplicates
                       counted. A hook given a signing secret also verifies the hub's signatures like a
                       website (clients.onebooking_client.verify_webhook: every scheme present must match);
                       without one, the signature headers are kept unchecked ("verified": null).
PUT  /_hooks/<hook>    {"api_keys": ["..."], "signing_secret": "whsec_..." | null} configures one hook
GET  /_hooks           every configured hook, "*" for the rest (no keys or secrets shown)
GET  /_received        {"deliveries": [...], "attempts": [...]}; ?hook=<hook> for one hook
DELETE /_received      forget everything received
POST /_control         receiver_control.py's modes, scoped by "hook", plus {"mode": "queue_full"}: Make's
                       400 "Queue is full." (retried by the hub). "gone" is Make's 410 "There is no scenario
                       listening for this webhook." (the hub parks the endpoint).
GET  /_control         the misbehaviour in force
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from clients.onebooking_client import WebhookError, verify_webhook
from infra.local.sandbox.receiver_control import MODES, Control, ControlError, Misbehaviour, Recorder

LOCAL_DEMO_API_KEY = "local-demo-make-apikey"  # a LOCAL DEMO value, meaningless anywhere else
DEMO_HOOK = "local-demo-scenario"  # the hook the banner shows; any other path works the same
API_KEY_HEADER = "x-make-apikey"
MAX_BODY_BYTES = 5 * 1024 * 1024  # Make's limit for a webhook payload
TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Hook:
    api_keys: tuple[str, ...]
    signing_secret: str | None = None


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(text, status=status, mimetype="text/plain", headers=headers)


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class MakeReceiver:
    """The WSGI app: every path is a hook; unconfigured hooks take the default API key."""

    def __init__(self, *, api_key: str = LOCAL_DEMO_API_KEY, clock: Callable[[], float] = time.time) -> None:
        self.default = Hook(api_keys=(api_key,))
        self.hooks: dict[str, Hook] = {}
        self.clock = clock
        self.control = Control(scope_key="hook", modes=(*MODES, "queue_full"))
        self.recorder = Recorder(clock=clock)
        self.routes = Map(
            [
                Rule("/_control", endpoint="control", methods=["POST"]),
                Rule("/_control", endpoint="control_state", methods=["GET"]),
                Rule("/_received", endpoint="received", methods=["GET"]),
                Rule("/_received", endpoint="forget", methods=["DELETE"]),
                Rule("/_hooks", endpoint="hooks", methods=["GET"]),
                Rule("/_hooks/<hook>", endpoint="configure", methods=["PUT"]),
                Rule("/<hook>", endpoint="webhook", methods=["POST"]),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, args = self.routes.bind_to_environ(environ).match()
            response: Response = getattr(self, f"on_{endpoint}")(request, **args)
        except NotFound:
            response = _text(404, "Not found")
        except HTTPException as error:
            response = _text(error.code or 400, error.description or "Bad request")
        return response(environ, start_response)

    def stop(self) -> None:
        self.control.stop()

    # --- the webhook -------------------------------------------------------------------------------

    def on_webhook(self, request: Request, hook: str) -> Response:
        claimed_id = request.headers.get("webhook-id") or request.headers.get("X-Webhook-Id")
        if (misbehaviour := self.control.take(hook)) is not None:
            refused = self._misbehave(misbehaviour)
            if refused is not None:
                self.recorder.attempt(hook, claimed_id, refused.status_code, f"simulated {misbehaviour.mode}")
                return refused
        config = self.hooks.get(hook, self.default)
        if not _key_ok(request.headers.get(API_KEY_HEADER, ""), config.api_keys):
            return self._answer(hook, claimed_id, _text(401, "Unauthorized"), "wrong or missing x-make-apikey")
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return self._answer(hook, claimed_id, _text(413, "Payload too large"), "too large")
        raw = request.get_data()
        verified: bool | None = None
        schemes: list[str] = []
        if config.signing_secret:
            try:
                result = verify_webhook(
                    request.headers, raw, config.signing_secret, TOLERANCE_SECONDS, now=self.clock(), parse_json=False
                )
            except WebhookError as error:
                return self._answer(hook, claimed_id, _text(401, f"Invalid signature: {error}"), str(error))
            verified, schemes = True, list(result.schemes)
        body = _parsed(raw)
        webhook_id = claimed_id or (str(body["event_id"]) if isinstance(body, dict) and "event_id" in body else None)
        duplicate = self.recorder.deliver(
            hook,
            webhook_id,
            {
                "verified": verified,
                "schemes": schemes,
                "headers": {k: v for k, v in request.headers.items() if _kept_header(k)},
                "raw_body": raw.decode("utf-8", errors="replace"),
                "body": body,
            },
        )
        return self._answer(hook, webhook_id, _text(200, "Accepted"), "duplicate" if duplicate else "accepted")

    def _misbehave(self, misbehaviour: Misbehaviour) -> Response | None:
        mode = misbehaviour.mode
        if mode == "slow":
            self.control.hold(misbehaviour.delay_seconds)
            return None
        if mode == "timeout":
            self.control.hold(misbehaviour.hang_seconds)
            return _text(504, "Gateway Timeout")
        if mode == "gone":
            return _text(410, "There is no scenario listening for this webhook.")
        if mode == "queue_full":
            return _text(400, "Queue is full.")
        if mode == "rate_limit":
            return _text(429, "Too many requests", {"Retry-After": str(misbehaviour.retry_after)})
        return _text(misbehaviour.status, f"Simulated failure (HTTP {misbehaviour.status})")

    def _answer(self, hook: str, webhook_id: str | None, response: Response, outcome: str) -> Response:
        self.recorder.attempt(hook, webhook_id, response.status_code, outcome)
        return response

    # --- inspection and control --------------------------------------------------------------------

    def on_configure(self, request: Request, hook: str) -> Response:
        command = request.get_json(force=True, silent=True)
        if not isinstance(command, dict):
            return _json(400, {"success": False, "message": "Expected {api_keys?, signing_secret?}"})
        keys = command.get("api_keys", list(self.default.api_keys))
        secret = command.get("signing_secret")
        if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
            return _json(400, {"success": False, "message": "api_keys must be a list of non-empty strings"})
        if secret is not None and (not isinstance(secret, str) or not secret):
            return _json(400, {"success": False, "message": "signing_secret must be a non-empty string or null"})
        self.hooks[hook] = Hook(api_keys=tuple(keys), signing_secret=secret)
        return _json(200, {"success": True, "message": f"Hook {hook} configured"})

    def on_hooks(self, request: Request) -> Response:
        shown = {
            name: {"api_keys": len(h.api_keys), "verifies_signatures": bool(h.signing_secret)}
            for name, h in {"*": self.default, **self.hooks}.items()
        }
        return _json(200, shown)

    def on_received(self, request: Request) -> Response:
        return _json(200, self.recorder.snapshot(request.args.get("hook")))

    def on_forget(self, request: Request) -> Response:
        self.recorder.clear()
        return _json(200, {"success": True, "message": "Forgot everything received"})

    def on_control(self, request: Request) -> Response:
        try:
            message = self.control.apply(request.get_json(force=True, silent=True))
        except ControlError as error:
            return _json(400, {"success": False, "message": str(error)})
        return _json(200, {"success": True, "message": message})

    def on_control_state(self, request: Request) -> Response:
        return _json(200, self.control.state())


def _key_ok(given: str, keys: tuple[str, ...]) -> bool:
    matches = [hmac.compare_digest(given.encode(), key.encode()) for key in keys]  # constant time, each
    return bool(given) and any(matches)


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def _kept_header(name: str) -> bool:
    lowered = name.lower()
    return lowered != API_KEY_HEADER and (lowered.startswith(("webhook-", "x-")) or lowered == "content-type")


def create_app(*, api_key: str = LOCAL_DEMO_API_KEY, clock: Callable[[], float] = time.time) -> MakeReceiver:
    return MakeReceiver(api_key=api_key, clock=clock)
