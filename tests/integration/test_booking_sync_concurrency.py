"""The same booking.created delivered 5 times at once: one booking, one event, one sync log."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bookinghub.aws import keys
from tests.integration.conftest import outbox_events, post_sync, seed_body, snapshot_tables, sync_logs

DELIVERIES = 5


def _deliver_together(bodies: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    start = threading.Barrier(len(bodies), timeout=30)

    def deliver(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        start.wait()  # released together, so the deliveries race for the same booking
        return post_sync(body)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(deliver, bodies, timeout=60))


def test_concurrent_identical_creates_make_one_booking(test_website: Any, atomic_dynamodb: None) -> None:
    booking_id = keys.booking_id_for("test-website", "uuid-from-source-database")

    answers = _deliver_together([seed_body() for _ in range(DELIVERIES)])

    assert {status for status, _ in answers} == {200}
    assert {body["booking_id"] for _, body in answers} == {booking_id}
    assert sorted(body["outcome"] for _, body in answers) == ["created"] + ["unchanged"] * (DELIVERIES - 1)
    assert len(outbox_events(booking_id)) == 1
    assert len(sync_logs()) == 1
    bookings = [item for item in snapshot_tables()["Bookings"] if '"BOOKING"' in item]
    assert len(bookings) == 1


def test_concurrent_different_creates_make_one_booking_and_one_duplicate_answer(
    test_website: Any, atomic_dynamodb: None
) -> None:
    answers = _deliver_together([seed_body(), seed_body(guest_count=3)])

    assert sorted(status for status, _ in answers) == [200, 409]
    assert len(sync_logs()) == 1
