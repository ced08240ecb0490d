"""Door pincodes for passes, from the Rooms Event Hub (PassIssuance queue -> issue_pincodes).

For each queued pass:
- a pass that already has a pincode keeps it (the seed's fallback) and Rooms is not called again;
- otherwise POST the reservation (reservationId = the integration's prefix + the pass id, so a retry
  never creates a second reservation) and wait for the answer; every call writes an integration log;
- success: the lock code is stored KMS-encrypted (one per pass: conditional put) and the pass becomes
  `issued`. The pincode never reaches a log line or an integration log;
- failure or timeout: the message is postponed by the backoff of services/pincode_retry (SQS
  ChangeMessageVisibility) and retried for 24 h; after the last attempt the pass is marked pincode
  `failed` (it stays active: the payment is never refunded) and the message goes on to the DLQ, from
  which an operator can redrive it once Rooms is back.
Powertools idempotency keyed on the pass id makes a duplicate message a no-op while the first is
being handled or once it succeeded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from bookinghub.aws.idempotency import idempotent
from bookinghub.aws.kms import decrypt_secret, encrypt_secret
from bookinghub.aws.queues import message_field, postpone
from bookinghub.core.clock import iso_now
from bookinghub.core.observability import emit_metric, logger
from bookinghub.core.settings import get_settings
from bookinghub.payments.dal import pass_queue
from bookinghub.payments.dal import passes as pass_store
from bookinghub.payments.logic import pincode_retry
from bookinghub.registry.logic.registry import active_rooms_integration, secret_headers
from bookinghub.registry.models import Integration
from bookinghub.rooms.adapters import rooms_event_hub as rooms
from bookinghub.rooms.logic.calls import call_log, record_call

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

LOCK_CODE_PURPOSE = "lock-code"
PROVIDER = "rooms"
IDEMPOTENCY_KEY_PREFIX = "pass-pincode"
# Longer than a message can live in the queue (4 days) plus its DLQ redrive
IDEMPOTENCY_EXPIRES_AFTER_SECONDS = 7 * 86400
# A duplicate message that found the pass being handled looks again after this long
_IN_PROGRESS_RETRY_SECONDS = 30
_TIME_MARGIN_MS = 3000


class PincodeRetry(Exception):
    """No pincode this time; the message must be tried again later (or, after the last attempt, go to the DLQ)."""


class PincodeSkipped(Exception):
    """Nothing to ask for now (unknown or inactive pass). Raised rather than returned so that idempotency
    does not store it: a pass activated later must still get its pincode from a new message."""


@dataclass(frozen=True)
class QueuedPass:
    pass_id: str
    attempt: int  # the message's ApproximateReceiveCount
    queue_arn: str
    receipt_handle: str


def parse_message(body: str) -> str:
    return message_field(body, pass_queue.PASS_ID_ATTRIBUTE)


def reservation_id(prefix: str, pass_id: str) -> str:
    """Stable per pass: the same pass always asks Rooms for the same reservation."""
    return f"{prefix}{pass_id.replace('-', '')}"


# --- The consumer ----------------------------------------------------------------------------------------


def handle_queued_pass(queued: QueuedPass) -> dict[str, Any]:
    """One PassIssuance message. Raises (after postponing the message) when it must be retried."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    try:
        _ensure_time_for_one_call()
        result: dict[str, Any] = _idempotent_issue()(item={"pass_id": queued.pass_id}, attempt=queued.attempt)
        return result
    except PincodeSkipped as skipped:
        return {"outcome": "skipped", "reason": str(skipped)}
    except IdempotencyAlreadyInProgressError:
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


def issue_pincode(*, item: dict[str, Any], attempt: int) -> dict[str, Any]:
    pass_id = item["pass_id"]
    stored, lock_code = pass_store.get_pass_and_lock_code(pass_id, PROVIDER)
    if stored is None:
        logger.error("pincode requested for an unknown pass", extra={"pass_id": pass_id})
        raise PincodeSkipped("no such pass")
    if lock_code is not None:
        _mark_issued(pass_id, attempt)
        logger.info("pass already has a pincode: kept", extra={"pass_id": pass_id})
        return {"outcome": "already_issued"}
    if stored.get("status") != "active":
        logger.info("pincode not requested: pass is not active", extra={"pass_id": pass_id, "status": stored["status"]})
        raise PincodeSkipped(f"pass is {stored['status']}")

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
    logger.info(
        "rooms call",
        extra={
            "pass_id": pass_id,
            "reservation_id": res_id,
            "attempt": attempt,
            "status": call.status,
            "http_status": call.http_status_code,
            "duration_ms": call.duration_ms,
            "error": log.error_message,
        },
    )
    emit_metric(f"RoomsCall{call.status.title()}", provider="rooms", integration_type="pincode")

    if call.status == "success" and call.pincode:
        _store_lock_code(stored, integration, res_id, call.pincode)
        _mark_issued(pass_id, attempt)
        return {"outcome": "issued", "reservation_id": res_id}
    # Another invocation may have stored a pincode meanwhile: keep it
    if pass_store.get_pass_and_lock_code(pass_id, PROVIDER)[1] is not None:
        _mark_issued(pass_id, attempt)
        return {"outcome": "already_issued"}
    _failed_attempt(pass_id, attempt, log.error_message or call.status)
    raise PincodeRetry(f"Rooms call {call.status}")


def _store_lock_code(stored: dict[str, Any], integration: Integration, res_id: str, pincode: str) -> None:
    pass_id = stored["id"]
    lock_code = {
        "provider_ref": res_id,
        "integration_id": integration.id,
        "code_encrypted": encrypt_secret(pincode, purpose=LOCK_CODE_PURPOSE, owner=pass_id),
        "starts_at": stored["arrival_date"],
        "ends_at": stored["departure_date"],
        "created_at": iso_now(),
    }
    if pass_store.put_lock_code(pass_id, PROVIDER, lock_code) is not None:
        logger.info("pass already had a pincode: the stored one is kept", extra={"pass_id": pass_id})


def read_pincode(lock_code: dict[str, Any]) -> str:
    return decrypt_secret(lock_code["code_encrypted"], purpose=LOCK_CODE_PURPOSE, owner=lock_code["pass_id"])


def _mark_issued(pass_id: str, attempt: int) -> None:
    pass_store.set_pincode_outcome(pass_id, status="issued", now=iso_now(), attempts=attempt, only_if_not_issued=False)


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
    context = _idempotency_config().lambda_context
    if context is None:
        return
    needed_ms = int(get_settings().rooms_timeout_seconds * 1000) + _TIME_MARGIN_MS
    if context.get_remaining_time_in_millis() < needed_ms:
        raise PincodeRetry("not enough time left in this invocation to wait for Rooms")


# --- Idempotency, built on first use ---------------------------------------------------------------------


def bind_lambda_context(context: Any) -> None:
    _idempotency_config().register_lambda_context(context)


@cache
def _idempotency_config() -> IdempotencyConfig:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="pass_id",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_EXPIRES_AFTER_SECONDS,
    )


def _idempotent_issue() -> Callable[..., dict[str, Any]]:
    return idempotent(
        issue_pincode, data_keyword_argument="item", key_prefix=IDEMPOTENCY_KEY_PREFIX, config=_idempotency_config()
    )
