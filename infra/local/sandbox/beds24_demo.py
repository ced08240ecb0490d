"""demo-org's Beds24 property under `make run`, wired to the Beds24 sandbox, and a way to change bookings.

Seeding (the runtime calls `seed_beds24_demo` once AWS is up): property `demo-property` of demo-org, Beds24
propertyId 12345, refresh token and webhook secret LOCAL DEMO values (env BEDS24_WEBHOOK_SECRET overrides
the secret); the sandbox is told to send its webhooks to the hub with the secret as `?token=`, as one would
configure Beds24; and a first full sync is started, as an operator would after adding a property.

Changing a booking in the sandbox the way one does in Beds24 (its v2 API; `make run` must be up):

    python -m infra.local.sandbox.beds24_demo change 40000001 --status cancelled
    python -m infra.local.sandbox.beds24_demo change 40000002 --arrival 2026-12-24 --departure 2026-12-27
    python -m infra.local.sandbox.beds24_demo create --room 502 --arrival 2026-12-10 --departure 2026-12-12 \\
        --first-name Anna --last-name Lee --email ANNA.LEE@example.com
    python -m infra.local.sandbox.beds24_demo delete 40000003

The sandbox then sends Beds24's webhook to the hub, which re-reads the booking and applies it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import requests

from infra.local.sandbox.beds24_data import DEMO_PROPERTY_ID, DEMO_REFRESH_TOKEN, DEMO_ROOM_TYPES, DEMO_TIME_ZONE

DEMO_ORG = "demo-org"
DEMO_PROPERTY = "demo-property"
WEBHOOK_SECRET_ENV = "BEDS24_WEBHOOK_SECRET"  # noqa: S105 - an env var name
LOCAL_DEMO_WEBHOOK_SECRET = "local-demo-beds24-webhook-secret"  # noqa: S105 - a local demo value
WEBHOOK_PATH = "/api/integrations/beds24/webhook"


def demo_webhook_secret(env: dict[str, str] | None = None) -> str:
    return (env if env is not None else dict(os.environ)).get(WEBHOOK_SECRET_ENV) or LOCAL_DEMO_WEBHOOK_SECRET


def seed_beds24_demo(base_url: str, gateway_url: str) -> Any:
    """Register the demo property against the sandbox at `base_url` and point the sandbox's webhooks at the
    hub's gateway. The environment must already point the hub at moto."""
    from bookinghub.beds24.logic.properties import register_property
    from bookinghub.beds24.logic.sync import start_run

    secret = demo_webhook_secret()
    registered = register_property(
        organisation_id=DEMO_ORG,
        property_id=DEMO_PROPERTY,
        name="Demo Beach Hotel (local Beds24 sandbox)",
        beds24_property_id=DEMO_PROPERTY_ID,
        refresh_token=DEMO_REFRESH_TOKEN,
        webhook_secret=secret,
        base_url=f"{base_url.rstrip('/')}/v2",
        room_mapping={str(room_id): name for room_id, name, _, _ in DEMO_ROOM_TYPES},
        time_zone=DEMO_TIME_ZONE,
        default_country="TH",
    )
    hook = f"{gateway_url.rstrip('/')}{WEBHOOK_PATH}?token={secret}"
    requests.post(f"{base_url}/_control/webhook", json={"url": hook}, timeout=5).raise_for_status()
    start_run(registered.property, "full", trigger="setup")
    return registered


# --- Changing bookings through the sandbox's Beds24 API ---------------------------------------------------


def _token(api: str) -> str:
    answer = requests.get(f"{api}/authentication/token", headers={"refreshToken": DEMO_REFRESH_TOKEN}, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["token"])


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    names = {
        "status": "status",
        "arrival": "arrival",
        "departure": "departure",
        "room": "roomId",
        "first_name": "firstName",
        "last_name": "lastName",
        "email": "email",
        "mobile": "mobile",
        "num_adult": "numAdult",
        "price": "price",
    }
    return {beds24: getattr(args, ours) for ours, beds24 in names.items() if getattr(args, ours, None) is not None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Change bookings in the local Beds24 sandbox (make run)")
    parser.add_argument("--sandbox", default=f"http://127.0.0.1:{os.environ.get('HUB_BEDS24_PORT', '4200')}")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("change", "create"):
        command = commands.add_parser(name)
        if name == "change":
            command.add_argument("booking_id", type=int)
        command.add_argument("--status", choices=("confirmed", "request", "new", "cancelled", "black", "inquiry"))
        command.add_argument("--arrival")
        command.add_argument("--departure")
        command.add_argument("--room", type=int)
        command.add_argument("--first-name")
        command.add_argument("--last-name")
        command.add_argument("--email")
        command.add_argument("--mobile")
        command.add_argument("--num-adult", type=int)
        command.add_argument("--price", type=float)
    delete = commands.add_parser("delete")
    delete.add_argument("booking_id", type=int)
    args = parser.parse_args(argv)

    api = f"{args.sandbox.rstrip('/')}/v2"
    headers = {"token": _token(api)}
    if args.command == "delete":
        answer = requests.delete(f"{api}/bookings", params={"id": args.booking_id}, headers=headers, timeout=10)
    else:
        element = _fields(args)
        if args.command == "change":
            element["id"] = args.booking_id
        answer = requests.post(f"{api}/bookings", json=[element], headers=headers, timeout=10)
    print(answer.status_code, json.dumps(answer.json(), indent=2))
    return 0 if answer.ok else 1


if __name__ == "__main__":
    sys.exit(main())
