"""Schemathesis over the API's OpenAPI document (GET /api/openapi.json, the whole API), against
`python -m infra.local` over real HTTP.

For every route, Schemathesis' engine (what `schemathesis run` does) sends the cases of its coverage
phase (boundary values, missing and unknown fields, malformed Content-Type headers and bodies,
unexpected methods) and of its fuzzing phase (valid and invalid data), with a valid superadmin token and
a valid website API key, and the only check is `not_a_server_error`: bad input must be a 4xx with an
error code, never a 5xx (provider webhooks, which no generated case can sign, answer 4xx to all).
Operator routes with an id in their path run twice: with generated ids (mostly 404s) and with the ids of
real objects (a synced booking, a website registered through the API, the demo Rooms integration, the
demo Beds24 property and its first run), fuzzing only, so the services behind the lookups are exercised.

Bounded for CI: a fixed number of fuzzing examples per operation, a fixed seed and derandomized
generation (the same cases every run), no stateful phase, no example database, no Schemathesis cache
or reports, Hypothesis' own storage in a temporary directory: nothing is left behind in the repository.
The hub and this test share one local signing key in a temporary file (HUB_LOCAL_JWT_KEY).

(schemathesis.pytest.from_fixture is not used: its lazy parametrization renames pytest items through
`item._nodeid`, which pytest 9 no longer has.)

The runs are split over PARTS test files (test_openapi_fuzz_part<k>.py), each with its own local stack:
pytest-xdist (`make test`, `--dist loadfile`) gives a file to one worker, and this is the suite's longest
module (about a third of the e2e time), so one file would leave the other workers idle at the end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema

from infra import topology
from infra.local import auth
from infra.local.aws_env import LOCAL_DEMO_SECRETS
from tests.e2e.conftest import Hub, http, start_hub

MAX_EXAMPLES = 25  # fuzzing cases per operation (the coverage phase adds its own, a few dozen to ~200)
SEED = 20260301
REQUEST_TIMEOUT_SECONDS = 30
DEMO_API_KEY = "test_sk_xxxxx"  # test-website, of demo-org
# Every route of the whole API: operators' (Cognito), websites' (API key) and providers' (signature)
ROUTES = [route for route, _ in topology.all_routes()]
# Each route once with generated path parameters, and operator routes with an id in their path once more
# with real ids
RUNS = [(route, False) for route in ROUTES] + [
    (route, True) for route in ROUTES if "{" in route.path and route.auth == "cognito"
]
PARTS = 3


def runs_of_part(part: int) -> list[tuple[topology.Route, bool]]:
    """Every PARTS-th run from `part` on: the parts together are RUNS, each run in exactly one part."""
    return RUNS[part::PARTS]


def run_ids(runs: list[tuple[topology.Route, bool]]) -> list[str]:
    return [f"{route.method} {route.path}{' (real ids)' if real else ''}" for route, real in runs]


@dataclass(frozen=True)
class Target:
    hub: Hub
    document: dict[str, Any]  # GET /api/openapi.json
    token: str  # a valid superadmin ID token
    real_ids: dict[str, str]  # path parameter -> the id of a real object


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    directory = tmp_path_factory.mktemp("admin-fuzz")
    key_file = directory / "local-jwt-key.pem"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(auth.KEY_ENV, str(key_file))  # the hub process inherits it
        hub = start_hub(directory / "hub.log")
    # Hypothesis writes a constants cache under ./.hypothesis unless told otherwise
    hypothesis.configuration.set_hypothesis_home_dir(directory / "hypothesis")
    try:
        token = auth.issue_token(role="superadmin", organisation_id="demo-org", path=key_file)
        answer = http("GET", f"{hub.url}/api/openapi.json")
        assert answer.status == 200, answer.body
        yield Target(hub, answer.json(), token, _real_ids(hub, token))
    finally:
        hypothesis.configuration.set_hypothesis_home_dir(None)
        hub.stop()


def _real_ids(hub: Hub, token: str) -> dict[str, str]:
    """A booking and a website (created here), the demo Rooms integration, the demo Beds24 property and its
    first sync run, a conflict on the booking, a Beds24 reservation, by path parameter name."""
    body = {
        "event": "booking.created",
        "source_booking_id": "fuzz-src-1",
        "booking_ref": "FZ-000001",
        "package_name": "World A+",
        "package_price": 3490,
        "activity_date": "2026-03-01",
        "time_slot": "10:00",
        "guest_count": 2,
        "total_amount": 6980,
        "currency": "THB",
        "status": "confirmed",
        "customer": {"name": "Fuzz Guest", "email": "guest@example.com"},
    }
    synced = http(
        "POST",
        f"{hub.url}/api/bookings/sync",
        json.dumps(body).encode(),
        {"Content-Type": "application/json", "X-API-Key": DEMO_API_KEY},
    )
    assert synced.status == 200, synced.body
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    # Registered through the API, so it remembers its key's hash and its key can be rotated
    website = {"id": "fuzz-site", "name": "Fuzz", "domain": "fuzz.example.com"}
    registered = http("POST", f"{hub.url}/api/websites", json.dumps(website).encode(), bearer)
    assert registered.status == 201, registered.body
    listed = http("GET", f"{hub.url}/api/integrations", headers=bearer)
    assert listed.status == 200, listed.body
    (rooms, *_) = listed.json()["integrations"]  # make run's demo Rooms integration
    runs = http("GET", f"{hub.url}/api/integrations/beds24/runs?property_id=demo-property", headers=bearer)
    assert runs.status == 200, runs.body
    (*_, setup_run) = runs.json()["runs"]  # make run's first full sync of the demo Beds24 property
    # A webhook subscription, and a delivery: a test webhook of the booking to its website's sandbox receiver
    hook = {"url": "http://127.0.0.1:9/fuzz-hook", "event_types": ["booking.updated"]}
    endpoint = http("POST", f"{hub.url}/api/webhooks/endpoints", json.dumps(hook).encode(), bearer)
    assert endpoint.status == 201, endpoint.body
    test = {"website_id": "test-website", "booking_id": synced.json()["booking_id"], "event": "booking.updated"}
    sent = http("POST", f"{hub.url}/api/admin/test-webhook", json.dumps(test).encode(), bearer)
    assert sent.status == 200, sent.body
    # make run's PMS hotel demo-hotel (mock provider), and one sync log of it
    pms_body = json.dumps({"hotel_slug": "demo-hotel", "limit": 5}).encode()
    pms_sync = http("POST", f"{hub.url}/api/pms/sync/rooms", pms_body, bearer)
    assert pms_sync.status == 200, pms_sync.body
    # An open conflict: an operator's edit of the booking's date, then the website's own change of it
    booking_path = f"{hub.url}/api/bookings/{synced.json()['booking_id']}"
    edited = http("PUT", booking_path, json.dumps({"activity_date": "2026-03-05"}).encode(), bearer)
    assert edited.status == 200, edited.body
    change = {"event": "booking.updated", "source_booking_id": "fuzz-src-1", "activity_date": "2026-03-09"}
    headers = {"Content-Type": "application/json", "X-API-Key": DEMO_API_KEY}
    assert http("POST", f"{hub.url}/api/bookings/sync", json.dumps(change).encode(), headers).status == 200
    found = http("GET", f"{hub.url}/api/conflicts?status=open&organisation_id=demo-org", headers=bearer)
    (conflict, *_) = found.json()["conflicts"]
    query = "property_id=demo-property&arrival_from=2000-01-01&arrival_to=2100-01-01&organisation_id=demo-org"
    listed = http("GET", f"{hub.url}/api/integrations/beds24/reservations?{query}", headers=bearer)
    (reservation, *_) = listed.json()["reservations"]
    return {
        "endpoint_id": endpoint.json()["endpoint"]["id"],
        "delivery_id": sent.json()["delivery_id"],
        "booking_id": synced.json()["booking_id"],
        "website_id": "fuzz-site",
        "integration_id": rooms["id"],
        "property_id": "demo-property",
        "run_id": setup_run["run_id"],
        "hotel_slug": "demo-hotel",
        "sync_log_id": pms_sync.json()["syncLogId"],
        "conflict_id": conflict["id"],
        "reservation_id": reservation["id"],
    }


def _bearer(target: Target, route: topology.Route) -> str:
    """An operator's token, or for seed 003's producer routes the producer's secret (make run's demo value)."""
    if route.path == "/api/webhooks/booking-events":
        return LOCAL_DEMO_SECRETS["DeliveryProducerSecret"]
    return target.token


def _schema(target: Target, route: topology.Route, real_ids: bool) -> Any:
    settings: dict[str, Any] = {
        "seed": SEED,
        "base-url": target.hub.url,
        # Each route's own credential: an operator's token, or a website's key (a provider's signature
        # cannot be generated: those routes must answer every unsigned case with a 4xx)
        "headers": {"Authorization": f"Bearer {_bearer(target, route)}", "X-API-Key": DEMO_API_KEY},
        "request-timeout": REQUEST_TIMEOUT_SECONDS,
        "workers": 1,
        "cache": {"enabled": False},  # no .schemathesis/ in the repository
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # The token is the caller; generated Authorization values would only test the gateway's 401
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
    }
    if real_ids:
        settings["parameters"] = {f"path.{name}": value for name, value in target.real_ids.items()}
        # The objects' own organisation: another one would rightly be 404 (another tenant's objects)
        settings["parameters"]["query.organisation_id"] = "demo-org"
        # Malformed requests are the generated-ids run's coverage phase already; here: fuzzing behind lookups
        settings["phases"]["coverage"] = {"enabled": False}
    config = schemathesis.Config.from_dict(settings)
    return schemathesis.openapi.from_dict(target.document, config=config).include(name=f"{route.method} {route.path}")


def check_no_5xx(target: Target, route: topology.Route, real_ids: bool) -> None:
    failures: list[str] = []
    statuses: set[int] = set()
    finished = None
    for event in from_schema(_schema(target, route, real_ids)).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            statuses |= {i.response.status_code for i in recorder.interactions.values() if i.response is not None}
            for checks in recorder.checks.values():
                failures += [
                    c.failure_info.code_sample for c in checks if c.status == Status.FAILURE and c.failure_info
                ]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            pytest.fail(f"Schemathesis could not test {route.method} {route.path}: {event}")
        elif isinstance(event, events.EngineFinished):
            finished = event
    assert finished is not None
    assert not failures, "5xx answers, reproduce with:\n" + "\n".join(sorted(set(failures)))
    assert not finished.failures
    # The cases reached the function, with the token or key accepted
    assert statuses, "no request was sent"
    if route.auth in ("cognito", "api_key"):
        assert 401 not in statuses, statuses
    if real_ids:
        assert 404 not in statuses, statuses  # the ids were those of real objects
