"""GET /api/passes/{pass_id} and GET /api/passes?payment_intent=pi_...: for the pass's own organisation."""

from __future__ import annotations

from typing import Any

import pytest

from bookinghub.aws.keys import pass_id_for
from infra.local.resources import LocalResources
from tests.integration.passes.conftest import (
    OTHER_ORG_KEY,
    PAYMENT_INTENT,
    RoomsSandbox,
    find_pass,
    get_pass,
    metadata,
    post_stripe,
    run_consumer,
    stripe_event,
)

PASS_ID = pass_id_for(PAYMENT_INTENT)


@pytest.fixture
def other_org_website(hub: Any) -> Any:
    from bookinghub.websites.logic.registry import register_website

    return register_website(
        website_id="other-org-website",
        organisation_id="other-org",
        name="Other Org",
        domain="other-org.example.com",
        api_key=OTHER_ORG_KEY,
    )


def test_pass_reads_pending_then_issued_with_its_pincode(hub: Any, aws: LocalResources, rooms: RoomsSandbox) -> None:
    post_stripe(stripe_event())

    status, body = get_pass(PASS_ID)
    assert status == 200
    assert body["success"] is True
    pending = body["pass"]
    assert pending["id"] == PASS_ID
    assert pending["status"] == "active"
    assert pending["lock_id"] == "access-point-uuid-or-identifier"
    assert (pending["arrival_date"], pending["departure_date"]) == ("2026-03-01", "2026-03-02")
    assert (pending["pincode_status"], pending["pincode"]) == ("pending", None)
    assert "guest_email" not in pending

    run_consumer(aws)

    status, body = get_pass(PASS_ID)
    assert status == 200
    assert body["pass"]["pincode_status"] == "issued"
    assert body["pass"]["pincode"] == rooms.calls()[0]["pincode"]
    assert find_pass({"payment_intent": PAYMENT_INTENT}) == (status, body)


def test_other_organisations_get_404(hub: Any, aws: LocalResources, other_org_website: Any) -> None:
    post_stripe(stripe_event())

    assert get_pass(PASS_ID, api_key=OTHER_ORG_KEY)[0] == 404
    status, body = find_pass({"payment_intent": PAYMENT_INTENT}, api_key=OTHER_ORG_KEY)
    assert (status, body["code"]) == (404, "PASS_NOT_FOUND")


def test_needs_attention_pass_shows_its_reason(hub: Any, aws: LocalResources) -> None:
    post_stripe(stripe_event(metadata=metadata(lock_id=None)))

    status, body = get_pass(PASS_ID)

    assert status == 200
    assert body["pass"]["status"] == "needs_attention"
    assert body["pass"]["attention_reason"] == "invalid metadata: lock_id: missing"


REJECTIONS: list[tuple[str, dict[str, str] | None, str | None, tuple[int, str]]] = [
    ("no key", {"payment_intent": PAYMENT_INTENT}, None, (401, "AUTH_FAILED")),
    ("wrong key", {"payment_intent": PAYMENT_INTENT}, "wrong_sk_key", (401, "AUTH_FAILED")),
    ("no query", None, "test_sk_xxxxx", (400, "INVALID_QUERY")),
    ("not a payment intent", {"payment_intent": "cs_not_an_intent"}, "test_sk_xxxxx", (400, "INVALID_QUERY")),
    ("unknown", {"payment_intent": "pi_unknown"}, "test_sk_xxxxx", (404, "PASS_NOT_FOUND")),
]


def test_find_rejections(hub: Any, aws: LocalResources) -> None:
    post_stripe(stripe_event())
    for case, query, api_key, expected in REJECTIONS:
        status, body = find_pass(query, api_key=api_key)
        assert (status, body["code"]) == expected, case


def test_unknown_or_malformed_pass_id_is_404(hub: Any, aws: LocalResources) -> None:
    assert get_pass(pass_id_for("pi_never_paid"))[1]["code"] == "PASS_NOT_FOUND"
    assert get_pass("not-a-uuid")[1]["code"] == "PASS_NOT_FOUND"
