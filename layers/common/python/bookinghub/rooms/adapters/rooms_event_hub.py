"""The Rooms Event Hub API (the seed's "Rooms Event Hub Integration"): the only code that calls it.

POST {base_url}/{webhook_path}/{reservationId} with the reservation as JSON; a success answers
`{"success": true, "pincode": "123456", "reservationId": "..."}`. Every outcome comes back as a
RoomsCall (never an exception), so the caller can log each one the same way.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from bookinghub.core.adapters.outbound import DestinationRefused, UnresolvableHost, new_session, send_pinned
from bookinghub.core.observability import trace_library
from bookinghub.core.urls import Resolver

if TYPE_CHECKING:
    import requests  # imported at the first call (~30 ms of init for the functions that import this)

CallStatus = Literal["success", "error", "timeout"]
_PINCODE = re.compile(r"^\d{4,12}$")
_MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class RoomsCall:
    status: CallStatus
    duration_ms: int
    http_status_code: int | None = None
    pincode: str | None = None  # only on success; the caller stores it encrypted and never logs it
    response: dict[str, Any] | None = None  # the parsed answer (unmasked: the caller masks it)
    response_text: str | None = None  # the start of an answer that is not a JSON object
    error_message: str | None = None


def reservation_url(base_url: str, webhook_path: str, reservation_id: str) -> str:
    return f"{base_url.rstrip('/')}/{webhook_path.strip('/')}/{quote(reservation_id, safe='')}"


def reservation_body(
    *,
    property_id: str,
    arrival_date: str,
    departure_date: str,
    lock_id: str,
    guest_name: str,
    guest_phone: str | None,
    guest_email: str,
) -> dict[str, Any]:
    """The seed's request body, field for field."""
    return {
        "propertyId": property_id,
        "arrivalDate": arrival_date,
        "departureDate": departure_date,
        "lockId": lock_id,
        "guestName": guest_name,
        "guestPhone": guest_phone or "",
        "guestEmail": guest_email,
    }


@cache
def _session() -> requests.Session:
    trace_library("requests")  # before the first call: Rooms calls show up as X-Ray subsegments
    return new_session(pool_connections=4, pool_maxsize=8)  # pins each attempt to the address checked


def create_reservation(
    url: str,
    body: Mapping[str, Any],
    *,
    reservation_id: str,
    timeout_seconds: float,
    headers: Mapping[str, str] | None = None,
    allow_insecure_loopback: bool = False,
    session: requests.Session | None = None,
    resolver: Resolver | None = None,
) -> RoomsCall:
    """One POST, checked and pinned like every outbound call (bookinghub.core.adapters.outbound): the URL
    must be https (loopback http only where allowed) and resolve to public addresses now, and the request
    goes to the address checked. `session` must mount the pinning adapter (new_session())."""
    import requests

    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        response = send_pinned(
            session or _session(),
            "POST",
            url,
            data=json.dumps(dict(body), separators=(",", ":")).encode("utf-8"),
            headers={"Content-Type": "application/json", "User-Agent": "bookinghub-rooms/1", **(headers or {})},
            timeout=timeout_seconds,
            stream=True,
            allow_insecure_loopback=allow_insecure_loopback,
            resolver=resolver,
        )
    except DestinationRefused as error:
        return RoomsCall("error", 0, error_message=f"Rooms URL rejected: {error}")
    except UnresolvableHost as error:
        return RoomsCall("error", 0, error_message=f"Rooms host unreachable: {error}")
    except requests.Timeout as error:
        return RoomsCall(
            "timeout", elapsed(), error_message=f"no answer within {timeout_seconds:g} s ({type(error).__name__})"
        )
    except requests.RequestException as error:
        return RoomsCall("error", elapsed(), error_message=f"{type(error).__name__}: {error}")
    with response:
        try:
            raw = _read_bounded(response)
        except requests.RequestException as error:
            # requests reports a read timeout inside the body as a ConnectionError("... timed out")
            status: CallStatus = "timeout" if "timed out" in str(error).lower() else "error"
            return RoomsCall(status, elapsed(), response.status_code, error_message=f"answer cut short: {error}")
    return interpret_answer(response.status_code, raw, elapsed(), reservation_id)


def _read_bounded(response: requests.Response) -> bytes:
    """At most _MAX_RESPONSE_BYTES of the answer: a misbehaving server cannot exhaust our memory."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(8192):
        chunks.append(chunk)
        size += len(chunk)
        if size >= _MAX_RESPONSE_BYTES:
            break
    return b"".join(chunks)[:_MAX_RESPONSE_BYTES]


def interpret_answer(status_code: int, raw: bytes, duration_ms: int, reservation_id: str) -> RoomsCall:
    """A Rooms answer -> success with a pincode, or an error saying why (pure, for tests)."""
    try:
        parsed = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError):
        parsed = None
    answer = parsed if isinstance(parsed, dict) else None
    text = None if answer is not None else raw[:500].decode("utf-8", errors="replace")

    def error(message: str) -> RoomsCall:
        return RoomsCall("error", duration_ms, status_code, response=answer, response_text=text, error_message=message)

    detail = answer.get("error") if answer is not None else None
    detail = detail[:200] if isinstance(detail, str) else None
    if not 200 <= status_code < 300:
        return error(f"HTTP {status_code}" + (f": {detail}" if detail else ""))
    if answer is None:
        return error(f"HTTP {status_code} without a JSON object")
    if answer.get("success") is not True:
        return error(f"Rooms refused the reservation: {detail or 'success is not true'}")
    pincode = answer.get("pincode")
    if not isinstance(pincode, str) or not _PINCODE.match(pincode):
        return error("Rooms answered success without a valid pincode")
    answered_id = answer.get("reservationId")
    if answered_id is not None and answered_id != reservation_id:
        return error("Rooms answered for another reservationId")
    return RoomsCall("success", duration_ms, status_code, pincode=pincode, response=answer)
