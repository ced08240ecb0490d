"""The Stripe metadata contract of a pass (models/passes.py)."""

from __future__ import annotations

from typing import Any

import pytest

from bookinghub.payments.models import parse_pass_metadata, raw_metadata

VALID = {
    "organisation_id": "demo-org",
    "lock_id": "access-point-1",
    "arrival_date": "2026-03-01",
    "departure_date": "2026-03-02",
    "guest_name": "John Smith",
    "guest_email": "john@example.com",
    "guest_phone": "+61412345678",
}


def with_(**changes: Any) -> dict[str, Any]:
    return {k: v for k, v in {**VALID, **changes}.items() if v is not None}


def test_valid_metadata_parses() -> None:
    parsed, reason = parse_pass_metadata(with_(guest_name="  John Smith  "))
    assert reason is None
    assert parsed is not None
    assert parsed.guest_name == "John Smith"
    assert parsed.arrival_date == "2026-03-01"


def test_phone_is_optional_and_blank_means_absent() -> None:
    for phone in (None, "", "  "):
        parsed, reason = parse_pass_metadata(with_(guest_phone=phone))
        assert reason is None
        assert parsed is not None
        assert parsed.guest_phone is None


def test_same_day_stay_is_allowed() -> None:
    assert parse_pass_metadata(with_(departure_date="2026-03-01"))[1] is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"organisation_id": None}, "organisation_id: missing"),
        ({"organisation_id": "has spaces"}, "organisation_id"),
        ({"lock_id": ""}, "lock_id"),
        ({"arrival_date": "01/03/2026"}, "arrival_date"),
        ({"arrival_date": "2026-02-30"}, "arrival_date"),
        ({"departure_date": "2026-02-28"}, "departure_date must not be before arrival_date"),
        ({"guest_email": "john-at-example.com"}, "guest_email: value is not a valid email address"),
        ({"guest_phone": "call me"}, "guest_phone"),
        ({"guest_name": None, "lock_id": None}, "lock_id: missing; guest_name: missing"),
    ],
)
def test_invalid_metadata_has_a_reason_that_names_fields_not_values(changes: dict[str, Any], expected: str) -> None:
    parsed, reason = parse_pass_metadata(with_(**changes))
    assert parsed is None
    assert reason is not None
    assert expected in reason
    assert reason.startswith("invalid metadata: ")
    for value in changes.values():
        if value:
            assert value not in reason


@pytest.mark.parametrize("metadata", [None, {}, "text", ["a"]])
def test_no_metadata(metadata: Any) -> None:
    assert parse_pass_metadata(metadata) == (None, "payment has no metadata")


def test_stripe_metadata_values_are_strings_only() -> None:
    assert parse_pass_metadata(with_(lock_id=12345))[0] is None


def test_raw_metadata_keeps_only_the_contract_keys_shortened() -> None:
    raw = raw_metadata({"lock_id": "x" * 1000, "unrelated": "y", "guest_email": "a@b.co"})
    assert raw == {"lock_id": "x" * 300, "guest_email": "a@b.co"}
    assert raw_metadata(None) == {}
