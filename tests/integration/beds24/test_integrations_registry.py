"""Beds24 properties are integrations of the registry too (issue 3): POST/GET/PATCH /api/integrations
handle them beside Rooms Event Hub integrations, secrets write-only."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.admin.conftest import call_admin, claims
from tests.integration.beds24.conftest import PROPERTY, SECRET
from tests.integration.conftest import snapshot_tables

ADMIN = claims("admin")
RIVAL = claims("admin", org="rival-org", email="ops@rival.example")
NEW_PROPERTY: dict[str, Any] = {
    "integration_type": "beds24",
    "property_id": "hill-lodge",
    "name": "Hill Lodge",
    "beds24_property_id": 777001,
    "refresh_token": "a-refresh-token-of-the-lodge",
    "time_zone": "Asia/Bangkok",
}


def test_a_beds24_property_is_created_listed_and_patched_through_the_registry(prop: Any) -> None:
    status, created, _ = call_admin("POST", "/api/integrations", caller=ADMIN, body=NEW_PROPERTY)
    assert status == 201, created
    integration = created["integration"]
    assert (integration["integration_type"], integration["id"]) == ("beds24", "hill-lodge")
    assert integration["has_refresh_token"] is True
    assert len(created["webhook_secret"]) >= 16  # generated, shown this once

    status, listed, _ = call_admin("GET", "/api/integrations", caller=ADMIN)
    assert status == 200, listed
    beds24 = {i["id"]: i for i in listed["integrations"] if i["integration_type"] == "beds24"}
    assert set(beds24) == {PROPERTY, "hill-lodge"}
    text = json.dumps(listed)
    for secret in (created["webhook_secret"], SECRET, NEW_PROPERTY["refresh_token"]):
        assert secret not in text

    status, patched, _ = call_admin(
        "PATCH", "/api/integrations/hill-lodge", caller=ADMIN, body={"pull_sync_enabled": False, "name": "Lodge"}
    )
    assert status == 200, patched
    assert (patched["integration"]["pull_sync_enabled"], patched["integration"]["name"]) == (False, "Lodge")


def test_a_patch_must_fit_the_kind_of_integration(prop: Any) -> None:
    before = snapshot_tables()
    status, answer, _ = call_admin("PATCH", f"/api/integrations/{PROPERTY}", caller=ADMIN, body={"webhook_path": "x"})
    assert (status, answer["code"]) == (400, "INVALID_PAYLOAD")
    assert snapshot_tables() == before


def test_another_organisation_neither_sees_nor_changes_the_property(prop: Any) -> None:
    status, listed, _ = call_admin("GET", "/api/integrations", caller=RIVAL)
    assert status == 200
    assert [i for i in listed["integrations"] if i["integration_type"] == "beds24"] == []
    before = snapshot_tables()
    status, answer, _ = call_admin("PATCH", f"/api/integrations/{PROPERTY}", caller=RIVAL, body={"name": "Mine"})
    assert (status, answer["code"]) == (404, "INTEGRATION_NOT_FOUND")
    assert snapshot_tables() == before


def test_a_bad_beds24_body_is_400_and_writes_nothing(prop: Any) -> None:
    before = snapshot_tables()
    bad = {**NEW_PROPERTY, "beds24_property_id": "not a number", "surprise": True}
    status, answer, _ = call_admin("POST", "/api/integrations", caller=ADMIN, body=bad)
    assert (status, answer["code"]) == (400, "INVALID_PAYLOAD")
    assert snapshot_tables() == before
