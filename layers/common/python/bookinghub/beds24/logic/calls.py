"""What the hub keeps of each Beds24 API call: an integration log row (operation, status, HTTP status,
duration, credits left), written as the call happens. Query parameters may name a guest (searchString),
so they are masked like any payload."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict

from bookinghub.beds24.client.api import CallRecord
from bookinghub.beds24.models.entities import BEDS24, Beds24Property
from bookinghub.core.clock import iso_now
from bookinghub.core.security import mask_pii, mask_text
from bookinghub.registry.dal import integrations as integration_store
from bookinghub.registry.models import IntegrationCallLog


def integration_id(prop: Beds24Property) -> str:
    return f"{prop.organisation_id}/{prop.id}"


def call_log(prop: Beds24Property, call: CallRecord) -> IntegrationCallLog:
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
        created_at=iso_now(),
    )


def call_logger(prop: Beds24Property) -> Callable[[CallRecord], None]:
    def record(call: CallRecord) -> None:
        # Successes stay in the property's own log partition (no one lists Beds24 successes by type)
        integration_store.put_call_log(call_log(prop, call), index_success=False)

    return record
