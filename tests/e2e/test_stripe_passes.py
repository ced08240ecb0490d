"""A Stripe-signed payment through `python -m infra.local` (a real process, as a developer runs it): HTTP
gateway -> pass -> PassIssuance queue worker -> Rooms Event Hub sandbox -> pincode readable by the
organisation's website. Every hop real, on loopback; signed with the hub's local demo secret, as the
banner tells a developer to do."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from typing import Any

import pytest
import stripe

from infra.local.sandbox.send_stripe_event import LOCAL_DEMO_SECRET
from tests.conftest import load_event
from tests.e2e.conftest import ROOT, Hub, http

pytestmark = pytest.mark.e2e

TEST_KEY = "test_sk_xxxxx"  # test-website, of organisation demo-org
PAYMENT_INTENT = "pi_3SampleIntent0001"  # the sample events' payment
# Measured ~1.5 s from sending to a readable pincode here; generous for a loaded 2-core machine.
PINCODE_DEADLINE_SECONDS = 15.0
SENDER_TIMEOUT_SECONDS = 60


def sample_event() -> dict[str, Any]:
    return dict(json.loads(load_event("stripe_webhook/checkout_session_completed")["body"]))


def post_stripe(hub: Hub, payload: str, secret: str | None = LOCAL_DEMO_SECRET) -> Any:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["Stripe-Signature"] = stripe.WebhookSignature.generate_signature_header(
            payload, secret, int(time.time())
        )
    return http("POST", f"{hub.url}/api/webhooks/stripe", payload.encode(), headers)


def send_with_the_demo_sender(hub: Hub, *args: str) -> subprocess.CompletedProcess[str]:
    """The banner's command: `.venv/bin/python -m infra.local.sandbox.send_stripe_event --gateway <url>`."""
    env = {k: v for k, v in os.environ.items() if k != "STRIPE_WEBHOOK_SECRET"}
    env["PYTHONPATH"] = f"{ROOT / 'layers' / 'common' / 'python'}{os.pathsep}{ROOT}"
    return subprocess.run(
        [sys.executable, "-m", "infra.local.sandbox.send_stripe_event", *args, "--gateway", hub.url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SENDER_TIMEOUT_SECONDS,
        check=False,
    )


def pass_of(hub: Hub, payment_intent: str) -> dict[str, Any]:
    answer = http("GET", f"{hub.url}/api/passes?payment_intent={payment_intent}", headers={"X-API-Key": TEST_KEY})
    assert answer.status == 200, answer.body
    return dict(answer.json()["pass"])


def wait_for_pincode(hub: Hub, payment_intent: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    view = pass_of(hub, payment_intent)
    while view["pincode_status"] != "issued" and time.monotonic() - started < PINCODE_DEADLINE_SECONDS:
        time.sleep(0.2)
        view = pass_of(hub, payment_intent)
    return view, time.monotonic() - started


def test_signed_payment_becomes_a_pass_whose_pincode_the_website_reads(hub: Hub) -> None:
    sent = send_with_the_demo_sender(hub)
    assert sent.returncode == 0, f"{sent.stdout}\n{sent.stderr}\n{hub.log()}"
    status, answer = sent.stdout.split(" ", 1)
    assert status == "200"
    assert json.loads(answer)["outcome"] == "pass_created"

    view, seconds = wait_for_pincode(hub, PAYMENT_INTENT)
    assert view["pincode_status"] == "issued", (seconds, view, hub.log())
    assert re.fullmatch(r"\d{6}", view["pincode"]), view
    assert view["status"] == "active"
    assert view["organisation_id"] == "demo-org"

    # The pincode is the one the Rooms Event Hub sandbox handed out, asked for exactly once
    calls = http("GET", f"{hub.rooms_url}/_calls").json()
    assert [(c["status"], c["pincode"]) for c in calls] == [(200, view["pincode"])]
    by_id = http("GET", f"{hub.url}/api/passes/{view['id']}", headers={"X-API-Key": TEST_KEY})
    assert by_id.status == 200, by_id.body
    assert by_id.json()["pass"] == view


def test_redeliveries_and_the_same_payments_other_event_make_no_second_pass(hub: Hub) -> None:
    event = sample_event()
    first = post_stripe(hub, json.dumps(event))
    assert first.status == 200, first.body
    again = post_stripe(hub, json.dumps(event))  # Stripe redelivers at least once
    assert again.json() == first.json()
    sent = send_with_the_demo_sender(hub, "payment_intent_succeeded")  # same payment, other event type
    assert sent.returncode == 0, f"{sent.stdout}\n{sent.stderr}"

    view, _ = wait_for_pincode(hub, PAYMENT_INTENT)
    assert view["pincode_status"] == "issued", view
    assert view["id"] == first.json()["pass_id"]
    assert len(http("GET", f"{hub.rooms_url}/_calls").json()) == 1


@pytest.mark.parametrize("secret", [None, "whsec_not_the_hubs_secret"], ids=["unsigned", "wrong secret"])
def test_unsigned_or_wrongly_signed_events_are_refused(hub: Hub, secret: str | None) -> None:
    event = sample_event()
    event["id"] = f"evt_refused_{secret is None}"
    event["data"]["object"]["payment_intent"] = "pi_refused_0001"
    response = post_stripe(hub, json.dumps(event), secret)
    assert response.status == 400, response.body
    assert response.json()["code"] == "INVALID_SIGNATURE"
    lookup = http("GET", f"{hub.url}/api/passes?payment_intent=pi_refused_0001", headers={"X-API-Key": TEST_KEY})
    assert lookup.status == 404, lookup.body
