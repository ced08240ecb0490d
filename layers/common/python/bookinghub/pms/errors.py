"""The PMS module's domain errors (mapped to HTTP once, by bookinghub.web)."""

from __future__ import annotations

from bookinghub.core.errors import DomainError


class UnknownProvider(DomainError):
    code, status, message = "UNKNOWN_PROVIDER", 404, "Unknown PMS provider"


class HotelNotFound(DomainError):
    code, status, message = "HOTEL_NOT_FOUND", 404, "No PMS configuration for this hotel"


class ProviderTokenInvalid(DomainError):
    code, status, message = "INVALID_PROVIDER_TOKEN", 401, "Invalid or missing x-provider-token"


class PMSDisabled(DomainError):
    code, status, message = "PMS_DISABLED", 409, "The hotel's PMS integration is disabled"


class ConfigurationExists(DomainError):
    code, status, message = "PMS_CONFIGURATION_EXISTS", 409, "This hotel already has a PMS configuration"


class SyncLogNotFound(DomainError):
    code, status, message = "SYNC_LOG_NOT_FOUND", 404, "Sync log not found"


class ProviderError(Exception):
    """A provider call failed after the adapter's retries (or permanently); never shown to API callers
    verbatim: a sync records it as FAILED, a consumer retries the message."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class MappingError(Exception):
    """One provider record could not be normalised (counted as a failed item, never fatal to a sync)."""


class ScheduleUnavailable(DomainError):
    code, status = "SCHEDULE_UNAVAILABLE", 503
    message = "The hotel's sync schedule could not be saved; the configuration was left as it was. Retry shortly."
