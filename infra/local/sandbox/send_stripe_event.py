"""Send a Stripe-signed sample event to the local hub, as Stripe would (demos; `make run` must be up).

    python -m infra.local.sandbox.send_stripe_event                      # checkout.session.completed
    python -m infra.local.sandbox.send_stripe_event payment_intent_succeeded --gateway http://127.0.0.1:3000

The body is events/stripe_webhook/<sample>.json's, signed with STRIPE_WEBHOOK_SECRET (the local hub's
demo default unless set). Then: GET /api/passes?payment_intent=pi_3SampleIntent0001 with X-API-Key
test_sk_xxxxx shows the pass, and its pincode once the Rooms Event Hub sandbox answered.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LOCAL_DEMO_SECRET = "whsec_local_demo_stripe"  # noqa: S105 - a local demo value, meaningless elsewhere


def signature_header(payload: str, secret: str, timestamp: int) -> str:
    import stripe

    return str(stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sample", nargs="?", default="checkout_session_completed")
    parser.add_argument("--gateway", default=f"http://127.0.0.1:{os.environ.get('HUB_PORT', '3000')}")
    parser.add_argument("--secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET") or LOCAL_DEMO_SECRET)
    args = parser.parse_args(argv)
    payload = json.loads((ROOT / "events" / "stripe_webhook" / f"{args.sample}.json").read_text())["body"]
    request = urllib.request.Request(  # noqa: S310 - the local gateway
        f"{args.gateway}/api/webhooks/stripe",
        data=payload.encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": signature_header(payload, args.secret, int(time.time())),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            print(response.status, response.read().decode())
            return 0
    except urllib.error.HTTPError as error:
        print(error.code, error.read().decode(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
