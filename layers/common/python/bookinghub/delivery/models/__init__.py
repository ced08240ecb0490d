"""Delivery records: endpoints (where events go), deliveries (one event to one endpoint) and attempts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from bookinghub.core.observability import Dimensions

EndpointKind = Literal["website", "subscription", "make"]
EndpointState = Literal["enabled", "disabled", "parked"]
DeliveryStatus = Literal["pending", "succeeded", "failed"]
Trigger = Literal["scheduled", "manual", "replay"]
CircuitState = Literal["closed", "open", "half_open"]
StatusClass = Literal["2xx", "3xx", "4xx", "5xx", "error"]

# The sync back of a website is an endpoint too; its id is derived from the website's
WEBSITE_ENDPOINT_PREFIX = "web_"


def website_endpoint_id(website_id: str) -> str:
    return f"{WEBSITE_ENDPOINT_PREFIX}{website_id}"


def delivery_dimensions(endpoint_id: str) -> Dimensions:
    """A delivery's metric dimensions, known from its endpoint id alone: a website's sync back, or a
    subscription (Make.com endpoints included: the id does not say, and a metric never costs a read)."""
    if endpoint_id.startswith(WEBSITE_ENDPOINT_PREFIX):
        return {"provider": "website", "integration_type": "sync_back"}
    return {"provider": "webhook", "integration_type": "subscription"}


class Endpoint(BaseModel):
    """Where and how to deliver. Secrets and custom headers are held KMS-encrypted (`*_encrypted`)."""

    model_config = ConfigDict(frozen=True)

    id: str
    organisation_id: str
    kind: EndpointKind
    url: str
    description: str = ""
    event_types: list[str] = ["*"]  # "*" is every event type
    website_ids: list[str] | None = None  # None: every website of the organisation
    secret_encrypted: str | None = None
    previous_secret_encrypted: str | None = None
    previous_secret_expires_at: int | None = None  # epoch seconds
    headers_encrypted: str | None = None  # a JSON object of header -> value, encrypted as one
    header_names: list[str] = []  # shown to operators; the values never are
    rate_limit_per_second: int | None = None
    retry_schedule_seconds: list[int] | None = None
    created_at: str
    updated_at: str

    def matches(self, event_type: str, website_id: str) -> bool:
        if "*" not in self.event_types and event_type not in self.event_types:
            return False
        return self.website_ids is None or website_id in self.website_ids


class EndpointStatus(BaseModel):
    """An endpoint's mutable state, one item beside it: on/off, breaker, counters, last results."""

    model_config = ConfigDict(frozen=True)

    endpoint_id: str
    state: EndpointState = "enabled"
    state_reason: str | None = None
    state_changed_at: str | None = None
    circuit: CircuitState = "closed"
    circuit_open_until: float = 0.0  # epoch seconds
    circuit_opened_count: int = 0  # consecutive openings: the cool-down doubles with each
    consecutive_failures: int = 0
    first_failure_at: float | None = None  # epoch seconds of the first failure of the current run
    sent: int = 0  # HTTP attempts
    succeeded: int = 0  # deliveries, by their current status
    failed: int = 0
    pending: int = 0
    last_success_at: str | None = None
    last_failure_at: str | None = None


class Delivery(BaseModel):
    """One event for one endpoint. `webhook_id` is the same on every attempt and replay."""

    model_config = ConfigDict(frozen=True)

    id: str
    endpoint_id: str
    organisation_id: str
    event_id: str
    event_type: str
    booking_id: str | None = None
    sequence: int
    payload: str  # the JSON body, serialised once: every attempt signs and sends these exact bytes
    status: DeliveryStatus = "pending"
    attempts: int = 0  # attempts made so far (also the claim token of the next message)
    schedule_index: int = 0  # position in the retry schedule; a replay starts it over
    next_attempt_at: str | None = None
    created_at: str
    updated_at: str
    failed_at: str | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    exhausted: bool = False  # failed because the schedule ran out (its message goes to the DLQ)
    replays: int = 0  # times an operator (or retry_failed_webhooks) sent it again

    @property
    def webhook_id(self) -> str:
        """As Svix's message id: the event's id, the same for every endpoint, attempt and replay."""
        return self.event_id


class Attempt(BaseModel):
    """One HTTP attempt (or a decision that replaced one), kept `attempt_retention_days`."""

    model_config = ConfigDict(frozen=True)

    endpoint_id: str
    delivery_id: str
    event_id: str
    event_type: str
    attempt: int
    trigger: Trigger
    status: Literal["succeeded", "failed", "retrying"]
    status_class: StatusClass
    status_code: int | None = None
    duration_ms: int | None = None
    error: str | None = None
    next_attempt_at: str | None = None
    at: str


def status_class(status_code: int | None) -> StatusClass:
    if status_code is None:
        return "error"
    return f"{min(max(status_code // 100, 2), 5)}xx"  # type: ignore[return-value]


def public_endpoint(endpoint: Endpoint, status: EndpointStatus) -> dict[str, Any]:
    """What operators see: never a secret or a header value."""
    view = endpoint.model_dump(exclude={"secret_encrypted", "previous_secret_encrypted", "headers_encrypted"})
    view["previous_secret_active"] = endpoint.previous_secret_encrypted is not None
    view.update(
        state=status.state,
        state_reason=status.state_reason,
        circuit=status.circuit,
        consecutive_failures=status.consecutive_failures,
        last_success_at=status.last_success_at,
        last_failure_at=status.last_failure_at,
    )
    return view
