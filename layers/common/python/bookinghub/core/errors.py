"""Domain errors. Each carries its own API error code and HTTP status; `web/resolver.py` maps them once."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "SERVER_ERROR"
    status = 500
    message = "Internal server error"

    def __init__(self, message: str | None = None, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details


class AuthFailed(DomainError):
    code, status, message = "AUTH_FAILED", 401, "Invalid or missing API key"


class InvalidPayload(DomainError):
    code, status, message = "INVALID_PAYLOAD", 400, "Request body validation failed"


class PayloadTooLarge(DomainError):
    code, status, message = "PAYLOAD_TOO_LARGE", 413, "Request body is too large"


class UnsupportedMediaType(DomainError):
    code, status, message = "UNSUPPORTED_MEDIA_TYPE", 415, "Send the body as application/json"


class DuplicateBooking(DomainError):
    code, status, message = "DUPLICATE_BOOKING", 409, "Booking already exists (use an update event)"


class WebsiteNotFound(DomainError):
    code, status, message = "WEBSITE_NOT_FOUND", 404, "Website not registered"


class BookingNotFound(DomainError):
    code, status, message = "BOOKING_NOT_FOUND", 404, "Booking not found"


class ServerError(DomainError):
    code, status, message = "SERVER_ERROR", 500, "Internal server error"


# --- Stripe webhook and passes API ---------------------------------------------------------------------


class InvalidSignature(DomainError):
    code, status, message = "INVALID_SIGNATURE", 400, "Invalid or missing Stripe-Signature"


class EventInProgress(DomainError):
    # Stripe retries any non-2xx answer: the retry finds the first delivery's outcome.
    code, status, message = "EVENT_IN_PROGRESS", 409, "This event is being processed; retry later"


class InvalidQuery(DomainError):
    code, status, message = "INVALID_QUERY", 400, "Invalid query parameters"


class PassNotFound(DomainError):
    code, status, message = "PASS_NOT_FOUND", 404, "Pass not found"


class WebhookNotConfigured(DomainError):
    code, status, message = "SERVER_ERROR", 500, "Stripe webhook signing secret is not configured"


# Admin API
class VersionConflict(DomainError):
    code, status, message = "VERSION_CONFLICT", 409, "The booking was changed by someone else; reload and retry"


class WebsiteExists(DomainError):
    code, status, message = "WEBSITE_EXISTS", 409, "A website with this id already exists"


class IntegrationNotFound(DomainError):
    code, status, message = "INTEGRATION_NOT_FOUND", 404, "Integration not found"


class KeyRotationConflict(DomainError):
    code, status, message = "KEY_ROTATION_CONFLICT", 409, "The website's key changed meanwhile; retry"


class UnsafeUrl(DomainError):
    code, status, message = "INVALID_PAYLOAD", 400, "URL is not allowed"
