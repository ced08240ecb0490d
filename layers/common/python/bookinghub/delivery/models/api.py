"""Request bodies of the delivery API (validated by Powertools, which also documents them)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bookinghub.delivery.logic.signing import RESERVED_HEADERS

EventType = Annotated[str, StringConstraints(pattern=r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$", max_length=64)]
WebsiteFilter = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
MAX_HEADERS = 20


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _check_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    if headers is None:
        return None
    if len(headers) > MAX_HEADERS:
        raise ValueError(f"at most {MAX_HEADERS} headers")
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"{name!r} is not a header name")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"{name} is set by the hub and cannot be replaced")
        if len(value) > 1024 or any(ch in value for ch in "\r\n\x00"):
            raise ValueError(f"the value of {name} is too long or has line breaks")
    return headers


Schedule = Annotated[list[Annotated[int, Field(ge=0, le=86400)]], Field(min_length=0, max_length=20)]


class EndpointCreate(_Body):
    url: Annotated[str, StringConstraints(min_length=8, max_length=2048)]
    description: Annotated[str, StringConstraints(max_length=200)] = ""
    kind: Literal["subscription", "make"] | None = None  # default: make for hook.*.make.com
    event_types: Annotated[list[EventType], Field(min_length=1, max_length=20)] = ["*"]
    website_ids: Annotated[list[WebsiteFilter], Field(min_length=1, max_length=50)] | None = None
    headers: dict[str, str] | None = None  # e.g. {"x-make-apikey": "..."}: stored encrypted, never shown
    rate_limit_per_second: Annotated[int, Field(ge=1, le=1000)] | None = None
    retry_schedule_seconds: Schedule | None = None
    organisation_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")] | None = None

    _headers = field_validator("headers")(_check_headers)


class EndpointPatch(_Body):
    url: Annotated[str, StringConstraints(min_length=8, max_length=2048)] | None = None
    description: Annotated[str, StringConstraints(max_length=200)] | None = None
    event_types: Annotated[list[EventType], Field(min_length=1, max_length=20)] | None = None
    website_ids: Annotated[list[WebsiteFilter], Field(min_length=1, max_length=50)] | None = None
    headers: dict[str, str] | None = None
    rate_limit_per_second: Annotated[int, Field(ge=1, le=1000)] | None = None
    retry_schedule_seconds: Schedule | None = None

    _headers = field_validator("headers")(_check_headers)


class EnableRequest(_Body):
    # Replay the deliveries that failed while the endpoint was off (since it was disabled, or `since`)
    replay_failed: bool = False
    since: datetime | None = None


class RecoverRequest(_Body):
    since: datetime


class RetryFailedRequest(_Body):
    """Seed 003's retry_failed_webhooks(max_retries): replay failed deliveries replayed fewer times."""

    max_retries: Annotated[int, Field(ge=1, le=20)] = 3
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    organisation_id: Annotated[str, StringConstraints(max_length=64)] | None = None


class ProducerEvent(_Body):
    """Seed 003's POST /api/webhooks/booking-events: a booking event from a trusted producer."""

    event_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{8,64}$")] | None = None
    event_type: Literal[
        "booking.created", "booking.updated", "booking.cancelled", "booking.refunded", "booking.status_changed"
    ]
    booking_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]
    changed_fields: Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=50)] = []
    data: dict[str, object] = {}
    actor: Annotated[str, StringConstraints(max_length=254)] | None = None
