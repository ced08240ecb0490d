"""The admin API as a new operator tries it (issue 3 "Done when"): `python -m infra.local` running, a token
from the project's CLI, then list, filter and edit bookings and register a website over real HTTP
through the local gateway; a staff token sees only its websites; no, a tampered or an expired token is
401 AUTH_FAILED from the gateway.

The bookings come in as the websites send them (POST /api/bookings/sync with their demo API keys). The
hub and the CLI share one local signing key in a temporary file (HUB_LOCAL_JWT_KEY), as `make run` and
`.venv/bin/bookinghub token` share .hub/local-jwt-key.pem.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from infra.local import auth
from tests.e2e.conftest import ROOT, Http, Hub, http, start_hub

pytestmark = pytest.mark.e2e

CLI_TIMEOUT_SECONDS = 60
# Demo websites of organisation demo-org and their local demo API keys (README "Demo data")
DEMO_KEYS = {"test-website": "test_sk_xxxxx", "hanuman-world": "hw_sk_live_xxxxx"}
MARCH = {"activity_date_from": "2026-03-01", "activity_date_to": "2026-03-31"}  # the bookings below
BOOKINGS = (  # website, source id, booking ref, activity date, customer
    ("test-website", "e2e-1", "HW-100001", "2026-03-01", "Alice Admin", "alice@example.com"),
    ("test-website", "e2e-2", "HW-100002", "2026-03-05", "Bob Booker", "bob@example.com"),
    ("hanuman-world", "e2e-3", "HW-100003", "2026-03-03", "Carol Climber", "carol@example.com"),
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, dict[str, str]]]:
    """The hub and the environment the CLI runs with (the same signing key)."""
    directory = tmp_path_factory.mktemp("admin-e2e")
    env = {
        **os.environ,
        auth.KEY_ENV: str(directory / "local-jwt-key.pem"),
        "PYTHONPATH": f"{ROOT / 'layers' / 'common' / 'python'}{os.pathsep}{ROOT}",
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(auth.KEY_ENV, env[auth.KEY_ENV])  # the hub process inherits it
        # The hub logs at make run's level (importing cli.main elsewhere in the session sets WARNING)
        patch.delenv("POWERTOOLS_LOG_LEVEL", raising=False)
        hub = start_hub(directory / "hub.log")
    yield hub, env
    hub.stop()


@pytest.fixture(scope="module")
def bookings(stack: tuple[Hub, dict[str, str]]) -> dict[str, str]:
    """source id -> booking id, synced by the websites themselves."""
    hub, _ = stack
    ids = {}
    for website, source_id, ref, day, name, email in BOOKINGS:
        answer = call(
            hub,
            "POST",
            "/api/bookings/sync",
            body=_sync_body(source_id, ref, day, name, email),
            headers={"X-API-Key": DEMO_KEYS[website]},
        )
        assert answer.status == 200, answer.body
        ids[source_id] = answer.json()["booking_id"]
    return ids


def _sync_body(source_id: str, ref: str, day: str, name: str, email: str) -> dict[str, Any]:
    return {
        "event": "booking.created",
        "source_booking_id": source_id,
        "booking_ref": ref,
        "package_name": "World A+",
        "package_price": 3490,
        "activity_date": day,
        "time_slot": "10:00",
        "guest_count": 2,
        "total_amount": 6980,
        "currency": "THB",
        "status": "confirmed",
        "customer": {"name": name, "email": email, "phone": "0812345678", "country_code": "+66"},
    }


def cli_token(env: dict[str, str], *args: str) -> str:
    """`bookinghub token ...` as the README has an operator run it."""
    result = subprocess.run(
        [sys.executable, "-m", "cli", "token", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def call(
    hub: Hub,
    method: str,
    path: str,
    *,
    token: str | None = None,
    query: dict[str, Any] | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Http:
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    url = f"{hub.url}{path}" + (f"?{urlencode(query)}" if query else "")
    return http(method, url, None if body is None else json.dumps(body).encode(), sent)


def listed_ids(hub: Hub, token: str, **query: Any) -> list[str]:
    answer = call(hub, "GET", "/api/bookings", token=token, query=query)
    assert answer.status == 200, answer.body
    return [b["id"] for b in answer.json()["bookings"]]


def test_an_operator_lists_filters_and_edits_bookings(
    stack: tuple[Hub, dict[str, str]], bookings: dict[str, str]
) -> None:
    hub, env = stack
    token = cli_token(env, "--role", "admin", "--email", "ops@demo.example")
    first, second, other = bookings["e2e-1"], bookings["e2e-2"], bookings["e2e-3"]

    # sorted by activity date, across the organisation's websites
    assert listed_ids(hub, token, **MARCH) == [first, other, second]
    assert listed_ids(hub, token, website_id="test-website") == [first, second]
    assert listed_ids(hub, token, activity_date_from="2026-03-02", activity_date_to="2026-03-04") == [other]
    assert listed_ids(hub, token, q="HW-100002") == [second]
    assert listed_ids(hub, token, q="carol@example.com") == [other]
    assert listed_ids(hub, token, q="Bob Book") == [second]
    # cursor pagination
    page = call(hub, "GET", "/api/bookings", token=token, query={**MARCH, "limit": 2}).json()
    assert [b["id"] for b in page["bookings"]] == [first, other]
    query = {**MARCH, "limit": 2, "cursor": page["next_cursor"]}
    rest = call(hub, "GET", "/api/bookings", token=token, query=query).json()
    assert ([b["id"] for b in rest["bookings"]], rest["next_cursor"]) == ([second], None)

    read = call(hub, "GET", f"/api/bookings/{first}", token=token)
    assert read.status == 200, read.body
    etag = read.headers["ETag"]
    assert etag == '"1"'

    edit = {"status": "cancelled", "admin_notes": "Guest called to cancel"}
    edited = call(hub, "PUT", f"/api/bookings/{first}", token=token, body=edit, headers={"If-Match": etag})
    assert edited.status == 200, edited.body
    answer = edited.json()
    assert answer["changed_fields"] == ["admin_notes", "status"]
    assert (answer["booking"]["status"], answer["booking"]["updated_by"]) == ("cancelled", "ops@demo.example")
    assert edited.headers["ETag"] == '"2"'

    stale = call(hub, "PUT", f"/api/bookings/{first}", token=token, body={"guest_count": 3}, headers={"If-Match": etag})
    assert (stale.status, stale.json()["code"]) == (409, "VERSION_CONFLICT")
    assert listed_ids(hub, token, status="cancelled") == [first]
    assert call(hub, "GET", f"/api/bookings/{first}", token=token).json()["booking"]["guest_count"] == 2


def test_an_operator_registers_a_website_and_sees_its_secrets_once(stack: tuple[Hub, dict[str, str]]) -> None:
    hub, env = stack
    token = cli_token(env, "--role", "admin")
    website = {"id": "luge-world", "name": "Hanuman Luge", "domain": "luge.example.com"}
    created = call(hub, "POST", "/api/websites", token=token, body=website)
    assert created.status == 201, created.body
    api_key, secret = created.json()["api_key"], created.json()["webhook_secret"]
    assert api_key.startswith("luge_sk_")
    assert secret.startswith("whsec_")

    listed = call(hub, "GET", "/api/websites", token=token)
    assert listed.status == 200
    assert "luge-world" in [w["id"] for w in listed.json()["websites"]]
    patched = call(hub, "PATCH", "/api/websites/luge-world", token=token, body={"name": "Hanuman Luge Phuket"})
    assert patched.status == 200, patched.body
    for answer in (listed, patched):
        assert api_key.encode() not in answer.body
        assert secret.encode() not in answer.body

    # the key works at once for the website's own syncs
    synced = call(
        hub,
        "POST",
        "/api/bookings/sync",
        body=_sync_body("luge-1", "HL-000001", "2026-04-01", "Dan Driver", "dan@example.com"),
        headers={"X-API-Key": api_key},
    )
    assert synced.status == 200, synced.body
    # Neither is in anything the hub logged (functions, gateway access lines), nor is the operator's token
    log = hub.log()
    assert '"website_id":"luge-world"' in log  # the registration and the sync were logged, and read here
    for value in (api_key, secret, token):
        assert value not in log


def test_a_staff_token_sees_only_its_websites(stack: tuple[Hub, dict[str, str]], bookings: dict[str, str]) -> None:
    hub, env = stack
    token = cli_token(env, "--role", "staff", "--websites", "test-website")
    seen = call(hub, "GET", "/api/bookings", token=token).json()["bookings"]
    assert {b["website_id"] for b in seen} == {"test-website"}
    assert {b["id"] for b in seen} >= {bookings["e2e-1"], bookings["e2e-2"]}

    hidden = call(hub, "GET", f"/api/bookings/{bookings['e2e-3']}", token=token)  # hanuman-world's
    assert (hidden.status, hidden.json()["code"]) == (404, "BOOKING_NOT_FOUND")
    filtered = call(hub, "GET", "/api/bookings", token=token, query={"website_id": "hanuman-world"})
    assert (filtered.status, filtered.json()["code"]) == (404, "WEBSITE_NOT_FOUND")
    websites = call(hub, "GET", "/api/websites", token=token)
    assert (websites.status, websites.json()["code"]) == (403, "FORBIDDEN")

    # staff edit the bookings they see
    edited = call(
        hub, "PUT", f"/api/bookings/{bookings['e2e-2']}", token=token, body={"version": 1, "time_slot": "14:00"}
    )
    assert edited.status == 200, edited.body


def _forged(token: str) -> str:
    """The token with its groups claim changed to superadmin, the signature left as it was."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cognito:groups"] = ["superadmin"]
    claims["custom:websites"] = ""
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def test_no_tampered_or_expired_tokens_are_401(stack: tuple[Hub, dict[str, str]], bookings: dict[str, str]) -> None:
    hub, env = stack
    staff = cli_token(env, "--role", "staff", "--websites", "test-website")
    expiring = cli_token(env, "--role", "admin", "--ttl", "1")
    foreign_env = {**env, auth.KEY_ENV: str(Path(env[auth.KEY_ENV]).with_name("another-key.pem"))}
    foreign = cli_token(foreign_env, "--role", "superadmin")  # signed by a key the hub does not trust
    time.sleep(2.1)  # the expiring token's lifetime, plus a margin (no clock leeway)
    for token in (None, "", _forged(staff), expiring, foreign, "not-a-jwt"):
        for method, path in (("GET", "/api/bookings"), ("GET", f"/api/bookings/{bookings['e2e-3']}")):
            answer = call(hub, method, path, token=token)
            assert answer.status == 401, (token, answer.body)
            assert answer.json() == {"success": False, "error": "Unauthorized", "code": "AUTH_FAILED"}
    # the same staff token, untouched, is fine
    assert call(hub, "GET", "/api/bookings", token=staff).status == 200
