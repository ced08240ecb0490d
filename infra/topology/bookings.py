"""Bookings (seed 002): websites push booking changes in; every change leaves a domain event (outbox).

Route/trigger -> function (its code is functions/<name>/handler.py, which calls bookinghub/bookings/logic/):
  POST /api/bookings/sync             -> sync_bookings
  Bookings stream, booking changes    -> outbox_relay -> timeline item (EVENT#) + BookingEvents queue
  and EVENT# inserts                     (consumed in websites.py; a website's own change with no
                                         subscription to serve is not queued)
"""

from __future__ import annotations

from infra.topology.model import Access, Function, Queue, Route, StreamTrigger

# Booking domain events on their way to the websites' webhooks (produced by outbox_relay, consumed by
# booking_events in websites.py).
BOOKING_EVENTS = Queue(name="BookingEvents", env_var="BOOKING_EVENTS_QUEUE_URL")

QUEUES: tuple[Queue, ...] = (BOOKING_EVENTS,)

SYNC_BOOKINGS = Function(
    name="sync_bookings",
    description="Inbound booking sync from source websites (seed 002): POST /api/bookings/sync",
    timeout_seconds=10,
    routes=(Route("POST", "/api/bookings/sync", auth="api_key", json_body=True),),
    access=Access(
        read_tables=("Bookings",),
        write_tables=("Bookings", "IntegrationLogs"),
    ),
)

OUTBOX_RELAY = Function(
    name="outbox_relay",
    description="Relays domain events written to the Bookings table (outbox) onto the BookingEvents queue",
    timeout_seconds=30,
    # Booking changes (their events) and events written on their own (a test webhook, the PMS outbox)
    stream=StreamTrigger(table="Bookings", sk_prefixes=("EVENT#", "BOOKING"), event_names=("INSERT", "MODIFY")),
    # Writes each booking change's timeline item (EVENT#); reads the organisation's subscriptions to tell
    # an echo that nothing needs from one a subscription does; reads the real-time watches
    # (RealtimeConnections) after writing the item, and marks a watched one for the broadcaster.
    access=Access(
        read_tables=("Bookings", "RealtimeConnections"), write_tables=("Bookings",), send_queues=("BookingEvents",)
    ),
)

FUNCTIONS: tuple[Function, ...] = (SYNC_BOOKINGS, OUTBOX_RELAY)
