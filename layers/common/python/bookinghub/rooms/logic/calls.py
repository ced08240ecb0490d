"""What the hub keeps of a Rooms Event Hub call: the integration log row, with PII and the pincode masked.

Masking is by key (mask_pii: emails, phones, `pincode`), plus the guest's name reduced to initials, plus
any run of 4+ digits in free text (error messages, a non-JSON answer: it could quote a pincode).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from bookinghub.core.clock import iso_now
from bookinghub.core.security import mask_name, mask_pii, mask_text
from bookinghub.registry.dal import integrations as integration_store
from bookinghub.registry.models import Integration, IntegrationCallLog
from bookinghub.rooms.adapters.rooms_event_hub import RoomsCall

OPERATION = "create_reservation"
_DIGIT_RUN = re.compile(r"\d{4,}")


def mask_free_text(text: str) -> str:
    return _DIGIT_RUN.sub("***", mask_text(text))


# The guest's name, and the free-text fields of an answer (which could quote anything)
_MASK_BY_KEY = {
    **dict.fromkeys(("guestname", "guest_name", "name"), mask_name),
    **dict.fromkeys(("error", "message", "detail"), mask_free_text),
}


def mask_payload(payload: Any) -> Any:
    """A JSON-like structure fit for a log: emails, phones, names, pincodes and other secrets masked."""
    return mask_pii(payload, by_key=_MASK_BY_KEY)


def call_log(
    integration: Integration,
    call: RoomsCall,
    *,
    request_body: dict[str, Any],
    pass_id: str,
    reservation_id: str,
    attempt: int,
) -> IntegrationCallLog:
    if call.response is not None:
        response: dict[str, Any] | None = mask_payload(call.response)
    elif call.response_text:
        response = {"text": mask_free_text(call.response_text)}
    else:
        response = None
    return IntegrationCallLog(
        id=str(uuid.uuid4()),
        integration_id=integration.id,
        integration_type=integration.integration_type,
        organisation_id=integration.organisation_id,
        operation=OPERATION,
        status=call.status,
        http_status_code=call.http_status_code,
        duration_ms=call.duration_ms,
        error_message=mask_free_text(call.error_message) if call.error_message else None,
        request_payload=mask_payload(request_body),
        response_payload=response,
        pass_id=pass_id,
        reservation_id=reservation_id,
        attempt=attempt,
        created_at=iso_now(),
    )


# The integration's last_used_at is stamped at most this often (the seed's monitoring reads it as "in use
# lately"; a write per call would double the call's cost: issue 11)
LAST_USED_RESOLUTION_SECONDS = 300


def record_call(log: IntegrationCallLog, integration: Integration) -> None:
    integration_store.put_call_log(log)
    last = integration.last_used_at
    if last is None or _seconds_between(last, log.created_at) >= LAST_USED_RESOLUTION_SECONDS:
        integration_store.touch_integration(integration, log.created_at)


def _seconds_between(earlier: str, later: str) -> float:
    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (parse(later) - parse(earlier)).total_seconds()
