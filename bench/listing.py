"""Listing bench: what one page of GET /api/bookings reads, per filter. Prints figures; asserts nothing.

An organisation with two websites holds `--bookings` bookings, synced through the real `sync_bookings`
handler (so the items are laid out by whichever code is checked out: this bench runs unchanged on an
older commit for a before/after), most confirmed and a few of each other status, each with its own
email and booking ref and one of a few dozen customer names. Then one page (`--limit`, default 50) of
each listing goes through `admin_api` as an admin of the organisation, against in-process moto, with
bench/cost_meter.py counting: Query calls, index entries read (Query's ScannedCount, before its filter),
bookings fetched (BatchGetItem) and read units.

Run: python bench/listing.py [--bookings 1000] [--limit 50] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python"), str(ROOT / "bench")]

import cost  # noqa: E402 - sets the environment the handlers run in
from cost_meter import CostMeter  # noqa: E402

WEBSITES = (("test-website", "test_sk_xxxxx"), ("other-website", "other_sk_bench"))
FIRST = ("Anna", "Marie", "John", "Somchai", "Ploy", "Lukas", "Chen", "Aisha", "Tom", "Noor")
LAST = ("Curie", "Doe", "Smith", "Wong", "Müller", "Sato")
# Of every 100 bookings: the statuses (most confirmed, a few cancelled: the filtered page is rare ones)
STATUSES = ("confirmed",) * 88 + ("cancelled",) * 3 + ("pending",) * 3 + ("completed",) * 4 + ("refunded",) * 2


def _name(n: int) -> str:
    return f"{FIRST[n % len(FIRST)]} {LAST[n // len(FIRST) % len(LAST)]}"


def listings(bookings: int) -> dict[str, dict[str, str]]:
    """Each listing measured: its query string (as an admin of the organisation)."""
    target = bookings // 2  # a booking in the middle: its email and ref are searched for
    return {
        "website, no filter": {"website_id": "test-website"},
        "website, status=cancelled": {"website_id": "test-website", "status": "cancelled"},
        "organisation, no filter": {},
        "organisation, status=cancelled": {"status": "cancelled"},
        "q=email (one booking)": {"q": f"Guest{target}@Example.com"},
        "q=booking ref (one booking)": {"q": f"BR-{target:06d}"},
        "q=name prefix (exact name)": {"q": _name(7).lower()},
        "q=name prefix": {"q": FIRST[7]},
        "q=name substring (no name starts so)": {"q": LAST[3][1:]},
    }


def run(bookings: int, limit: int) -> dict[str, dict[str, Any]]:
    import boto3
    from moto import mock_aws

    meter = CostMeter()
    meter.install()
    results: dict[str, dict[str, Any]] = {}
    with mock_aws():
        cost._reset_hub_caches()
        from infra.local.resources import create_resources

        resources = create_resources(boto3.Session(region_name="us-east-1"))
        os.environ.update(resources.env)
        cost._reset_hub_caches()
        hub = cost.Hub(meter, resources)
        _seed(hub, bookings)
        template = cost.load_event("admin_api/list_bookings")
        for label, query in listings(bookings).items():
            event = json.loads(json.dumps(template))
            event["queryStringParameters"] = {**query, "limit": str(limit)}
            event["multiValueQueryStringParameters"] = {k: [v] for k, v in event["queryStringParameters"].items()}
            meter.stages.clear()
            with meter.measuring(label) as use:
                status, answer = hub.http("admin_api", event)
            if status != 200:
                raise SystemExit(f"{label}: {status} {answer}")
            results[label] = {
                "returned": len(answer["bookings"]),
                "more": answer.get("next_cursor") is not None,
                "queries": use.calls["dynamodb.Query"],
                "index_entries_read": use.items_read,
                "bookings_fetched": use.items_fetched,
                "read_units": use.read_units,
            }
    return results


def _seed(hub: cost.Hub, bookings: int) -> None:
    """The websites and their bookings, through the real sync handler (unmetered)."""
    from bookinghub.websites.logic.registry import register_website

    for website_id, key in WEBSITES:
        register_website(
            website_id=website_id,
            organisation_id=cost.ORG,
            name=website_id,
            domain=f"{website_id}.example.com",
            api_key=key,
        )
    body = json.loads((ROOT / "events/sync_bookings/seed_booking_created.body.json").read_text())
    template = cost.load_event("sync_bookings/booking_created")
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        for n in range(bookings):
            website_id, key = WEBSITES[0] if n % 3 else WEBSITES[1]  # two thirds on test-website
            body.update(
                source_booking_id=f"listing-{n:06d}",
                booking_ref=f"BR-{n:06d}",
                activity_date=f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}",
                status=STATUSES[n % len(STATUSES)],
            )
            body["customer"] = {**body["customer"], "name": _name(n), "email": f"Guest{n}@Example.com"}
            event = json.loads(json.dumps(template))
            event["body"] = json.dumps(body)
            event["headers"] = {**event["headers"], "X-API-Key": key}
            event["multiValueHeaders"] = {**event["multiValueHeaders"], "X-API-Key": [key]}
            status, answer = hub.http("sync_bookings", event)
            if status != 200:
                raise SystemExit(f"seed booking {n}: {status} {answer}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(args.bookings, args.limit)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"== GET /api/bookings, one page of {args.limit}: {args.bookings} bookings, 2 websites, one organisation ==")
    print(f"  {'listing':<40} {'returned':>8} {'queries':>7} {'entries read':>12} {'fetched':>7} {'RRU':>6}")
    for label, row in results.items():
        print(
            f"  {label:<40} {row['returned']:>8} {row['queries']:>7} {row['index_entries_read']:>12}"
            f" {row['bookings_fetched']:>7} {row['read_units']:>6g}"
        )


if __name__ == "__main__":
    main()
