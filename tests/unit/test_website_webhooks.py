"""Outbound webhooks (seed 002 sync back): body, signature, skip rules and attempt outcomes, without AWS."""

from __future__ import annotations

import hashlib
import hmac
import json
from types import SimpleNamespace
from typing import Any

import pytest

from bookinghub.bookings.models.events import BookingDomainEvent, SyncLog
from bookinghub.core.urls import WebhookUrlRejected
from bookinghub.websites.adapters.webhooks import WebhookResponse, WebhookTransportError
from bookinghub.websites.logic import sync_back as service
from bookinghub.websites.models import Website
from tests.conftest import load_event

SECRET = "whsec_unit_test_secret"


def sample_events() -> list[BookingDomainEvent]:
    return [
        BookingDomainEvent.model_validate_json(r["body"]) for r in load_event("booking_events/admin_changes")["Records"]
    ]


def website(**changes: Any) -> Website:
    fields: dict[str, Any] = {
        "id": "test-website",
        "organisation_id": "demo-org",
        "name": "Test Website",
        "domain": "test.example.com",
        "api_key_prefix": "test_sk_",
        "webhook_url": "https://test.example.com/api/webhooks/onebooking",
        "webhook_secret_encrypted": "ciphertext",
        "is_active": True,
        "created_at": "2026-02-20T00:00:00.000000Z",
        "updated_at": "2026-02-20T00:00:00.000000Z",
    }
    return Website.model_validate({**fields, **changes})


# --- body ------------------------------------------------------------------------------------------


def test_status_change_becomes_status_changed_with_only_the_changed_fields() -> None:
    status_event, _ = sample_events()
    body = service.build_webhook_body(status_event)
    assert body == {
        "event": "booking.status_changed",
        "source_booking_id": "src-booking-0001",
        "updated_fields": ["admin_notes", "customer_email", "status"],
        "data": {
            "admin_notes": "Customer requested cancellation due to flight change",
            "customer_email": "jane.doe@example.com",
            "status": "cancelled",
        },
        "updated_at": "2026-02-20T15:30:00.000000Z",
        "updated_by": "ops@example.com",
    }


def test_other_changes_are_booking_updated_and_updated_by_falls_back_to_the_origin() -> None:
    _, notes_event = sample_events()
    assert notes_event.actor is None
    body = service.build_webhook_body(notes_event)
    assert body["event"] == "booking.updated"
    assert body["updated_by"] == "ops@example.com"  # from origin admin:ops@example.com
    assert set(body["data"]) == {"admin_notes", "customer_phone"}


def test_data_carries_changed_fields_only_and_a_cleared_field_as_null() -> None:
    event = sample_events()[0].model_copy(
        update={"changed_fields": ["admin_notes"], "data": {"status": "cancelled", "unrelated": 1}}
    )
    body = service.build_webhook_body(event)
    assert body["data"] == {"admin_notes": None}
    assert body["event"] == "booking.updated"


# --- signature -------------------------------------------------------------------------------------


def test_signed_request_verifies_as_the_seed_describes() -> None:
    body = service.build_webhook_body(sample_events()[0])
    signed = service.sign_webhook_request(body, secret=SECRET, webhook_id="evt-1", timestamp=1708444800)
    headers = signed.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Webhook-Timestamp"] == "1708444800"
    assert headers["X-Webhook-Id"] == "evt-1"
    # The seed's verifyWebhookSignature, independently: HMAC-SHA256 of "{timestamp}.{payload}"
    payload = signed.body.decode()
    expected = hmac.new(SECRET.encode(), f"1708444800.{payload}".encode(), hashlib.sha256).hexdigest()
    assert headers["X-Webhook-Signature"] == f"sha256={expected}"
    assert json.loads(payload) == body


def test_signature_changes_with_timestamp_secret_and_body() -> None:
    body = service.build_webhook_body(sample_events()[0])
    base = service.sign_webhook_request(body, secret=SECRET, webhook_id="e", timestamp=1).headers["X-Webhook-Signature"]
    others = {
        service.sign_webhook_request(body, secret=SECRET, webhook_id="e", timestamp=2).headers["X-Webhook-Signature"],
        service.sign_webhook_request(body, secret="whsec_other", webhook_id="e", timestamp=1).headers[
            "X-Webhook-Signature"
        ],
        service.sign_webhook_request({**body, "updated_by": "x"}, secret=SECRET, webhook_id="e", timestamp=1).headers[
            "X-Webhook-Signature"
        ],
    }
    assert base not in others
    assert len(others) == 3


def test_non_ascii_data_is_sent_as_ascii_json_so_the_signed_bytes_are_unambiguous() -> None:
    event = sample_events()[0].model_copy(
        update={"changed_fields": ["admin_notes"], "data": {"admin_notes": "Señora Nguyễn"}}
    )
    signed = service.sign_webhook_request(service.build_webhook_body(event), secret=SECRET, webhook_id="e", timestamp=1)
    assert signed.body.isascii()
    assert json.loads(signed.body)["data"]["admin_notes"] == "Señora Nguyễn"


# --- skip rules ------------------------------------------------------------------------------------


def test_a_websites_own_change_is_never_echoed_back() -> None:
    event = sample_events()[0].model_copy(update={"origin": "website:test-website"})
    assert service.echo_reason(event) == "the change came from this website"
    assert service.echo_reason(sample_events()[0]) is None


@pytest.mark.parametrize(
    ("site", "reason"),
    [
        (None, "website is not registered"),
        (website(is_active=False), "website is inactive"),
        (website(webhook_url=None), "website has no webhook_url"),
        (website(webhook_url=""), "website has no webhook_url"),
        (website(webhook_secret_encrypted=None), "website has no webhook secret to sign with"),
        (website(), None),
    ],
)
def test_website_skip_reasons(site: Website | None, reason: str | None) -> None:
    assert service.website_skip_reason(site) == reason


# --- one delivery, with storage and HTTP replaced ---------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.logs: list[SyncLog] = []
        self.sites: dict[str, Website] = {"test-website": website()}


@pytest.fixture
def delivery(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """The service with its AWS edges replaced: website lookup, KMS, sync log writes, idempotency store."""
    recorder = Recorder()
    monkeypatch.setattr(service, "website_store", SimpleNamespace(get_website=recorder.sites.get))
    monkeypatch.setattr(service, "decrypt_secret", lambda ciphertext, *, purpose, owner: SECRET)
    monkeypatch.setattr(service, "put_sync_log", recorder.logs.append)
    monkeypatch.setattr(service, "_idempotent_delivery", lambda: service._deliver)
    service._idempotency_config.cache_clear()  # no Lambda context left over from another test
    return recorder


def answer_with(monkeypatch: pytest.MonkeyPatch, recorder: Recorder, outcome: WebhookResponse | Exception) -> None:
    def fake_post(url: str, body: bytes, headers: dict[str, str], **options: Any) -> WebhookResponse:
        recorder.posts.append({"url": url, "body": body, "headers": headers, **options})
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(service, "post_webhook", fake_post)


def test_2xx_is_delivered_and_logged_success_with_masked_payload(
    delivery: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer_with(monkeypatch, delivery, WebhookResponse(200, 12, '{"success":true}'))
    event = sample_events()[0]
    result = service.deliver_event(event, attempt=1)
    assert result == {"outcome": "delivered", "http_status": 200}
    (post,) = delivery.posts
    assert post["url"] == "https://test.example.com/api/webhooks/onebooking"
    assert post["headers"]["X-Webhook-Id"] == event.event_id
    assert b"jane.doe@example.com" in post["body"]  # the website gets its own customer's data
    (log,) = delivery.logs
    assert (log.direction, log.status, log.event_type) == ("outbound", "success", "booking.status_changed")
    assert (log.http_status_code, log.duration_ms, log.attempt, log.error_message) == (200, 12, 1, None)
    assert log.payload is not None
    assert log.payload["data"]["customer_email"] == "j***@example.com"
    assert "jane.doe" not in json.dumps(log.payload)


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422, 301])
def test_a_refusal_is_logged_failed_and_not_retried(
    delivery: Recorder, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    answer_with(monkeypatch, delivery, WebhookResponse(status, 5, "bad booking for guest jane.doe@example.com"))
    result = service.deliver_event(sample_events()[0], attempt=2)
    assert result == {"outcome": "failed", "http_status": status}
    (log,) = delivery.logs
    assert (log.status, log.http_status_code, log.attempt) == ("failed", status, 2)
    assert log.error_message is not None
    assert f"HTTP {status}" in log.error_message
    assert "jane.doe@" not in log.error_message


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
def test_server_errors_and_not_now_answers_raise_for_a_retry(
    delivery: Recorder, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    answer_with(monkeypatch, delivery, WebhookResponse(status, 5, "busy"))
    with pytest.raises(service.DeliveryRetry, match=str(status)):
        service.deliver_event(sample_events()[0])
    (log,) = delivery.logs
    assert (log.status, log.http_status_code) == ("pending", status)


def test_no_answer_raises_for_a_retry(delivery: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    answer_with(monkeypatch, delivery, WebhookTransportError("ReadTimeout: timed out"))
    with pytest.raises(service.DeliveryRetry):
        service.deliver_event(sample_events()[0])
    (log,) = delivery.logs
    assert (log.status, log.http_status_code) == ("pending", None)
    assert log.error_message is not None
    assert "ReadTimeout" in log.error_message


def test_a_url_the_hub_will_not_post_to_is_a_permanent_failure(
    delivery: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer_with(monkeypatch, delivery, WebhookUrlRejected("webhook URL must use https"))
    result = service.deliver_event(sample_events()[0])
    assert result["outcome"] == "failed"
    assert delivery.logs[0].status == "failed"


def test_skips_post_nothing_and_log_nothing(delivery: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    answer_with(monkeypatch, delivery, WebhookResponse(200, 1, ""))
    own = sample_events()[0].model_copy(update={"origin": "website:test-website"})
    assert service.deliver_event(own)["outcome"] == "skipped"
    delivery.sites["test-website"] = website(is_active=False)
    assert service.deliver_event(sample_events()[0]) == {"outcome": "skipped", "reason": "website is inactive"}
    assert delivery.posts == []
    assert delivery.logs == []


def test_a_delivered_webhook_is_not_retried_because_its_log_write_failed(
    delivery: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer_with(monkeypatch, delivery, WebhookResponse(204, 1, ""))

    def failing_write(log: SyncLog) -> None:
        raise RuntimeError("throttled")

    monkeypatch.setattr(service, "put_sync_log", failing_write)
    assert service.deliver_event(sample_events()[0])["outcome"] == "delivered"


def test_no_post_starts_without_time_to_wait_for_its_answer(
    delivery: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer_with(monkeypatch, delivery, WebhookResponse(200, 1, ""))
    service.bind_lambda_context(SimpleNamespace(get_remaining_time_in_millis=lambda: 1500))  # type: ignore[arg-type]
    try:
        with pytest.raises(service.DeliveryRetry, match="not enough time"):
            service.deliver_event(sample_events()[0])
    finally:
        service._idempotency_config.cache_clear()
    assert delivery.posts == []


def test_an_unreadable_message_raises_so_it_ends_in_the_dlq() -> None:
    with pytest.raises(ValueError, match="validation error"):
        service.deliver_event_message('{"event_id": "x"}')
