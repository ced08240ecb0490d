"""Domain events (the outbox) and audit rows."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

BookingEventType = Literal[
    "booking.created",
    "booking.updated",
    "booking.cancelled",
    "booking.refunded",
    "booking.status_changed",
    # A source and the hub changed the same field (bookinghub.conflicts): for subscribers and the
    # real-time feed, never synced back to a website as a booking change
    "booking.conflict_detected",
    "booking.conflict_resolved",
]


class BookingDomainEvent(BaseModel):
    """A change to a booking, written in the same transaction as the change itself.

    `origin` says who made the change (`website:<id>` for a source website's sync, `admin:<user>` for
    an operator), so the outbound sync never echoes a website's own change back to it.
    """

    model_config = ConfigDict(frozen=True)

    event_id: str
    event_type: BookingEventType
    booking_id: str
    website_id: str
    organisation_id: str
    source_booking_id: str
    origin: str
    changed_fields: list[str]
    data: dict[str, Any]
    occurred_at: str
    actor: str | None = None


SyncDirection = Literal["inbound", "outbound"]
SyncStatus = Literal["success", "failed", "pending", "ignored"]


class SyncLog(BaseModel):
    """Seed 002's `sync_logs` row. `payload` is stored with emails, phones and secrets masked."""

    id: str
    booking_id: str | None
    website_id: str
    direction: SyncDirection
    event_type: str
    payload: dict[str, Any] | None
    status: SyncStatus
    error_message: str | None = None
    created_at: str
    # Outbound deliveries only: the website's HTTP answer, how long it took, and which try this was
    http_status_code: int | None = None
    duration_ms: int | None = None
    attempt: int | None = None
