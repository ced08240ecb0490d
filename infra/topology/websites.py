"""Websites: booking changes flow back to the source websites as signed webhooks (seed 002 sync back).

Trigger -> function (functions/<name>/handler.py, which calls bookinghub/websites/logic/sync_back.py):
  BookingEvents queue (bookings.py)   -> booking_events
The websites' own admin routes (register, rotate a key) are served by admin_api (admin.py).
"""

from __future__ import annotations

from infra.topology.model import Access, Function, QueueTrigger

BOOKING_EVENTS_CONSUMER = Function(
    name="booking_events",
    description="Delivers booking domain events to the websites' webhooks, signed (seed 002 sync back)",
    # A batch of 5 slow receivers (10 s webhook timeout each) fits in 60 s; visibility is then 6 min.
    timeout_seconds=60,
    queue=QueueTrigger(queue="BookingEvents", batch_size=5),
    access=Access(
        read_tables=("Bookings", "Idempotency"),
        write_tables=("IntegrationLogs", "Idempotency"),
        kms_decrypt=True,
    ),
)

FUNCTIONS: tuple[Function, ...] = (BOOKING_EVENTS_CONSUMER,)
