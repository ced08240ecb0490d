"""GET /api/bookings answered by keys: each filter reads its own partitions (counted with botocore's
Query answers), pages run across status partitions and websites, a status change moves a booking
between partitions, tenancy holds on every path, a bad filter is 400 and writes nothing; and the
backfill that lays stored bookings out for these indexes."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.integration.admin.conftest import ORG_KEY_B, call_admin, claims
from tests.integration.conftest import DEMO_ORG, post_sync, seed_body, snapshot_tables

ADMIN = claims("admin")
STATUSES = ("confirmed", "cancelled", "pending", "completed", "confirmed", "refunded", "no_show", "confirmed")


@pytest.fixture
def scanned(tenants: dict[str, Any]) -> Iterator[list[tuple[str, int]]]:
    """(index, entries read) of every Query the hub makes from now on, from DynamoDB's own answer
    (ScannedCount: the entries read before the filter)."""
    from bookinghub.aws.clients import client

    seen: list[tuple[str, int]] = []

    def note(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["index_name"] = params.get("IndexName", "")

    def count(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        seen.append((context.get("index_name", ""), int(parsed.get("ScannedCount", 0))))

    events = client("dynamodb").meta.events  # the one cached client every dal uses
    events.register("provide-client-params.dynamodb.Query", note, unique_id="listing-keys-note")
    events.register("after-call.dynamodb.Query", count, unique_id="listing-keys-count")
    yield seen
    events.unregister("provide-client-params.dynamodb.Query", unique_id="listing-keys-note")
    events.unregister("after-call.dynamodb.Query", unique_id="listing-keys-count")


@pytest.fixture
def many(tenants: dict[str, Any]) -> dict[str, list[str]]:
    """16 more bookings on test-website and 8 on other-website (demo-org), statuses mixed; ids by status."""
    by_status: dict[str, list[str]] = {}
    for n in range(24):
        key, prefix = ("test_sk_xxxxx", "TW") if n % 3 else (ORG_KEY_B, "OW")
        body = seed_body(
            source_booking_id=f"many-{n}",
            booking_ref=f"{prefix}-1{n:05d}",
            activity_date=f"2026-04-{1 + n:02d}",
            status=STATUSES[n % len(STATUSES)],
        )
        body["customer"] = {**body["customer"], "name": f"Guest {n:02d} Person", "email": f"Guest{n}@Example.COM"}
        status, answer = post_sync(body, api_key=key)
        assert status == 200, answer
        by_status.setdefault(STATUSES[n % len(STATUSES)], []).append(answer["booking_id"])
    return by_status


def _list(caller: dict[str, str] = ADMIN, **query: Any) -> dict[str, Any]:
    status, body, _ = call_admin("GET", "/api/bookings", caller=caller, query=query)
    assert status == 200, body
    return body


def _all_pages(caller: dict[str, str] = ADMIN, **query: Any) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = _list(caller, **query, **({"cursor": cursor} if cursor else {}))
        ids += [b["id"] for b in page["bookings"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def _read(scanned: list[tuple[str, int]], index: str) -> int:
    return sum(n for name, n in scanned if name == index)


def test_a_status_filter_reads_only_that_status(many: dict[str, list[str]], scanned: list[tuple[str, int]]) -> None:
    page = _list(status="cancelled", website_id="test-website", limit=1)
    assert [b["status"] for b in page["bookings"]] == ["cancelled"]
    assert page["next_cursor"] is not None
    # 1 and one more to know there are more: nothing of the 20-odd other bookings of the website
    assert _read(scanned, "BookingsByWebsiteStatus") == 2
    scanned.clear()
    cancelled = _all_pages(status="cancelled")  # the organisation: both websites' cancelled partitions
    assert sorted(cancelled) == sorted(many["cancelled"])
    assert _read(scanned, "BookingsByWebsiteStatus") <= len(cancelled) + 2


def test_pages_run_across_status_partitions_and_websites_in_date_order(
    tenants: dict[str, Any], many: dict[str, list[str]], scanned: list[tuple[str, int]]
) -> None:
    first = _list(limit=5)
    assert len(first["bookings"]) == 5
    # Unfiltered: each of the 12 partitions (2 websites x 6 statuses) asked for its share, not for 6
    assert _read(scanned, "BookingsByWebsiteStatus") <= 6 + 12
    every = _all_pages(limit=5)
    dates = [(b["activity_date"], b["id"]) for b in _every_booking()]
    assert every == [booking_id for _, booking_id in sorted(dates)]
    assert len(every) == len(set(every)) == 3 + 24  # demo-org's 3 and the 24: none repeated, none skipped
    assert tenants["rival"] not in every


def _every_booking() -> list[dict[str, Any]]:
    return list(_list(limit=100)["bookings"])


def test_a_name_prefix_is_a_key_and_a_substring_scans(
    many: dict[str, list[str]], scanned: list[tuple[str, int]]
) -> None:
    assert [b["customer_name"] for b in _list(q="guest 07")["bookings"]] == ["Guest 07 Person"]
    # One probe and one read of the prefix's entries, on BookingsByName only
    assert _read(scanned, "BookingsByName") == 2
    assert _read(scanned, "BookingsByWebsiteStatus") == 0
    scanned.clear()
    assert len(_list(q="PERSON")["bookings"]) == 24  # inside the name: the substring fallback
    assert _read(scanned, "BookingsByWebsiteStatus") >= 24


def test_email_and_ref_find_their_booking_in_any_case(tenants: dict[str, Any], many: dict[str, list[str]]) -> None:
    found = _list(q="guest5@example.com")["bookings"]
    assert [b["customer_email"] for b in found] == ["Guest5@example.com"]  # (the domain normalised at sync)
    assert [b["booking_ref"] for b in _list(q="TW-100005")["bookings"]] == ["TW-100005"]
    assert [b["id"] for b in _list(q="alice@example.com")["bookings"]] == [tenants["test_a"]]  # not rival's


def test_a_status_change_moves_the_booking_between_partitions(many: dict[str, list[str]]) -> None:
    booking_id = many["pending"][0]
    assert booking_id in _all_pages(status="pending")
    status, answer, _ = call_admin("PUT", f"/api/bookings/{booking_id}", caller=ADMIN, body={"status": "cancelled"})
    assert status == 200, answer
    assert booking_id not in _all_pages(status="pending")
    assert booking_id in _all_pages(status="cancelled")
    assert _all_pages().count(booking_id) == 1
    # A website's own status change (a sync) moves it too
    moved = many["pending"][1]  # many-10, on test-website
    body = seed_body(
        source_booking_id="many-10", booking_ref="TW-100010", activity_date="2026-04-11", status="completed"
    )
    body["customer"] = {**body["customer"], "name": "Guest 10 Person", "email": "Guest10@Example.COM"}
    body["event"] = "booking.updated"
    status, synced = post_sync(body)
    assert (status, synced["booking_id"]) == (200, moved)
    assert moved in _all_pages(status="completed")
    assert moved not in _all_pages(status="pending")


def test_every_path_keeps_to_the_callers_bookings(tenants: dict[str, Any], many: dict[str, list[str]]) -> None:
    staff = claims("staff", websites=("other-website",))
    theirs = _all_pages(staff)
    assert tenants["other"] in theirs
    assert tenants["test_a"] not in theirs
    assert all(b["website_id"] == "other-website" for b in _list(staff, q="guest")["bookings"])
    assert _list(staff, q="HW-000001")["bookings"] == []  # test-website's ref
    rival = claims("admin", org="rival-org")
    assert [b["id"] for b in _list(rival, q="alice@example.com")["bookings"]] == [tenants["rival"]]
    assert _list(rival, q="guest")["bookings"] == []
    status, body, _ = call_admin("GET", "/api/bookings", caller=rival, query={"website_id": "test-website"})
    assert (status, body["code"]) == (404, "WEBSITE_NOT_FOUND")
    boss = claims("superadmin", org=None)
    assert _list(boss, organisation_id="rival-org", website_id="test-website")["bookings"] == []  # not rival's site
    assert [b["id"] for b in _list(boss, organisation_id="rival-org")["bookings"]] == [tenants["rival"]]


@pytest.mark.parametrize(
    "query",
    [{"status": "lost"}, {"status": "cancelled", "limit": "0"}, {"q": "guest", "cursor": "bm90LWEtY3Vyc29y"}],
)
def test_a_bad_filter_is_400_and_writes_nothing(many: dict[str, list[str]], query: dict[str, str]) -> None:
    before = snapshot_tables()
    status, body, _ = call_admin("GET", "/api/bookings", caller=ADMIN, query=query)
    assert (status, body["code"]) in ((400, "INVALID_PAYLOAD"), (400, "INVALID_QUERY")), body
    assert snapshot_tables() == before


# --- The backfill ------------------------------------------------------------------------------------


def _bookings_table() -> str:
    import os

    return os.environ["BOOKINGS_TABLE_NAME"]


def _as_before(booking_id: str) -> None:
    """Lay a booking out as before BookingsByWebsiteStatus: no list_key, email_key always."""
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=_bookings_table(), Key={"PK": {"S": f"BOOKING#{booking_id}"}, "SK": {"S": "BOOKING"}}
    )["Item"]
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName=_bookings_table(),
        Key={"PK": {"S": f"BOOKING#{booking_id}"}, "SK": {"S": "BOOKING"}},
        UpdateExpression="SET email_key = :e REMOVE list_key",
        ExpressionAttributeValues={":e": {"S": item["customer_email"]["S"].lower()}},
    )


def _backfill(*options: str) -> None:
    from cli import ops
    from cli.main import build_parser

    args: argparse.Namespace = build_parser().parse_args(["backfill", "listing-keys", *options])
    assert ops.run(args, True) == 0


def test_the_backfill_lays_old_bookings_out_and_is_idempotent(tenants: dict[str, Any]) -> None:
    from bookinghub.bookings.dal.backfill import backfill_listing_keys
    from tests.integration.conftest import booking_item

    for booking_id in tenants.values():
        _as_before(booking_id)
    assert _list(status="confirmed")["bookings"] == []  # not in any listing partition yet
    before = snapshot_tables()
    _backfill("--dry-run")
    assert snapshot_tables() == before
    _backfill("--keep-copies")  # while the previous code still reads email_key
    item = booking_item(tenants["test_a"])
    assert item is not None
    assert (item["list_key"], item["email_key"]) == ("test-website#confirmed", "alice@example.com")
    _backfill()
    assert {b["id"] for b in _list(status="confirmed")["bookings"]} == {
        tenants["test_a"],
        tenants["test_b"],
        tenants["other"],
    }
    item = booking_item(tenants["test_a"])
    assert item is not None
    assert "email_key" not in item  # the lower-case email needs no copy
    again = backfill_listing_keys()
    assert (again.updated, again.current) == (0, again.scanned)


def test_the_backfill_leaves_a_booking_written_meanwhile(
    tenants: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.bookings.dal import backfill

    for booking_id in tenants.values():
        _as_before(booking_id)
    real = backfill._changes
    raced: list[str] = []

    def edited_in_between(item: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        if not raced:  # an operator's edit lands between the backfill's read and its write
            raced.append(str(item["PK"]).removeprefix("BOOKING#"))
            status, answer, _ = call_admin(
                "PUT", f"/api/bookings/{raced[0]}", caller=claims("superadmin"), body={"status": "no_show"}
            )
            assert status == 200, answer
        return real(item)

    monkeypatch.setattr(backfill, "_changes", edited_in_between)
    report = backfill.backfill_listing_keys()
    assert (report.scanned, report.updated, report.changed_meanwhile) == (4, 3, 1)
    organisation = DEMO_ORG if raced[0] != tenants["rival"] else "rival-org"
    boss = claims("superadmin")
    assert [b["id"] for b in _list(boss, organisation_id=organisation, status="no_show")["bookings"]] == raced
