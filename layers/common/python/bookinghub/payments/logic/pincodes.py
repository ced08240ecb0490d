"""Door pincodes for passes, from the Rooms Event Hub (PassIssuance queue -> issue_pincodes).

For each queued pass:
- a pass that already has a pincode keeps it (the seed's fallback) and Rooms is not called again;
- otherwise POST the reservation (reservationId = the integration's prefix + the pass id, so a retry
  never creates a second reservation) and wait for the answer; every call writes an integration log;
- success: the lock code is stored encrypted (aws/envelope: AES-GCM under a cached KMS data key; one
  lock code per pass: conditional put); the pass is `issued` from then on (the lock code's presence is
  what says so: no second write). The pincode never reaches a log line or an integration log;
- failure or timeout: the message is postponed by the backoff of services/pincode_retry (SQS
  ChangeMessageVisibility) and retried for 24 h; after the last attempt the pass is marked pincode
  `failed` (it stays active: the payment is never refunded) and the message goes on to the DLQ, from
  which an operator can redrive it once Rooms is back.
A duplicate message is a no-op once the pass has its lock code, and cannot call Rooms while another
message of the pass is being handled: only the holder of the pass's claim calls Rooms. The webhook puts
the claim on the pass with the token its message carries, so the first receive of that message holds it
without a write; any other message (a retry after a failure, which gives the claim up, a redrive, a
duplicate) takes it with a conditional write, or is postponed while it is someone else's. A claim
outlives no Rooms call (it is taken for the call's timeout plus a margin), so a crash frees it soon.
(Powertools idempotency did this with two writes per message: issue 11.)
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from bookinghub.aws.envelope import seal
from bookinghub.aws.queues import message_field, postpone
from bookinghub.core.clock import iso_now
from bookinghub.core.observability import emit_metric, logger
from bookinghub.core.settings import get_settings
from bookinghub.payments.dal import pass_queue
from bookinghub.payments.dal import passes as pass_store
from bookinghub.payments.logic import pincode_retry
from bookinghub.payments.logic.lock_codes import LOCK_CODE_PURPOSE, PROVIDER
from bookinghub.registry.logic.registry import active_rooms_integration, secret_headers
from bookinghub.registry.models import Integration
from bookinghub.rooms.adapters import rooms_event_hub as rooms
from bookinghub.rooms.logic.calls import call_log, record_call

# A duplicate message that found the pass being handled looks again after this long
_IN_PROGRESS_RETRY_SECONDS = 30
_TIME_MARGIN_MS = 3000
# A claim covers one Rooms call (its timeout) and the writes around it
_CLAIM_MARGIN_SECONDS = 20


class PincodeRetry(Exception):
    """No pincode this time; the message must be tried again later (or, after the last attempt, go to the DLQ)."""


class PincodeSkipped(Exception):
    """Nothing to ask for now (unknown or inactive pass): the message is dropped, not retried (a pass
    activated later is queued again by the webhook)."""


class PincodeBusy(Exception):
    """Another message of the pass holds its claim: this one waits and looks again."""


@dataclass(frozen=True)
class QueuedPass:
    pass_id: str
    attempt: int  # the message's ApproximateReceiveCount
    queue_arn: str
    receipt_handle: str
    claim: str | None = None  # the token of the claim the webhook stored with the pass, if it sent one


def parse_message(body: str) -> str:
    return message_field(body, pass_queue.PASS_ID_ATTRIBUTE)


def parse_claim(body: str) -> str | None:
    data = json.loads(body)
    claim = data.get("claim") if isinstance(data, dict) else None
    return claim if isinstance(claim, str) and claim else None


def reservation_id(prefix: str, pass_id: str) -> str:
    """Stable per pass: the same pass always asks Rooms for the same reservation."""
    return f"{prefix}{pass_id.replace('-', '')}"


# --- The consumer ----------------------------------------------------------------------------------------


def handle_queued_pass(queued: QueuedPass) -> dict[str, Any]:
    """One PassIssuance message. Raises (after postponing the message) when it must be retried."""
    try:
        _ensure_time_for_one_call()
        return issue_pincode(queued)
    except PincodeSkipped as skipped:
        return {"outcome": "skipped", "reason": str(skipped)}
    except PincodeBusy:
        if pincode_retry.is_last_attempt(queued.attempt):
            return {"outcome": "in_progress_elsewhere"}  # the other handler owns the outcome
        postpone(queued.queue_arn, queued.receipt_handle, _IN_PROGRESS_RETRY_SECONDS)
        raise PincodeRetry("the pass is being handled by another invocation") from None
    except PincodeRetry:
        last = pincode_retry.is_last_attempt(queued.attempt)
        # After the last attempt the message should reach the DLQ at once, not after a backoff
        delay = 0 if last else pincode_retry.retry_delay(queued.attempt)
        postpone(queued.queue_arn, queued.receipt_handle, delay)
        logger.info(
            "pincode retry scheduled" if not last else "pincode retries exhausted: message goes to the DLQ",
            extra={"pass_id": queued.pass_id, "attempt": queued.attempt, "delay_seconds": delay},
        )
        raise


def issue_pincode(queued: QueuedPass) -> dict[str, Any]:
    pass_id, attempt = queued.pass_id, queued.attempt
    stored, lock_code = pass_store.get_pass_and_lock_code(pass_id, PROVIDER)
    if stored is None:
        logger.error("pincode requested for an unknown pass", extra={"pass_id": pass_id})
        raise PincodeSkipped("no such pass")
    if lock_code is not None:
        logger.info("pass already has a pincode: kept", extra={"pass_id": pass_id})
        return {"outcome": "already_issued"}
    if stored.get("status") != "active":
        logger.info("pincode not requested: pass is not active", extra={"pass_id": pass_id, "status": stored["status"]})
        raise PincodeSkipped(f"pass is {stored['status']}")
    _hold_claim(queued, stored)

    integration = active_rooms_integration(stored["organisation_id"])
    if integration is None:
        _failed_attempt(pass_id, attempt, "organisation has no active rooms_event_hub integration")
        raise PincodeRetry("no active Rooms integration")

    res_id = reservation_id(integration.credentials.reservation_id_prefix, pass_id)
    body = rooms.reservation_body(
        property_id=integration.config.property_id,
        arrival_date=stored["arrival_date"],
        departure_date=stored["departure_date"],
        lock_id=stored["lock_id"],
        guest_name=stored["guest_name"],
        guest_phone=stored.get("guest_phone"),
        guest_email=stored["guest_email"],
    )
    call = rooms.create_reservation(
        rooms.reservation_url(integration.config.base_url, integration.config.webhook_path, res_id),
        body,
        reservation_id=res_id,
        timeout_seconds=get_settings().rooms_timeout_seconds,
        headers=secret_headers(integration),
        allow_insecure_loopback=get_settings().allow_insecure_webhooks,
    )
    log = call_log(integration, call, request_body=body, pass_id=pass_id, reservation_id=res_id, attempt=attempt)
    record_call(log, integration)
    # The integration log row holds the call's details (reservation id, HTTP status, masked payloads); a
    # success is recorded by its metric's line alone (issue 11), a failure gets a log line of its own
    details = {"pass_id": pass_id, "attempt": attempt, "ms": call.duration_ms}
    if call.status != "success":
        logger.info(
            "rooms call failed",
            extra={**details, "status": call.status, "http_status": call.http_status_code, "error": log.error_message},
        )
    emit_metric(f"RoomsCall{call.status.title()}", provider="rooms", integration_type="pincode", metadata=details)

    if call.status == "success" and call.pincode:
        _store_lock_code(stored, integration, res_id, call.pincode)
        return {"outcome": "issued", "reservation_id": res_id}
    # A pincode stored meanwhile (a claim that ran out mid-call) is kept
    if pass_store.get_pass_and_lock_code(pass_id, PROVIDER)[1] is not None:
        return {"outcome": "already_issued"}
    _failed_attempt(pass_id, attempt, log.error_message or call.status)
    raise PincodeRetry(f"Rooms call {call.status}")


def _store_lock_code(stored: dict[str, Any], integration: Integration, res_id: str, pincode: str) -> None:
    pass_id = stored["id"]
    lock_code = {
        "provider_ref": res_id,
        "integration_id": integration.id,
        "code_encrypted": seal(pincode, purpose=LOCK_CODE_PURPOSE, owner=pass_id),
        "starts_at": stored["arrival_date"],
        "ends_at": stored["departure_date"],
        "created_at": iso_now(),
    }
    if pass_store.put_lock_code(pass_id, PROVIDER, lock_code) is not None:
        logger.info("pass already had a pincode: the stored one is kept", extra={"pass_id": pass_id})


def _hold_claim(queued: QueuedPass, stored: dict[str, Any]) -> None:
    """Make sure this message alone may call Rooms for the pass now; PincodeBusy if another one may."""
    now = int(time.time())
    needed = int(get_settings().rooms_timeout_seconds) + _CLAIM_MARGIN_SECONDS
    held_until = int(stored.get(pass_store.CLAIM_UNTIL) or 0)
    if (
        queued.claim
        and queued.attempt == 1
        and stored.get(pass_store.CLAIM) == queued.claim
        and held_until > now + needed
    ):
        return  # the first receive of the webhook's message: the claim is already its own
    if not pass_store.take_claim(queued.pass_id, uuid.uuid4().hex, now + needed, now):
        raise PincodeBusy()


def _failed_attempt(pass_id: str, attempt: int, error: str) -> None:
    """The pass stays active; its pincode is `failed` only once no attempt is left."""
    last = pincode_retry.is_last_attempt(attempt)
    status = "failed" if last else "pending"
    pass_store.set_pincode_outcome(pass_id, status=status, now=iso_now(), attempts=attempt, error=error)
    if last:
        logger.error(
            "pincode failed: retries exhausted", extra={"pass_id": pass_id, "attempts": attempt, "error": error}
        )
        emit_metric("PincodeFailed", provider="rooms", integration_type="pincode")


def _ensure_time_for_one_call() -> None:
    """Start a Rooms call only if this invocation can wait for its answer; otherwise retry it soon."""
    context = _lambda_context[0]
    if context is None:
        return
    needed_ms = int(get_settings().rooms_timeout_seconds * 1000) + _TIME_MARGIN_MS
    if context.get_remaining_time_in_millis() < needed_ms:
        raise PincodeRetry("not enough time left in this invocation to wait for Rooms")


# --- The invocation's context (its deadline), bound by the handler -----------------------------------------

_lambda_context: list[Any] = [None]


def bind_lambda_context(context: Any) -> None:
    _lambda_context[0] = context
