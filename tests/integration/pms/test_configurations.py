"""Operators' PMS configurations: secrets never returned nor stored in clear, token rotation, disable."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local.resources import LocalResources
from infra.local.sandbox import cloudbeds_data
from tests.integration.admin.conftest import claims
from tests.integration.conftest import snapshot_tables
from tests.integration.pms.conftest import CB_TOKEN, SEED_BODY, admin, post_webhook


def test_credentials_and_token_are_never_shown_nor_stored_in_clear(aws: LocalResources, cloudbeds_hotel: Any) -> None:
    assert cloudbeds_hotel["credentials_set"] == ["api_key"]
    assert "webhook_token" not in cloudbeds_hotel  # the operator chose it: not echoed
    status, body = admin("GET", "/api/pms/configurations/cb-hotel")
    text = json.dumps(body)
    assert status == 200
    assert cloudbeds_data.DEMO_API_KEY not in text
    assert CB_TOKEN not in text
    everything = json.dumps(snapshot_tables())
    assert cloudbeds_data.DEMO_API_KEY not in everything
    assert CB_TOKEN not in everything


def test_a_generated_token_is_shown_once_and_works(aws: LocalResources) -> None:
    status, body = admin("POST", "/api/pms/configurations", body={"hotel_slug": "new-hotel", "provider": "mock"})
    assert status == 201
    token = body["configuration"]["webhook_token"]
    assert token.startswith("pmswh_")
    assert "webhook_token" not in admin("GET", "/api/pms/configurations/new-hotel")[1]["configuration"]
    assert post_webhook(SEED_BODY, slug="new-hotel", token=token)[0] == 200


def test_rotating_the_token_retires_the_old_one(aws: LocalResources, demo_hotel: Any) -> None:
    status, body = admin("PATCH", "/api/pms/configurations/demo-hotel", body={"rotate_webhook_token": True})
    assert status == 200
    new = body["configuration"]["webhook_token"]
    assert post_webhook(SEED_BODY)[0] == 401
    assert post_webhook(SEED_BODY, token=new)[0] == 200


def test_update_list_and_disable(aws: LocalResources, demo_hotel: Any) -> None:
    status, body = admin("PATCH", "/api/pms/configurations/demo-hotel", body={"sync_schedule": "*/30 * * * *"})
    assert (status, body["configuration"]["sync_schedule"], body["configuration"]["version"]) == (
        200,
        "*/30 * * * *",
        2,
    )
    status, body = admin("GET", "/api/pms/configurations")
    assert [c["hotel_slug"] for c in body["configurations"]] == ["demo-hotel"]
    status, body = admin("DELETE", "/api/pms/configurations/demo-hotel")
    assert (status, body["configuration"]["enabled"]) == (200, False)
    assert admin("POST", "/api/pms/sync/bookings", body={"hotel_slug": "demo-hotel"})[1]["code"] == "PMS_DISABLED"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"hotel_slug": "x-hotel", "provider": "opera"}, 404, "UNKNOWN_PROVIDER"),
        ({"hotel_slug": "Bad Slug", "provider": "mock"}, 400, "INVALID_PAYLOAD"),
        ({"hotel_slug": "x-hotel", "provider": "mock", "sync_schedule": "every hour"}, 400, "INVALID_PAYLOAD"),
        ({"hotel_slug": "x-hotel", "provider": "mock", "webhook_token": "short"}, 400, "INVALID_PAYLOAD"),
        (
            {"hotel_slug": "x-hotel", "provider": "cloudbeds", "settings": {"base_url": "http://10.0.0.5/api"}},
            400,
            "INVALID_PAYLOAD",
        ),
        ({"hotel_slug": "demo-hotel", "provider": "mock"}, 409, "PMS_CONFIGURATION_EXISTS"),
    ],
)
def test_bad_configurations_store_nothing(
    aws: LocalResources, demo_hotel: Any, body: dict[str, Any], status: int, code: str
) -> None:
    before = snapshot_tables()
    answer_status, answer = admin("POST", "/api/pms/configurations", body=body)
    assert (answer_status, answer["code"]) == (status, code)
    assert snapshot_tables() == before


def test_roles_and_tenants(aws: LocalResources, demo_hotel: Any) -> None:
    staff = claims("staff", websites=("pms:demo-hotel",))
    assert (
        admin("POST", "/api/pms/configurations", body={"hotel_slug": "s-hotel", "provider": "mock"}, caller=staff)[0]
        == 403
    )
    rival = claims("admin", org="rival-org")
    assert admin("GET", "/api/pms/configurations/demo-hotel", caller=rival)[0] == 404
    assert admin("PATCH", "/api/pms/configurations/demo-hotel", body={"enabled": False}, caller=rival)[0] == 404


def test_nulls_in_a_patch(aws: LocalResources, demo_hotel: Any) -> None:
    status, body = admin("PATCH", "/api/pms/configurations/demo-hotel", body={"enabled": None, "sync_schedule": None})
    assert status == 200
    assert (body["configuration"]["enabled"], body["configuration"]["sync_schedule"]) == (True, None)
    assert admin("GET", "/api/pms/configurations/demo-hotel")[0] == 200
