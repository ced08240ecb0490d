"""`bookinghub logs BOOKING`: one booking's history, every source merged in time order.

Sources, each read through its own domain's dal (nothing here touches DynamoDB):
  sync      the booking's sync logs (seed 002): inbound syncs from its website (the timeline items of the
            changes they applied) and sync backs to it (IntegrationLogs rows, SYNCLOG#{booking})
  event     its domain events (the outbox items kept beside it in the Bookings table)
  delivery  each attempt of each delivery of those events: one delivery per (event, endpoint) by key,
            so the candidates are the website's sync back and the organisation's endpoints; a delivery's
            attempts are one GSI2 query of IntegrationLogs
  stripe    the pass bought by the booking's Stripe payment (its id derives from the payment intent)
  rooms     that pass's Rooms Event Hub pincode calls (IntegrationLogs: the pass's own partition)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

# Equal timestamps: a sync precedes the event it wrote, which precedes what it caused
SOURCE_ORDER = ("sync", "event", "stripe", "rooms", "delivery")
_STYLE = {"sync": "cyan", "event": "magenta", "stripe": "blue", "rooms": "yellow", "delivery": "green"}
_BAD = {"failed", "error", "timeout", "retrying", "needs_attention"}


class BookingNotFound(Exception):
    def __init__(self, booking_id: str) -> None:
        super().__init__(f"no booking {booking_id!r} (check the id, and --local or --stack)")


@dataclass(frozen=True)
class Entry:
    at: str  # ISO 8601, UTC
    source: str  # one of SOURCE_ORDER
    what: str
    status: str
    details: dict[str, Any] = field(default_factory=dict)


def add_parser(commands: Any, target_options: Any) -> None:
    logs = target_options(commands.add_parser("logs", help="one booking's syncs, events, deliveries and calls"))
    logs.add_argument("booking", help="the booking's id")
    logs.add_argument("--json", action="store_true", help="print the entries as JSON")


def run(args: argparse.Namespace, console: Console) -> int:
    try:
        entries = collect(args.booking)
    except BookingNotFound as error:
        print(f"bookinghub: {error}", file=sys.stderr)  # one line, like every other CLI failure
        return 1
    if args.json:
        print(json.dumps([asdict(e) for e in entries], indent=2, default=str))
    else:
        console.print(render(args.booking, entries))
    return 0


# --- merging and formatting (pure) ------------------------------------------------------------------


def _instant(at: str) -> datetime:
    moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def merge(*sources: Iterable[Entry]) -> list[Entry]:
    """Every entry, oldest first; ties by source (a sync before its event), then as each source gave them."""
    flat = [entry for source in sources for entry in source]
    rank = {name: n for n, name in enumerate(SOURCE_ORDER)}
    return sorted(flat, key=lambda e: (_instant(e.at), rank.get(e.source, len(rank))))


def render(booking_id: str, entries: list[Entry]) -> Table:
    table = Table(title=f"Booking {booking_id}: {len(entries)} entries", title_justify="left")
    for column in ("time (UTC)", "source", "what", "status", "details"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        status = escape(entry.status)
        table.add_row(
            _instant(entry.at).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            f"[{_STYLE.get(entry.source, 'white')}]{entry.source}[/]",
            escape(entry.what),
            f"[red]{status}[/red]" if entry.status in _BAD else status,
            escape(_details(entry.details)),
        )
    return table


def _details(details: dict[str, Any]) -> str:
    return "  ".join(f"{k}={v}" for k, v in details.items() if v not in (None, "", [], {}))


# --- each source as entries (pure) ------------------------------------------------------------------


def sync_entries(logs: Iterable[Any]) -> list[Entry]:
    return [
        Entry(
            at=log.created_at,
            source="sync",
            what=f"{log.direction} {log.event_type}",
            status=log.status,
            details={
                "website": log.website_id,
                "http": log.http_status_code,
                "ms": log.duration_ms,
                "attempt": log.attempt,
                "error": log.error_message,
            },
        )
        for log in logs
    ]


def event_entries(events: Iterable[Any]) -> list[Entry]:
    return [
        Entry(
            at=event.occurred_at,
            source="event",
            what=event.event_type,
            status="recorded",
            details={
                "origin": event.origin,
                "changed": ",".join(event.changed_fields),
                "actor": event.actor,
                "event_id": event.event_id,
            },
        )
        for event in events
    ]


def attempt_entries(delivery: Any, attempts: Iterable[Any]) -> list[Entry]:
    return [
        Entry(
            at=attempt.at,
            source="delivery",
            what=f"{attempt.event_type} -> {delivery.endpoint_id} #{attempt.attempt}",
            status=attempt.status,
            details={
                "http": attempt.status_code,
                "ms": attempt.duration_ms,
                "trigger": attempt.trigger,
                "error": attempt.error,
                "next": attempt.next_attempt_at,
                "delivery": delivery.id,
            },
        )
        for attempt in attempts
    ]


def queued_entry(delivery: Any) -> Entry:
    """A delivery without an attempt in the log (none made yet, or expired, or older than GSI2): it shows."""
    made = f"{delivery.attempts} attempts, none in the log" if delivery.attempts else "no attempt yet"
    return Entry(
        at=delivery.created_at,
        source="delivery",
        what=f"{delivery.event_type} -> {delivery.endpoint_id} ({made})",
        status=delivery.status,
        details={"next": delivery.next_attempt_at, "error": delivery.last_error, "delivery": delivery.id},
    )


def pass_entries(stripe_pass: dict[str, Any] | None) -> list[Entry]:
    if not stripe_pass:
        return []
    return [
        Entry(
            at=str(stripe_pass["created_at"]),
            source="stripe",
            what=f"{stripe_pass.get('source_event_type', 'payment')} -> pass {stripe_pass['id']}",
            status=str(stripe_pass.get("status", "")),
            details={
                "payment_intent": stripe_pass.get("payment_intent_id"),
                "pincode": stripe_pass.get("pincode_status"),
                "stripe_event": stripe_pass.get("source_event_id"),
            },
        )
    ]


def call_entries(calls: Iterable[Any]) -> list[Entry]:
    return [
        Entry(
            at=call.created_at,
            source="rooms" if call.integration_type == "rooms_event_hub" else call.integration_type,
            what=f"{call.operation} ({call.integration_id})",
            status=call.status,
            details={
                "http": call.http_status_code,
                "ms": call.duration_ms,
                "attempt": call.attempt,
                "reservation": call.reservation_id,
                "error": call.error_message,
            },
        )
        for call in calls
    ]


# --- reading (through each domain's dal) ------------------------------------------------------------


def collect(booking_id: str) -> list[Entry]:
    from bookinghub.bookings.dal import bookings as booking_store
    from bookinghub.bookings.dal import logs as booking_logs

    booking = booking_store.get_booking(booking_id)
    if booking is None:
        raise BookingNotFound(booking_id)
    events, inbound = booking_logs.booking_timeline(booking_id)  # inbound syncs: their events are their logs
    return merge(
        sync_entries(booking_logs.list_sync_logs(booking_id, inbound=inbound)),
        event_entries(events),
        _delivery_entries(booking, events),
        *_payment_entries(booking),
    )


def _delivery_entries(booking: dict[str, Any], events: list[Any]) -> list[Entry]:
    from bookinghub.delivery.dal import attempts as attempt_store
    from bookinghub.delivery.dal import deliveries as delivery_store
    from bookinghub.delivery.dal import endpoints as endpoint_store
    from bookinghub.delivery.dal.keys import delivery_id_for
    from bookinghub.delivery.models import website_endpoint_id

    if not events:
        return []
    endpoints = [website_endpoint_id(str(booking["website_id"]))]
    endpoints += [e.id for e in endpoint_store.list_endpoints(str(booking["organisation_id"]))]
    wanted = [delivery_id_for(event.event_id, endpoint) for event in events for endpoint in endpoints]
    entries: list[Entry] = []
    for delivery in delivery_store.get_many(wanted).values():
        attempts = attempt_store.attempts_of_delivery(delivery.id)
        entries += attempt_entries(delivery, attempts) if attempts else [queued_entry(delivery)]
    return entries


def _payment_entries(booking: dict[str, Any]) -> list[list[Entry]]:
    from bookinghub.payments.dal import passes as pass_store
    from bookinghub.payments.logic.passes import stored_pass
    from bookinghub.registry.dal import integrations as integration_store

    payment_intent = booking.get("stripe_payment_intent_id")
    if not payment_intent:
        return []
    pass_id = pass_store.pass_id_for(str(payment_intent))
    return [pass_entries(stored_pass(pass_id)), call_entries(integration_store.call_logs_of_pass(pass_id))]
