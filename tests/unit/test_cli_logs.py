"""`bookinghub logs`: merging the sources in time order and showing them (no AWS: the readers are in
tests/integration/delivery/test_booking_logs.py)."""

from __future__ import annotations

from rich.console import Console

from bookinghub.bookings.models.events import BookingDomainEvent, SyncLog
from bookinghub.delivery.models import Attempt, Delivery
from bookinghub.registry.models import IntegrationCallLog
from cli import logs
from cli.logs import Entry, merge

BOOKING = "0b5c8a8e-0000-4000-8000-000000000001"


def entry(at: str, source: str, what: str = "x", status: str = "ok") -> Entry:
    return Entry(at=at, source=source, what=what, status=status)


def test_merge_orders_by_instant_whatever_the_offset_or_precision() -> None:
    merged = merge(
        [entry("2026-03-01T10:00:02.000000Z", "sync", "late")],
        [entry("2026-03-01T12:00:01+02:00", "event", "earliest")],  # 10:00:01 UTC
        [entry("2026-03-01T10:00:01.500Z", "delivery", "middle")],
    )
    assert [e.what for e in merged] == ["earliest", "middle", "late"]


def test_equal_instants_put_the_sync_before_its_event_and_the_event_before_its_deliveries() -> None:
    at = "2026-03-01T10:00:00.000000Z"
    merged = merge(
        [entry(at, "delivery", "d1"), entry(at, "delivery", "d2")],
        [entry(at, "event")],
        [entry(at, "sync")],
    )
    assert [e.source for e in merged] == ["sync", "event", "delivery", "delivery"]
    assert [e.what for e in merged if e.source == "delivery"] == ["d1", "d2"]  # each source keeps its order


def test_each_source_becomes_readable_entries() -> None:
    sync = SyncLog(
        id="s1",
        booking_id=BOOKING,
        website_id="w1",
        direction="inbound",
        event_type="booking.created",
        payload=None,
        status="success",
        created_at="2026-03-01T10:00:00.000000Z",
    )
    event = BookingDomainEvent(
        event_id="e1",
        event_type="booking.updated",
        booking_id=BOOKING,
        website_id="w1",
        organisation_id="o1",
        source_booking_id="src",
        origin="admin:ops@example.com",
        changed_fields=["admin_notes", "status"],
        data={},
        occurred_at="2026-03-01T10:01:00.000000Z",
    )
    delivery = Delivery(
        id="d1",
        endpoint_id="web_w1",
        organisation_id="o1",
        event_id="e1",
        event_type="booking.updated",
        sequence=1,
        payload="{}",
        created_at="2026-03-01T10:01:00.000000Z",
        updated_at="2026-03-01T10:01:00.000000Z",
        next_attempt_at="2026-03-01T10:02:00.000000Z",
    )
    attempt = Attempt(
        endpoint_id="web_w1",
        delivery_id="d1",
        event_id="e1",
        event_type="booking.updated",
        attempt=1,
        trigger="scheduled",
        status="retrying",
        status_class="5xx",
        status_code=503,
        duration_ms=12,
        at="2026-03-01T10:01:01.000000Z",
    )
    call = IntegrationCallLog(
        id="c1",
        integration_id="rooms-1",
        integration_type="rooms_event_hub",
        organisation_id="o1",
        operation="create_reservation",
        status="timeout",
        pass_id="p1",
        created_at="2026-03-01T10:03:00.000000Z",
    )
    stripe = {"id": "p1", "created_at": "2026-03-01T10:02:30.000000Z", "status": "active", "payment_intent_id": "pi_1"}
    merged = merge(
        logs.call_entries([call]),
        logs.attempt_entries(delivery, [attempt]),
        logs.sync_entries([sync]),
        logs.pass_entries(stripe),
        logs.event_entries([event]),
        [logs.queued_entry(delivery)],
    )
    assert [(e.source, e.status) for e in merged] == [
        ("sync", "success"),
        ("event", "recorded"),
        ("delivery", "pending"),  # created with the event: the queued entry
        ("delivery", "retrying"),
        ("stripe", "active"),
        ("rooms", "timeout"),
    ]
    assert merged[1].details["changed"] == "admin_notes,status"
    assert merged[3].what == "booking.updated -> web_w1 #1"
    assert merged[3].details["http"] == 503
    assert logs.pass_entries(None) == []

    console = Console(width=200, record=True, color_system=None)
    console.print(logs.render(BOOKING, merged))
    text = console.export_text()
    assert f"Booking {BOOKING}: 6 entries" in text
    assert "2026-03-01 10:01:01.000" in text
    assert "http=503  ms=12  trigger=scheduled" in text
    assert "error=" not in text.split("retrying")[1].split("\n")[0]  # empty details are left out


def test_markup_in_a_value_is_shown_as_text() -> None:
    console = Console(width=200, record=True, color_system=None)
    console.print(logs.render(BOOKING, [Entry("2026-03-01T10:00:00Z", "sync", "[bold]x[/bold]", "failed")]))
    assert "[bold]x[/bold]" in console.export_text()
