"""The WebSocket protocol of real-time booking events (issue 14), shared by API Gateway and `make run`.

Client -> hub (API Gateway routes on `$request.body.action`):
  {"action": "subscribe", "filter": {"website_id": "w1"}, "since": "<event id>"?, "seen": ["<event id>", ...]?}
  {"action": "unsubscribe", "filter": {...}}
  {"action": "ping"}
Hub -> client:
  {"type": "ack", "subscription": "website_id:w1", "cursor": "<event id>|null", "position": n}
  {"type": "event", "subscription": ..., "id", "position", "booking_id", "sequence", "event_type",
   "occurred_at", "data"}
  {"type": "event_ref", ... same without data, plus "url"}: an event whose frame would pass FRAME_LIMIT
  {"type": "pong", "at": ...}, {"type": "error", "code": ..., "message": ..., "subscription"?}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

FilterField = Literal["booking_id", "website_id", "user_id", "provider_id"]
FILTER_FIELDS: tuple[FilterField, ...] = ("booking_id", "website_id", "user_id", "provider_id")
# API Gateway's WebSocket frame limit is 32 KB: a bigger event travels as a reference to its timeline
FRAME_LIMIT = 32 * 1024
MAX_SUBSCRIPTIONS = 20  # per connection: bounds the connection item and the fan-out per event
TIMELINE_DAYS = 7  # the documented catch-up window (timeline TTL)
# Live frames of one filter can arrive out of their order (two bookings' broadcasters post in parallel):
# a resume re-reads this many positions before its cursor and skips the `seen` ids the client sends
RESUME_OVERLAP = 64

FilterValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
EventId = Annotated[str, StringConstraints(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]


class ProtocolError(Exception):
    """A message the hub cannot act on; answered with an error frame, the connection stays open."""

    def __init__(self, code: str, message: str, subscription: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.subscription = code, message, subscription

    def frame(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if self.subscription:
            frame["subscription"] = self.subscription
        return frame


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Filter(_Strict):
    """Exactly one of the four keys."""

    booking_id: FilterValue | None = None
    website_id: FilterValue | None = None
    user_id: FilterValue | None = None
    provider_id: FilterValue | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Filter:
        if sum(getattr(self, name) is not None for name in FILTER_FIELDS) != 1:
            raise ValueError(f"filter must name exactly one of {', '.join(FILTER_FIELDS)}")
        return self

    @property
    def field(self) -> FilterField:
        return next(name for name in FILTER_FIELDS if getattr(self, name) is not None)

    @property
    def value(self) -> str:
        value = getattr(self, self.field)
        # A user is their email address, matched case-insensitively (as the admin API's email search)
        return str(value).lower() if self.field == "user_id" else str(value)

    @property
    def key(self) -> str:
        """The subscription's name, and its partition in the timeline and the subscriptions index."""
        return f"{self.field}:{self.value}"


# The cursor of a subscription made while its filter's timeline held nothing: the start of the timeline,
# so a client that drops before the first event is replayed everything placed since
ORIGIN_CURSOR = "origin"


class Subscribe(_Strict):
    action: Literal["subscribe"]
    filter: Filter
    since: EventId | Literal["origin"] | None = None
    # the ids received within RESUME_OVERLAP positions before `since` (clients/realtime_client.py keeps them)
    seen: list[EventId] | None = Field(default=None, max_length=RESUME_OVERLAP)


class Unsubscribe(_Strict):
    action: Literal["unsubscribe"]
    filter: Filter


class Ping(_Strict):
    action: Literal["ping"]


Message = Subscribe | Unsubscribe | Ping
_MODELS: dict[str, type[Subscribe] | type[Unsubscribe] | type[Ping]] = {
    "subscribe": Subscribe,
    "unsubscribe": Unsubscribe,
    "ping": Ping,
}


def parse_message(body: str | None) -> Message:
    try:
        raw = json.loads(body or "")
    except ValueError:
        raise ProtocolError("INVALID_MESSAGE", "A message must be a JSON object") from None
    if not isinstance(raw, dict):
        raise ProtocolError("INVALID_MESSAGE", "A message must be a JSON object")
    model = _MODELS.get(str(raw.get("action")))
    if model is None:
        raise ProtocolError("UNKNOWN_ACTION", f"action must be one of {', '.join(_MODELS)}")
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "message"
        raise ProtocolError("INVALID_MESSAGE", f"{where}: {first['msg']}") from None


@dataclass(frozen=True)
class TimelineEvent:
    """One booking domain event as the timeline keeps it: a sortable id and a per-booking sequence."""

    id: str
    booking_id: str
    sequence: int
    event_type: str
    occurred_at: str
    data: dict[str, Any]
    website_id: str
    organisation_id: str
    user_id: str | None  # the customer's email, lower-cased, when the booking has one
    positions: dict[str, int] = dataclass_field(default_factory=dict)  # its place in each filter key's order

    def filter_keys(self) -> list[str]:
        values: list[tuple[str, str | None]] = [
            ("booking_id", self.booking_id),
            ("website_id", self.website_id),
            ("user_id", self.user_id),
            ("provider_id", self.organisation_id),
        ]
        return [f"{name}:{value}" for name, value in values if value]

    def frame(self, subscription: str) -> dict[str, Any]:
        """The event frame, or its reference when it would not fit in one WebSocket frame."""
        frame: dict[str, Any] = {
            "type": "event",
            "subscription": subscription,
            "id": self.id,
            "position": self.positions.get(subscription),
            "booking_id": self.booking_id,
            "sequence": self.sequence,
            "event_type": self.event_type,
            "occurred_at": self.occurred_at,
            "data": self.data,
        }
        if len(encode(frame)) <= FRAME_LIMIT:
            return frame
        del frame["data"]
        frame.update(type="event_ref", url=f"/api/bookings/{self.booking_id}/events?after={self.sequence - 1}")
        return frame


class TimelineView(BaseModel):
    """What GET /api/bookings/{id}/events answers per event."""

    id: str
    booking_id: str
    sequence: int = Field(ge=1)
    event_type: str
    occurred_at: str
    data: dict[str, Any]


def encode(frame: dict[str, Any]) -> bytes:
    return json.dumps(frame, separators=(",", ":"), default=str).encode("utf-8")
