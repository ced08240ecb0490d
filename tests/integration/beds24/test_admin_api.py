"""The operators' Beds24 API (beds24_admin, Cognito): who may do what, sync requests and their runs,
properties CRUD, validation that writes nothing, and secrets that never come back."""

from __future__ import annotations

import json
from typing import Any

from infra.local.resources import LocalResources
from tests.integration.beds24.hub import (
    PROPERTY,
    SECRET,
    drain_events,
    drain_sync,
    post_webhook,
    queued,
    webhook_body,
)
from tests.integration.beds24.operators import ADMIN, RIVAL_ADMIN, STAFF, call_admin, claims
from tests.integration.beds24.sandbox import Sandbox, day
from tests.integration.conftest import DEMO_ORG, snapshot_tables

SYNC = "/api/integrations/beds24/sync"
PROPERTIES = "/api/integrations/beds24/properties"
RUNS = "/api/integrations/beds24/runs"


def test_only_admins_of_the_organisation_reach_its_property(aws: LocalResources, prop: Any) -> None:
    status, body = call_admin("GET", PROPERTIES)
    assert status == 200
    assert [p["id"] for p in body["properties"]] == [PROPERTY]
    status, body = call_admin("GET", f"{PROPERTIES}/{PROPERTY}")
    assert status == 200
    assert body["property"]["beds24_property_id"] == prop.beds24_property_id

    staff_calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", PROPERTIES, None),
        ("GET", f"{PROPERTIES}/{PROPERTY}", None),
        ("PATCH", f"{PROPERTIES}/{PROPERTY}", {"name": "Renamed"}),
        ("POST", SYNC, {"property_id": PROPERTY, "mode": "full"}),
        ("GET", RUNS, None),
    ]
    before = snapshot_tables()
    for method, path, body_ in staff_calls:
        query = {"property_id": PROPERTY} if path == RUNS else None
        status, answer = call_admin(method, path, caller=STAFF, body=body_, query=query)
        assert (status, answer.get("code")) == (403, "FORBIDDEN"), (method, path, answer)

    for method, path, body_ in [
        ("GET", f"{PROPERTIES}/{PROPERTY}", None),
        ("PATCH", f"{PROPERTIES}/{PROPERTY}", {"name": "Renamed"}),
        ("POST", SYNC, {"property_id": PROPERTY, "mode": "full"}),
        ("POST", SYNC, {"property_id": PROPERTY, "mode": "full", "organisation_id": DEMO_ORG}),
    ]:
        status, answer = call_admin(method, path, caller=RIVAL_ADMIN, body=body_)
        assert status == 404, (method, path, body_, answer)
    status, answer = call_admin("GET", RUNS, caller=RIVAL_ADMIN, query={"property_id": PROPERTY})
    assert status == 404
    status, answer = call_admin("GET", PROPERTIES, caller=RIVAL_ADMIN)
    assert (status, answer["properties"]) == (200, [])

    status, answer = call_admin("GET", PROPERTIES, caller=None)
    assert (status, answer["code"]) == (401, "AUTH_FAILED")
    assert snapshot_tables() == before
    assert queued(aws, "Beds24Sync") == 0


def test_a_requested_sync_is_202_readable_and_exclusive(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    beds24.create()
    status, body = call_admin("POST", SYNC, body={"property_id": PROPERTY, "mode": "full"})
    assert status == 202
    assert body["success"] is True
    run = body["run"]
    assert (run["status"], run["mode"], run["trigger"], run["requested_by"]) == (
        "queued", "full", "operator", "ops@demo.example"
    )  # fmt: skip

    status, read = call_admin("GET", f"{RUNS}/{run['run_id']}")
    assert status == 200
    assert read["run"]["status"] == "queued"
    status, busy = call_admin("POST", SYNC, body={"property_id": PROPERTY, "mode": "incremental"})
    assert (status, busy["code"]) == (409, "SYNC_IN_PROGRESS")
    assert queued(aws, "Beds24Sync") == 1

    drain_sync(aws)
    status, read = call_admin("GET", f"{RUNS}/{run['run_id']}")
    assert status == 200
    done = read["run"]
    assert done["status"] == "succeeded"
    assert done["counts"]["created"] == 1
    assert done["finished_at"]
    assert done["duration_ms"] is not None
    status, listed = call_admin("GET", RUNS, query={"property_id": PROPERTY})
    assert status == 200
    assert [r["run_id"] for r in listed["runs"]] == [run["run_id"]]

    status, again = call_admin("POST", SYNC, body={"property_id": PROPERTY, "mode": "incremental"})
    assert status == 202
    assert again["run"]["mode"] == "incremental"

    status, other = call_admin("GET", f"{RUNS}/{run['run_id']}", caller=RIVAL_ADMIN)
    assert (status, other["code"]) == (404, "RUN_NOT_FOUND")
    status, other = call_admin("GET", f"{RUNS}/{run['run_id']}", caller=STAFF)
    assert (status, other["code"]) == (403, "FORBIDDEN")


def test_bad_bodies_are_400_and_write_nothing(aws: LocalResources, prop: Any) -> None:
    bad_syncs: list[Any] = [
        {},
        {"property_id": PROPERTY},
        {"property_id": PROPERTY, "mode": "weekly"},
        {"property_id": PROPERTY, "mode": "full", "extra": 1},
        {"property_id": "Not A Slug!", "mode": "full"},
        {"property_id": PROPERTY, "mode": "full", "resync": "perhaps"},
        [],
        "{not json",
        "null",
    ]
    good = {"property_id": "new-property", "name": "New", "beds24_property_id": 777}
    bad_properties: list[Any] = [
        {},
        {**good, "beds24_property_id": 0},
        {**good, "webhook_secret": "short"},
        {**good, "room_mapping": {"A1": "Room"}},
        {**good, "time_zone": "Mars/Olympus_Mons"},
        {**good, "full_sync_hour": 24},
        {**good, "unknown": True},
        {**good, "property_id": "-leading-dash"},
    ]
    bad_patches: list[Any] = [{}, {"name": None}, {"full_sync_hour": -1}, {"credentials": {}}, {"status": "paused"}]
    before = snapshot_tables()
    for path, method, bodies in (
        (SYNC, "POST", bad_syncs),
        (PROPERTIES, "POST", bad_properties),
        (f"{PROPERTIES}/{PROPERTY}", "PATCH", bad_patches),
    ):
        for body in bodies:
            status, answer = call_admin(method, path, body=body)
            assert (status, answer.get("code")) == (400, "INVALID_PAYLOAD"), (method, path, body, answer)
            assert answer["success"] is False
    assert snapshot_tables() == before
    assert queued(aws, "Beds24Sync") == 0


def test_properties_crud_never_shows_a_secret(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    refresh, new_refresh = "refresh-token-created-by-api", "refresh-token-replaced-by-api"
    chosen_secret = "operator-chosen-webhook-secret"
    answers: list[dict[str, Any]] = []

    status, created = call_admin(
        "POST",
        PROPERTIES,
        body={
            "property_id": "garden-villas",
            "name": "Garden Villas",
            "beds24_property_id": 777,
            "refresh_token": refresh,
            "base_url": beds24.api,
            "room_mapping": {"601": "Villa"},
            "time_zone": "Asia/Bangkok",
            "default_country": "th",
        },
    )
    assert status == 201, created
    generated = created["webhook_secret"]  # shown once, at creation
    view = created["property"]
    assert view["has_refresh_token"] is True
    assert view["has_webhook_secret"] is True
    assert view["default_country"] == "TH"
    assert view["pull_sync_enabled"] is True
    assert "credentials" not in view

    status, duplicate = call_admin("POST", PROPERTIES, body={"property_id": "garden-villas", "name": "Again",
                                                             "beds24_property_id": 778})  # fmt: skip
    assert (status, duplicate["code"]) == (409, "PROPERTY_EXISTS")

    status, patched = call_admin(
        "PATCH",
        f"{PROPERTIES}/garden-villas",
        body={"name": "Garden Villas & Spa", "reread_on_webhook": False, "refresh_token": new_refresh,
              "webhook_secret": chosen_secret},
    )  # fmt: skip
    assert status == 200, patched
    assert patched["property"]["name"] == "Garden Villas & Spa"
    assert patched["property"]["reread_on_webhook"] is False
    answers.append(patched)

    for path in (PROPERTIES, f"{PROPERTIES}/garden-villas", f"{PROPERTIES}/{PROPERTY}"):
        status, answer = call_admin("GET", path)
        assert status == 200, answer
        answers.append(answer)
    status, answer = call_admin("GET", RUNS, query={"property_id": "garden-villas"})
    answers.append(answer)
    status, answer = call_admin(
        "GET",
        "/api/integrations/beds24/reservations",
        query={"property_id": PROPERTY, "arrival_from": day(-30), "arrival_to": day(60)},
    )
    assert status == 200
    answers.append(answer)

    text = json.dumps(answers)
    for secret in (refresh, new_refresh, generated, chosen_secret, SECRET, "_encrypted", "token_hash"):
        assert secret not in text, secret

    # The replaced secret is the one that works now, as a URL token
    status, hook = post_webhook(webhook_body(40000901, propertyId=777), token=chosen_secret)
    assert (status, hook["status"]) == (200, "queued")
    status, hook = post_webhook(webhook_body(40000902, propertyId=777), token=generated)
    assert status == 401
    # The audit trail of webhooks is shown without their payloads (guest data), once the consumer recorded
    # them (until then the queue message is the event)
    assert drain_events(aws) == (1, 0)
    status, answer = call_admin("GET", f"{PROPERTIES}/garden-villas")
    assert status == 200
    (recent,) = answer["property"]["recent_webhooks"]
    assert recent["beds24_booking_id"] == 40000901
    assert recent["status"] in ("processed", "failed")  # applied, or Beds24 refused the sandbox's read
    assert "payload" not in recent
    assert "example.com" not in json.dumps(answer)


def test_a_sync_needs_an_active_configured_property(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    status, created = call_admin(
        "POST", PROPERTIES, body={"property_id": "webhooks-only", "name": "No pulls", "beds24_property_id": 888}
    )
    assert status == 201
    assert created["property"]["has_refresh_token"] is False
    status, answer = call_admin("POST", SYNC, body={"property_id": "webhooks-only", "mode": "full"})
    assert (status, answer["code"]) == (409, "BEDS24_NOT_CONFIGURED")

    status, _ = call_admin("PATCH", f"{PROPERTIES}/{PROPERTY}", body={"status": "inactive"})
    assert status == 200
    status, answer = call_admin("POST", SYNC, body={"property_id": PROPERTY, "mode": "full"})
    assert (status, answer["code"]) == (409, "PROPERTY_INACTIVE")
    assert queued(aws, "Beds24Sync") == 0


def test_a_superadmin_names_the_organisation(aws: LocalResources, prop: Any) -> None:
    root = claims("superadmin", org=None, email="root@hub.example")
    status, answer = call_admin("POST", SYNC, caller=root, body={"property_id": PROPERTY, "mode": "full"})
    assert (status, answer["code"]) == (400, "INVALID_PAYLOAD")  # whose property?
    status, answer = call_admin(
        "POST", SYNC, caller=root, body={"property_id": PROPERTY, "mode": "full", "organisation_id": DEMO_ORG}
    )
    assert status == 202
    assert answer["run"]["organisation_id"] == DEMO_ORG
    status, answer = call_admin("GET", PROPERTIES, caller=root)
    assert status == 200
    assert [p["id"] for p in answer["properties"]] == [PROPERTY]
    assert ADMIN["custom:organisation_id"] == DEMO_ORG


def test_a_replaced_refresh_token_is_used_from_the_next_call(aws: LocalResources, beds24: Sandbox, prop: Any) -> None:
    beds24.create()
    status, body = call_admin("POST", SYNC, body={"property_id": PROPERTY, "mode": "full"})
    assert status == 202
    drain_sync(aws)  # an access token is minted and stored

    # The operator replaces the refresh token (here: one Beds24 rejects, to see which one is used)
    status, _ = call_admin("PATCH", f"{PROPERTIES}/{PROPERTY}", body={"refresh_token": "replaced-refresh-token"})
    assert status == 200
    beds24.reset_calls()
    status, body = call_admin("POST", SYNC, body={"property_id": PROPERTY, "mode": "incremental"})
    assert status == 202
    drain_sync(aws)

    status, read = call_admin("GET", f"{RUNS}/{body['run']['run_id']}")
    assert status == 200
    assert [c["path"] for c in beds24.calls(None)][:1] == ["/v2/authentication/token"]
    assert read["run"]["status"] == "failed"
    assert "Beds24AuthError" in read["run"]["error"]
