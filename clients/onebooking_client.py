"""OneBooking hub client for source websites (seed 002, "Source Website Implementation").

One file, Python 3.11+ and `requests` only: copy it into a website's code base. See clients/README.md.

- `OneBookingClient.push_booking(payload)`: POST /api/bookings/sync with X-API-Key, retried after
  1 s, 5 s, 30 s and 5 min (the seed's RETRY_DELAYS) on connection errors, timeouts, 408, 429 and 5xx,
  honouring Retry-After; never on another 4xx (BookingRejected carries the hub's error `code`).
  Every attempt sends the same bytes, and the hub treats an identical redelivery as a no-op, so a retry
  after a lost answer cannot create a second booking.
- `verify_webhook(headers, body, secret)`: checks the hub's sync-back webhook. Two signature schemes:
    seed 002          X-Webhook-Timestamp, X-Webhook-Signature: sha256=<hex HMAC-SHA256 of "{ts}.{body}">
    Standard Webhooks webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of
                      "{id}.{ts}.{body}">
  Every scheme present must verify and at least one must be present (see README for why), each timestamp
  within `tolerance` seconds either side of now; comparisons are constant-time. During a secret rotation
  the hub signs with both secrets: several `sha256=` values (comma-separated) and `v1,` values
  (space-separated); one match per scheme is enough.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

__all__ = [
    "RETRY_DELAYS",
    "BookingRejected",
    "InvalidWebhookSecret",
    "MalformedSignatureHeaders",
    "MissingSignature",
    "OneBookingClient",
    "OneBookingError",
    "PushResult",
    "SignatureMismatch",
    "SyncUnavailable",
    "TimestampOutOfTolerance",
    "UnexpectedResponse",
    "VerifiedWebhook",
    "WebhookError",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "apply_updated_fields",
    "standard_webhooks_key",
    "verify_webhook",
]

log = logging.getLogger("onebooking_client")

RETRY_DELAYS: tuple[float, ...] = (1.0, 5.0, 30.0, 300.0)  # seconds; the seed's [1000, 5000, 30000, 300000] ms
SYNC_PATH = "/api/bookings/sync"
DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read (API Gateway answers within 29 s)
_RETRYABLE_STATUS = {408, 429}  # plus every 5xx
_USER_AGENT = "onebooking-client/1"


# --- Errors -----------------------------------------------------------------------------------------


class OneBookingError(Exception):
    """Base of every error push_booking raises."""


class BookingRejected(OneBookingError):
    """The hub refused this booking (a 3xx or a 4xx other than 408/429): the same bytes will be refused again.

    `code` is the hub's error code (AUTH_FAILED, INVALID_PAYLOAD, DUPLICATE_BOOKING, WEBSITE_NOT_FOUND,
    BOOKING_NOT_FOUND, PAYLOAD_TOO_LARGE, ...) or HTTP_<status> when the answer carried none.
    """

    def __init__(self, status_code: int, code: str, error: str, body: Any = None) -> None:
        super().__init__(f"OneBooking rejected the booking: HTTP {status_code} {code}: {error}")
        self.status_code, self.code, self.error, self.body = status_code, code, error, body


class SyncUnavailable(OneBookingError):
    """Every attempt failed for a reason worth retrying later: keep the booking in a failed-sync queue.

    Also raised before the schedule ends when the hub's Retry-After asks for a longer wait than
    `max_retry_after` (then `retry_after` says when to try again).
    """

    def __init__(
        self, message: str, *, attempts: int, status_code: int | None, code: str | None, retry_after: float | None
    ) -> None:
        super().__init__(message)
        self.attempts, self.status_code, self.code, self.retry_after = attempts, status_code, code, retry_after


class UnexpectedResponse(OneBookingError):
    """A 2xx that is not the hub's sync answer (no JSON `booking_id`): something else answered the URL."""


# --- Pushing bookings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PushResult:
    booking_id: str
    message: str
    attempts: int
    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True)
class _Retry:
    reason: str
    status_code: int | None = None
    code: str | None = None
    retry_after: float | None = None


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """The request body, serialised once so every retry sends identical bytes."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date (RFC 9110); None if absent or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OneBookingClient:
    """Pushes bookings to the hub. One instance per website (it holds the API key and a connection pool)."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        max_retry_after: float | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        parts = urlsplit(api_url)
        # Seed 002 "HTTPS Only": the API key travels in a header. Plain http only to this machine.
        if not parts.hostname or not (
            parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname))
        ):
            raise ValueError(f"api_url must be an https URL (http only to localhost), got {api_url!r}")
        if not api_key.strip():
            raise ValueError("api_key is empty")
        self.url = api_url.rstrip("/") + SYNC_PATH
        self.api_key = api_key.strip()
        self.retry_delays = tuple(float(d) for d in retry_delays)
        # Waiting longer than the schedule's longest step is left to the caller's failed-sync queue
        self.max_retry_after = max_retry_after if max_retry_after is not None else max(self.retry_delays, default=0)
        self.timeout = timeout
        self.sleep = sleep
        self.session = session or requests.Session()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **options: Any) -> OneBookingClient:
        """The seed's environment variables: ONEBOOKING_API_URL and ONEBOOKING_API_KEY."""
        env = os.environ if env is None else env
        return cls(env["ONEBOOKING_API_URL"], env["ONEBOOKING_API_KEY"], **options)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> OneBookingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def push_booking(self, payload: Mapping[str, Any] | bytes) -> PushResult:
        """Send one booking event (seed 002's body, as a dict or already-encoded JSON bytes).

        Returns the hub's answer; raises BookingRejected (do not retry), SyncUnavailable (retry later:
        the hub dedupes, so the same payload can be pushed again at any time) or UnexpectedResponse.
        """
        body = payload if isinstance(payload, bytes) else encode_payload(payload)
        attempt = 0
        while True:
            attempt += 1
            outcome = self._attempt(body, attempt)
            if isinstance(outcome, PushResult):
                return outcome
            if attempt > len(self.retry_delays):
                raise SyncUnavailable(
                    f"booking sync failed after {attempt} attempts: {outcome.reason}",
                    attempts=attempt,
                    status_code=outcome.status_code,
                    code=outcome.code,
                    retry_after=outcome.retry_after,
                )
            if outcome.retry_after is not None and outcome.retry_after > self.max_retry_after:
                raise SyncUnavailable(
                    f"the hub asked to wait {outcome.retry_after:.0f} s ({outcome.reason}); try again later",
                    attempts=attempt,
                    status_code=outcome.status_code,
                    code=outcome.code,
                    retry_after=outcome.retry_after,
                )
            wait = max(self.retry_delays[attempt - 1], outcome.retry_after or 0.0)
            log.warning("booking sync attempt %d failed (%s); retrying in %.1f s", attempt, outcome.reason, wait)
            self.sleep(wait)

    def _attempt(self, body: bytes, attempt: int) -> PushResult | _Retry:
        headers = {"Content-Type": "application/json", "X-API-Key": self.api_key, "User-Agent": _USER_AGENT}
        try:
            response = self.session.post(
                self.url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as error:
            # No complete answer: the hub may or may not have stored it; the same bytes again are safe
            return _Retry(f"{type(error).__name__}: {error}")
        with response:
            answer = _json_or_none(response)
            code = answer.get("code") if isinstance(answer, dict) else None
            code = code if isinstance(code, str) else None
            status = response.status_code
            if 200 <= status < 300:
                if not isinstance(answer, dict) or not isinstance(answer.get("booking_id"), str):
                    raise UnexpectedResponse(f"HTTP {status} without a booking_id from {self.url}")
                return PushResult(answer["booking_id"], str(answer.get("message", "")), attempt, status, answer)
            if status >= 500 or status in _RETRYABLE_STATUS:
                retry_after = parse_retry_after(response.headers.get("Retry-After")) if status in (429, 503) else None
                return _Retry(f"HTTP {status}" + (f" {code}" if code else ""), status, code, retry_after)
            message = answer.get("error") if isinstance(answer, dict) else None
            text = message if isinstance(message, str) else response.reason or ""
            raise BookingRejected(status, code or f"HTTP_{status}", text, answer)


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


# --- Verifying the hub's webhooks ------------------------------------------------------------------


class WebhookError(Exception):
    """Base of the errors verify_webhook raises."""


class WebhookVerificationError(WebhookError):
    """The request is not an authentic, fresh webhook from the hub: answer 401 and do not process it."""


class MissingSignature(WebhookVerificationError):
    """Neither scheme's headers are present, or a scheme's headers are incomplete."""


class MalformedSignatureHeaders(WebhookVerificationError):
    """A timestamp that is not whole seconds, or a signature header with no readable value."""


class SignatureMismatch(WebhookVerificationError):
    """No signature of a present scheme matches: wrong secret, or the body/headers were changed."""

    def __init__(self, scheme: str) -> None:
        super().__init__(f"{scheme} signature does not match")
        self.scheme = scheme


class TimestampOutOfTolerance(WebhookVerificationError):
    """Signed correctly but too old (a replay?) or too far in the future (a skewed clock)."""


class WebhookPayloadError(WebhookError):
    """Authentic, but the body is not JSON: answer 400."""


class InvalidWebhookSecret(ValueError):
    """The configured secret cannot be used (empty)."""


SEED_SCHEME = "seed"  # X-Webhook-Signature / X-Webhook-Timestamp
STANDARD_SCHEME = "standard-webhooks"  # webhook-id / webhook-timestamp / webhook-signature
_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
_TIMESTAMP = re.compile(r"\d{1,12}")


class HeadersLike(Protocol):
    """Anything with items() of name/value pairs: a dict, requests' or werkzeug's or Django's headers."""

    def items(self) -> Iterable[tuple[str, str]]: ...


@dataclass(frozen=True)
class VerifiedWebhook:
    payload: Any  # the parsed JSON body (None when parse_json=False)
    schemes: tuple[str, ...]  # the schemes that were present and verified
    timestamp: int
    # `webhook-id` when the Standard Webhooks scheme verified (signed, so safe to dedupe on); otherwise the
    # hub's X-Webhook-Id header, which the seed's signature does not cover (id_is_signed False)
    webhook_id: str | None
    id_is_signed: bool


def standard_webhooks_key(secret: str) -> bytes:
    """The HMAC key of the Standard Webhooks scheme.

    `whsec_<base64>` (or bare base64), padding optional: the decoded bytes, exactly what the
    `standardwebhooks` library uses. Any other secret (e.g. `whsec_local_demo_x` or one with URL-safe
    `-`/`_` characters, which the library would misread or refuse): its UTF-8 bytes, what
    `standardwebhooks.Webhook(secret.encode())` uses. The hub derives its key the same way.
    """
    if not secret or secret == _SECRET_PREFIX:
        raise InvalidWebhookSecret("webhook secret is empty")
    encoded = secret.removeprefix(_SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    return key or secret.encode("utf-8")


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _secrets(secret: str | Sequence[str]) -> list[str]:
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or any(not s for s in secrets):
        raise InvalidWebhookSecret("webhook secret is empty")
    return secrets


def _parse_timestamp(value: str, header: str) -> int:
    if not _TIMESTAMP.fullmatch(value):
        raise MalformedSignatureHeaders(f"{header} must be whole seconds since the epoch")
    return int(value)


def _check_tolerance(stamp: int, header: str, now: float, tolerance: float) -> None:
    if stamp < now - tolerance:
        raise TimestampOutOfTolerance(f"{header} is {now - stamp:.0f} s old (tolerance {tolerance:.0f} s)")
    if stamp > now + tolerance:
        raise TimestampOutOfTolerance(f"{header} is {stamp - now:.0f} s in the future (tolerance {tolerance:.0f} s)")


def _verify_seed(signature: str, stamp: str, body: bytes, secrets: list[str]) -> None:
    candidates = [v.strip()[len("sha256=") :].lower() for v in signature.split(",") if v.strip().startswith("sha256=")]
    if not candidates:
        raise MalformedSignatureHeaders("X-Webhook-Signature has no sha256= value")
    message = stamp.encode() + b"." + body
    expected = [_hmac(s.encode("utf-8"), message).hex().encode() for s in secrets]
    # Every pair is compared (no early exit), in constant time
    matches = [hmac.compare_digest(e, c.encode()) for e in expected for c in candidates]
    if not any(matches):
        raise SignatureMismatch(SEED_SCHEME)


def _verify_standard(webhook_id: str, stamp: str, signature: str, body: bytes, secrets: list[str]) -> None:
    candidates = []
    for value in signature.split():
        version, _, encoded = value.partition(",")
        if version != "v1":
            continue  # other versions (v1a asymmetric) are not used by the hub
        try:
            candidates.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not candidates:
        raise MalformedSignatureHeaders("webhook-signature has no readable v1 value")
    message = f"{webhook_id}.{stamp}.".encode() + body
    expected = [_hmac(standard_webhooks_key(s), message) for s in secrets]
    matches = [hmac.compare_digest(e, c) for e in expected for c in candidates]
    if not any(matches):
        raise SignatureMismatch(STANDARD_SCHEME)


def verify_webhook(
    headers: HeadersLike | Mapping[str, str],
    body: bytes | str,
    secret: str | Sequence[str],
    tolerance: float = 300,
    *,
    now: float | None = None,
    parse_json: bool = True,
) -> VerifiedWebhook:
    """Verify a webhook from the hub; returns its payload or raises a WebhookError.

    `body` must be the raw request body, exactly as received (not re-serialised JSON). `secret` is the
    website's webhook secret; pass several to accept any of them (your own rotation). `now` is for tests.
    """
    secrets = _secrets(secret)
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    clock = time.time() if now is None else now
    seed_sig, seed_ts = lowered.get("x-webhook-signature"), lowered.get("x-webhook-timestamp")
    sw_id, sw_ts, sw_sig = lowered.get("webhook-id"), lowered.get("webhook-timestamp"), lowered.get("webhook-signature")
    seed_present = seed_sig is not None or seed_ts is not None
    standard_present = any(v is not None for v in (sw_id, sw_ts, sw_sig))
    if not seed_present and not standard_present:
        raise MissingSignature("no webhook signature headers (X-Webhook-Signature or webhook-signature)")

    schemes: list[str] = []
    stamps: list[int] = []
    if standard_present:
        if not (sw_id and sw_ts and sw_sig):
            raise MissingSignature("webhook-id, webhook-timestamp and webhook-signature must all be present")
        stamp = _parse_timestamp(sw_ts, "webhook-timestamp")
        _verify_standard(sw_id, sw_ts, sw_sig, raw, secrets)
        _check_tolerance(stamp, "webhook-timestamp", clock, tolerance)  # after the signature: it is authentic
        stamps.append(stamp)
        schemes.append(STANDARD_SCHEME)
    if seed_present:
        if not (seed_sig and seed_ts):
            raise MissingSignature("X-Webhook-Signature and X-Webhook-Timestamp must both be present")
        stamp = _parse_timestamp(seed_ts, "X-Webhook-Timestamp")
        _verify_seed(seed_sig, seed_ts, raw, secrets)
        _check_tolerance(stamp, "X-Webhook-Timestamp", clock, tolerance)
        stamps.append(stamp)
        schemes.append(SEED_SCHEME)

    payload: Any = None
    if parse_json:
        try:
            payload = json.loads(raw)
        except ValueError as error:
            raise WebhookPayloadError(f"body is not JSON: {error}") from None
    signed_id = sw_id if standard_present else None
    return VerifiedWebhook(
        payload=payload,
        schemes=tuple(schemes),
        timestamp=stamps[0],
        webhook_id=signed_id or lowered.get("x-webhook-id") or None,
        id_is_signed=signed_id is not None,
    )


def apply_updated_fields(record: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the website's booking `record` with a sync-back webhook applied.

    Only the names in `updated_fields` change, to their value in `data`; a field listed but absent
    from `data` (or null there) was cleared in the hub and becomes None.
    """
    fields = payload.get("updated_fields")
    data = payload.get("data") or {}
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields) or not isinstance(data, dict):
        raise WebhookPayloadError("updated_fields must be a list of names and data an object")
    updated = dict(record)
    for name in fields:
        updated[name] = data.get(name)
    return updated
