"""What `make run` prints once the hub is up: where everything is, and a request to try."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from infra import topology
from infra.local.demo import SeededWebsite

ROOT = Path(__file__).resolve().parents[2]
SEED_BODY = ROOT / "events" / "sync_bookings" / "seed_booking_created.body.json"
# The Stripe event the demo sender signs and posts by default (infra.local.sandbox.send_stripe_event)
STRIPE_SAMPLE = ROOT / "events" / "stripe_webhook" / "checkout_session_completed.json"
SEND_STRIPE_EVENT = ".venv/bin/python -m infra.local.sandbox.send_stripe_event"


@dataclass(frozen=True)
class BannerInfo:
    gateway_url: str
    aws_url: str
    sandboxes: Sequence[tuple[str, str, str]]  # name, url, description
    websites: Sequence[SeededWebsite]
    schedules: Sequence[tuple[str, str, str]]  # function, schedule name, expression
    startup_seconds: float
    # The local demo Stripe signing secret; None when the developer set STRIPE_WEBHOOK_SECRET (not shown)
    stripe_webhook_secret: str | None = None
    rooms_url: str = ""  # the Rooms Event Hub sandbox
    beds24_url: str = ""  # the Beds24 sandbox
    # The local demo Beds24 webhook secret; None when the developer set BEDS24_WEBHOOK_SECRET (not shown)
    beds24_webhook_secret: str | None = None
    websocket_url: str = ""  # the WebSocket API (real-time booking events)


def seed_curl(gateway_url: str, api_key: str, body_path: Path = SEED_BODY, cwd: Path | None = None) -> str:
    here = Path.cwd() if cwd is None else cwd
    shown = body_path.relative_to(here) if body_path.is_relative_to(here) else body_path
    return " ".join(
        [
            "curl -sS -X POST",
            shlex.quote(f"{gateway_url}/api/bookings/sync"),
            "-H 'Content-Type: application/json'",
            "-H",
            shlex.quote(f"X-API-Key: {api_key}"),
            "--data-binary",
            shlex.quote(f"@{shown}"),
        ]
    )


def sample_payment_intent(sample: Path = STRIPE_SAMPLE) -> str:
    """The payment intent of the sample event the demo sender posts (to read its pass back)."""
    event = json.loads(json.loads(sample.read_text())["body"])
    return str(event["data"]["object"]["payment_intent"])


def pass_lookup_curl(gateway_url: str, api_key: str, payment_intent: str) -> str:
    return " ".join(
        [
            "curl -sS",
            shlex.quote(f"{gateway_url}/api/passes?payment_intent={payment_intent}"),
            "-H",
            shlex.quote(f"X-API-Key: {api_key}"),
        ]
    )


def payment_lines(info: BannerInfo, api_key: str) -> list[str]:
    if info.stripe_webhook_secret is not None:
        shown = f"{info.stripe_webhook_secret}   (LOCAL DEMO value; STRIPE_WEBHOOK_SECRET overrides)"
    else:
        shown = "from STRIPE_WEBHOOK_SECRET (not shown; the sender signs with the same variable)"
    return [
        "",
        "Payments -> passes -> pincodes (demo-org):",
        f"  Stripe webhook   POST {info.gateway_url}/api/webhooks/stripe",
        f"  signing secret   {shown}",
        f"  Rooms Event Hub  {info.rooms_url}   (sandbox; demo-org's Rooms integration points here)",
        "  Send a Stripe-signed test payment (checkout.session.completed):",
        f"    {SEND_STRIPE_EVENT} --gateway {shlex.quote(info.gateway_url)}",
        "  Read its pass and pincode back (pincode_status becomes issued within seconds):",
        f"    {pass_lookup_curl(info.gateway_url, api_key, sample_payment_intent())}",
    ]


def beds24_lines(info: BannerInfo) -> list[str]:
    token = info.beds24_webhook_secret or "$BEDS24_WEBHOOK_SECRET"
    shown = "LOCAL DEMO value; BEDS24_WEBHOOK_SECRET overrides" if info.beds24_webhook_secret else "yours"
    reservations = f"{info.gateway_url}/api/integrations/beds24/reservations?property_id=demo-property"
    return [
        "",
        "Beds24 (demo-org's property demo-property = Beds24 propertyId 12345, first full sync started):",
        f"  Beds24 API       {info.beds24_url}/v2   (sandbox; refresh token local-demo-beds24-refresh-token)",
        f"  webhook          POST {info.gateway_url}/api/integrations/beds24/webhook?token={token}   ({shown})",
        "  Change a booking in Beds24 (the sandbox sends its webhook; the hub re-reads and applies it):",
        "    .venv/bin/python -m infra.local.sandbox.beds24_demo change 40000001 --status cancelled",
        "  Sync, reconcile and read it back (operator CLI, or the API with a token from `bookinghub token`):",
        "    .venv/bin/bookinghub beds24 sync --local --property demo-property --mode incremental",
        "    .venv/bin/bookinghub beds24 sync --local --property demo-property --mode reconcile",
        "    .venv/bin/bookinghub beds24 runs --local --property demo-property",
        f"    curl -sS '{reservations}&arrival_from=2026-01-01&arrival_to=2027-12-31' "
        '-H "Authorization: Bearer $(.venv/bin/bookinghub token --role admin)"',
    ]


def pms_lines(info: BannerInfo) -> list[str]:
    """The PMS demo hotels (issue 13), when the Cloudbeds sandbox runs (infra/local/sandbox/pms_demo.py)."""
    cloudbeds = next((url for name, url, _ in info.sandboxes if name == "cloudbeds"), None)
    if cloudbeds is None:
        return []
    booking = (
        '{"booking": {"id": "test-booking-001", "status": "confirmed", "guest": {"name": "Jane Doe", '
        '"email": "jane@example.com"}, "stay": {"checkIn": "2025-12-20", "checkOut": "2025-12-23", '
        '"room": "305"}, "totals": {"amount": 750.00, "currency": "USD"}, "channel": "OTA"}}'
    )
    return [
        "",
        "PMS hotels (demo-org; LOCAL DEMO tokens): demo-hotel (mock), cloudbeds-demo-hotel (Cloudbeds sandbox):",
        f"  curl -X POST {info.gateway_url}/api/pms/mock/bookings -H 'x-provider-token: mock_dev_token_123' "
        f"-H 'x-hotel-slug: demo-hotel' -H 'Content-Type: application/json' -d '{booking}'",
        f"  POST {info.gateway_url}/api/pms/sync/bookings|rooms|guests  (admin token) "
        '{"hotel_slug": "cloudbeds-demo-hotel", "limit": 100}',
        f"  Cloudbeds webhook: POST {cloudbeds}/_control/reservation "
        '{"reservationID": "CB880001", "status": "checked_in"}',
    ]


def realtime_lines(info: BannerInfo, api_key: str) -> list[str]:
    return [
        "",
        "Real-time booking events (WebSocket; HUB_WS_PORT overrides the port; docs/realtime.md):",
        f"  WebSocket API    {info.websocket_url}/?api_key=...  or  ?token=$(.venv/bin/bookinghub token --role admin)",
        "  Watch test-website's bookings live (then run the sync request above; stop and restart to catch up):",
        f"    .venv/bin/python -m clients.realtime_client --url {shlex.quote(info.websocket_url)} "
        f"--api-key {shlex.quote(api_key)} --website test-website",
    ]


def render(info: BannerInfo) -> str:
    lines = [
        "",
        f"bookinghub is running locally (ready in {info.startup_seconds:.1f} s). Ctrl-C stops it.",
        "",
        f"  API gateway   {info.gateway_url}",
        f"  AWS (moto)    {info.aws_url}   (fake local credentials; boto3: endpoint_url={info.aws_url})",
    ]
    lines += [f"  sandbox       {url}   {name}: {description}" for name, url, description in info.sandboxes]
    if info.websocket_url:
        lines.append(f"  WebSocket     {info.websocket_url}   real-time booking events (HUB_WS_PORT)")
    lines += ["", "Routes:"]
    lines += [f"  {route.method:<6} {route.path}  -> {fn.name}" for route, fn in topology.all_routes()]
    lines += ["", "Background functions:"]
    for fn in topology.FUNCTIONS:
        if fn.queue:
            lines.append(f"  queue {fn.queue.queue} -> {fn.name} (batch {fn.queue.batch_size})")
        if fn.stream:
            prefixes = ", ".join(fn.stream.sk_prefixes) or "all records"
            lines.append(f"  stream of {fn.stream.table} ({prefixes}) -> {fn.name}")
    lines += [f"  schedule {name} {expression} -> {function}" for function, name, expression in info.schedules]
    lines += ["", "Demo websites (organisation demo-org; LOCAL DEMO keys and secrets, not real ones):"]
    for site in info.websites:
        lines.append(f"  {site.id:<15} API key {site.api_key:<18} webhook secret {site.webhook_secret}")
        if site.webhook_url:
            lines.append(f"  {'':<15} webhooks -> {site.webhook_url}")
    test_site = next((s for s in info.websites if s.id == "test-website"), None)
    if test_site is not None:
        lines += ["", "Try the seed's sync request:", f"  {seed_curl(info.gateway_url, test_site.api_key)}"]
        if info.rooms_url:
            lines += payment_lines(info, test_site.api_key)
    if info.beds24_url:
        lines += beds24_lines(info)
    lines += pms_lines(info)
    if info.websocket_url and test_site is not None:
        lines += realtime_lines(info, test_site.api_key)
    lines.append("")
    return "\n".join(lines)
