"""Websites: booking changes flow back to the source websites as signed webhooks (seed 002 sync back).

Trigger -> function (functions/<name>/handler.py, which calls bookinghub/websites/logic/sync_back.py):
  BookingEvents queue (bookings.py)   -> booking_events
The websites' own admin routes (register, rotate a key) are served by admin_api (admin.py).
"""

from __future__ import annotations

from infra.topology.model import Access, Function, QueueTrigger

BOOKING_EVENTS_CONSUMER = Function(
    name="booking_events",
    description="Turns booking domain events into deliveries: website sync back and subscriptions (delivery.py)",
    timeout_seconds=60,
    queue=QueueTrigger(queue="BookingEvents", batch_size=5),
    access=Access(read_tables=("Bookings",), write_tables=("Bookings",), send_queues=("Deliveries",)),
)

FUNCTIONS: tuple[Function, ...] = (BOOKING_EVENTS_CONSUMER,)
