"""`bookinghub realtime migrate-watches` (logic/watch.migrate_watches): the per-key watches written before
the watch summaries (`WATCH#<key>` items) copied into them, so the relay's one read finds them.

Per-key items are made here as the relay before the summaries left them: a subscription registered,
then its summaries removed and its keys written as items of their own.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.integration.conftest import TEST_KEY, outbox_events
from tests.integration.realtime.conftest import (
    SHARED_KEYS,
    Posts,
    broadcast_item,
    make_booking,
    send,
    update_booking,
    website_connection,
)
from tests.integration.realtime.test_watch_summaries import _item, _reads, atomic_items  # noqa: F401

pytestmark = pytest.mark.usefixtures("test_website")
ORG = "demo-org"
SUMMARIES = ("WATCH#HUB", f"WATCH#ORG#{ORG}", "WATCH#ORG#*")


def _dynamodb() -> tuple[Any, str]:
    from bookinghub.aws.clients import client
    from bookinghub.core.settings import get_settings

    return client("dynamodb"), get_settings().realtime_connections_table


def _as_before_the_summaries(keys: dict[str, int]) -> None:
    """The watches as the relay before the summaries kept them: per-key items only (key -> expiry)."""
    from bookinghub.aws.codec import to_item

    dynamodb, table = _dynamodb()
    for pk in SUMMARIES:
        dynamodb.delete_item(TableName=table, Key=to_item({"PK": pk, "SK": "WATCH"}))
    for key, until in keys.items():
        item = {"PK": f"WATCH#{key}", "SK": "WATCH", "filter_key": key, "expires_at": until}
        dynamodb.put_item(TableName=table, Item=to_item(item))


def _summaries() -> dict[str, dict[str, Any]]:
    return {pk: _item({"PK": pk, "SK": "WATCH"}) for pk in SUMMARIES}


def _counted(summary: dict[str, Any]) -> bool:
    """`b` is the bytes of the summary's keys, each counted once."""
    from bookinghub.realtime.dal import connections

    return int(summary.get("b") or 0) == sum(connections._size(k) for k in summary if ":" in k)


def test_migrated_watches_are_found_by_one_read_and_a_change_reaches_the_subscriber() -> None:
    from bookinghub.realtime.dal import connections
    from bookinghub.realtime.logic.watch import migrate_watches

    posts = Posts()
    booking = make_booking("mig-1")
    website_connection("c1", TEST_KEY)
    send("c1", posts, action="subscribe", filter={"website_id": "test-website"})
    until = int(time.time()) + 3600
    _as_before_the_summaries(dict.fromkeys(SHARED_KEYS, until))  # website, organisation, customer
    update_booking("mig-1", 3, "2026-02-21T10:00:00Z")
    assert "rtw" not in max(outbox_events(booking), key=lambda i: int(i["seq"]))  # the gap: not found

    report = migrate_watches()
    assert (report.read, report.copied["hub"], report.current, report.expired) == (3, 3, 0, 0)
    found, made = _reads(lambda: connections.watched(list(SHARED_KEYS), ORG))
    assert found == set(SHARED_KEYS)
    assert made == ["BatchGetItem"]  # the hub's item alone, as for a watch a subscribe wrote
    hub = _item(connections.HUB_SUMMARY)
    assert {hub[key] for key in SHARED_KEYS} == {until}  # the expiry kept, not extended
    assert _counted(hub)

    update_booking("mig-1", 4, "2026-02-21T11:00:00Z")
    latest = max(outbox_events(booking), key=lambda i: int(i["seq"]))
    assert latest["rtw"] == "wup:john@example.com"
    broadcast_item(latest, posts)
    assert [(e["booking_id"], e["sequence"]) for e in posts.events("c1")] == [(booking, int(latest["seq"]))]


def test_a_second_run_copies_nothing_and_changes_nothing_also_past_the_overflow() -> None:
    """Enough keys that the hub's and the cross-organisation summaries fill: the rest stay in their own
    items, both levels marked `overflow`, and every key is found. Run again: the same items, `b` the same."""
    from bookinghub.realtime.dal import connections
    from bookinghub.realtime.logic.watch import migrate_watches

    until = int(time.time()) + 3600
    # Later and later expiries: the marks must reach the latest one left in its own item
    keys = {f"booking_id:00000000-0000-4000-8000-{n:012d}": until + n for n in range(130)}
    _as_before_the_summaries(keys)
    first = migrate_watches()
    assert first.read == 130
    assert first.copied["hub"] > 0
    assert first.copied["cross-organisation"] > 0
    assert first.copied["own item, levels marked overflow"] > 0
    assert sum(first.copied.values()) == 130
    after = _summaries()
    assert all(_counted(summary) for summary in after.values())
    assert int(after["WATCH#HUB"]["overflow"]) == int(after["WATCH#ORG#*"]["overflow"]) == until + 129
    assert connections.watched(list(keys), ORG, now=until + 128) == {max(keys)}  # the last one, near its end
    assert connections.watched(list(keys), ORG) == set(keys)

    second, made = _reads(migrate_watches)
    assert (second.read, second.current, sum(second.copied.values())) == (130, 130, 0)
    assert _summaries() == after
    assert set(made) == {"Scan", "GetItem"}  # not even a failed conditional write (each costs a unit)


def test_the_scan_is_read_a_page_at_a_time() -> None:
    from bookinghub.realtime.dal import connections

    until = int(time.time()) + 3600
    keys = {f"website_id:site-{n}": until for n in range(25)}
    _as_before_the_summaries(keys)
    found, made = _reads(lambda: dict(connections.own_watches(page_size=10)))
    assert found == keys
    assert made.count("Scan") >= 3  # the connections' and summaries' items share the pages


def test_an_expired_watch_is_not_copied() -> None:
    from bookinghub.realtime.dal import connections
    from bookinghub.realtime.logic.watch import migrate_watches

    now = int(time.time())
    _as_before_the_summaries({"website_id:gone": now - 1, "website_id:live": now + 600})
    report = migrate_watches()
    assert (report.read, report.expired, report.copied["hub"]) == (2, 1, 1)
    assert "website_id:gone" not in _item(connections.HUB_SUMMARY)
    assert connections.watched(["website_id:gone", "website_id:live"], ORG) == {"website_id:live"}


def test_a_subscribe_between_the_read_and_the_copy_keeps_its_later_expiry() -> None:
    """The migration read the key's old item; a subscribe then writes it to the hub's summary for its
    full window. The copy does not move it back, and its bytes are counted once."""
    from bookinghub.realtime.dal import connections
    from bookinghub.realtime.logic import watch as logic

    posts = Posts()
    until = int(time.time()) + 600
    _as_before_the_summaries({"website_id:test-website": until, "provider_id:demo-org": until})
    website_connection("c1", TEST_KEY)
    real = connections.copy_watch
    calls: list[str] = []

    def subscribe_first(filter_key: str, expiry: int, now: float | None = None) -> int | None:
        if not calls:
            send("c1", posts, action="subscribe", filter={"website_id": "test-website"})
        calls.append(filter_key)
        return real(filter_key, expiry, now)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connections, "copy_watch", subscribe_first)
        report = logic.migrate_watches()
    assert report.read == 2
    hub = _item(connections.HUB_SUMMARY)
    assert int(hub["website_id:test-website"]) > until  # the subscribe's window, not the old expiry
    assert int(hub["provider_id:demo-org"]) == until
    assert _counted(hub)


@pytest.mark.usefixtures("atomic_items")
def test_the_migration_beside_concurrent_subscribes_loses_no_key_and_counts_each_once() -> None:
    from bookinghub.realtime.dal import connections
    from bookinghub.realtime.logic.watch import migrate_watches

    until = int(time.time()) + 3600
    old = {f"booking_id:00000000-0000-4000-8000-{n:012d}": until for n in range(60)}
    _as_before_the_summaries(old)
    fresh = [f"booking_id:00000000-0000-4000-9000-{n:012d}" for n in range(60)]
    shared = list(old)[:30]  # also subscribed meanwhile
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = [pool.submit(migrate_watches), pool.submit(migrate_watches)]
        writes = [pool.submit(connections.watch, key, ORG) for key in fresh + shared]
        for run in runs:
            run.result()
        for write in writes:
            write.result()
    assert connections.watched([*old, *fresh], ORG) == {*old, *fresh}
    assert all(_counted(summary) for summary in _summaries().values())
    assert all(int(summary.get("b") or 0) <= connections.SUMMARY_BYTES for summary in _summaries().values())


def test_the_cli_prints_what_it_copied(capsys: pytest.CaptureFixture[str]) -> None:
    from cli import ops
    from cli.main import build_parser

    now = int(time.time())
    _as_before_the_summaries({"website_id:gone": now - 1, "website_id:live": now + 600})
    args: argparse.Namespace = build_parser().parse_args(["realtime", "migrate-watches", "--local"])
    assert ops.run(args, True) == 0
    assert " ".join(capsys.readouterr().out.split()) == (
        "per-key watches: 2 read: copied 1 (1 to hub, 0 to cross-organisation, 0 to own item, levels marked "
        "overflow), 0 already in the summaries, 1 expired (skipped)"
    )
    assert ops.run(args, True) == 0  # again: nothing to copy
    again = " ".join(capsys.readouterr().out.split())  # (the console wraps at its width)
    assert "2 read: copied 0 (" in again
    assert "1 already in the summaries, 1 expired" in again
