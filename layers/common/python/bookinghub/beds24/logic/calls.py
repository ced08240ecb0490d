"""What the hub keeps of each Beds24 API call: an integration log row (operation, status, HTTP status,
duration, credits left), written as the call happens. Query parameters may name a guest (searchString),
so they are masked like any payload.

A webhook event's own successful calls (the booking's re-read) are kept on the event instead
(`EventCalls`): the consumer writes the event's final status anyway, so the call costs no write of its
own. A failed call is always a row at once (and listed by type), a token minted is a row (it serves the
environment's later events too), and a held success becomes a row after all if the event does not reach
its final write (deferred, postponed, an error)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bookinghub.beds24.client.api import CallRecord
from bookinghub.beds24.models.entities import BEDS24, Beds24Property
from bookinghub.core.clock import iso_now
from bookinghub.core.security import mask_pii, mask_text
from bookinghub.registry.dal import integrations as integration_store
from bookinghub.registry.models import IntegrationCallLog


def integration_id(prop: Beds24Property) -> str:
    return f"{prop.organisation_id}/{prop.id}"


def call_log(prop: Beds24Property, call: CallRecord, *, at: str | None = None) -> IntegrationCallLog:
    return IntegrationCallLog(
        id=str(uuid.uuid4()),
        integration_id=integration_id(prop),
        integration_type=BEDS24,
        organisation_id=prop.organisation_id,
        operation=call.operation,
        status=call.status,
        http_status_code=call.http_status_code,
        duration_ms=call.duration_ms,
        error_message=mask_text(call.error_message) if call.error_message else None,
        request_payload=mask_pii(dict(call.request)),
        response_payload={"credits": asdict(call.credits)} if call.credits else None,
        created_at=at or iso_now(),
    )


def call_logger(prop: Beds24Property) -> Callable[[CallRecord], None]:
    def record(call: CallRecord) -> None:
        # Successes stay in the property's own log partition (no one lists Beds24 successes by type)
        integration_store.put_call_log(call_log(prop, call), index_success=False)

    return record


class EventCalls:
    """The `on_call` of a webhook event's Beds24 client: failures logged at once, successes held for the
    event's final write (`for_event`), or logged as rows by `flush` when the event ends any other way."""

    def __init__(self, prop: Beds24Property) -> None:
        self._prop = prop
        self._log = call_logger(prop)
        self._held: list[tuple[str, CallRecord]] = []

    def __call__(self, call: CallRecord) -> None:
        if call.status != "success" or call.operation == "token":
            self._log(call)  # a token minted serves the environment's later events too: its own row
        else:
            self._held.append((iso_now(), call))

    def for_event(self) -> list[dict[str, Any]] | None:
        """The held successes as the event stores them: what its item does not already say (the request is
        the event's own booking and property, the time is its `processed_at` less the durations); None if
        there are none. Still held until `written`."""
        return [_on_event(call) for _, call in self._held] or None

    def written(self) -> None:
        """The event's final write carried them."""
        self._held = []

    def flush(self) -> None:
        """Log every held success as a row (the event is not being finished by this run)."""
        held, self._held = self._held, []
        for at, call in held:
            integration_store.put_call_log(call_log(self._prop, call, at=at), index_success=False)


def _on_event(call: CallRecord) -> dict[str, Any]:
    record: dict[str, Any] = {
        "operation": call.operation,
        "http_status_code": call.http_status_code,
        "duration_ms": call.duration_ms,
    }
    if call.credits and call.credits.remaining is not None:
        record["credits_remaining"] = call.credits.remaining
    return record
