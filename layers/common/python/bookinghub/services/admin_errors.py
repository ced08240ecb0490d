"""Errors of the admin API (kept beside its services; bookinghub.errors holds the inbound sync's)."""

from __future__ import annotations

from bookinghub.errors import DomainError


class VersionConflict(DomainError):
    code, status, message = "VERSION_CONFLICT", 409, "The booking was changed by someone else; reload and retry"


class PreconditionRequired(DomainError):
    code, status, message = "VERSION_REQUIRED", 428, "Send the version you edited (body `version` or If-Match)"


class WebsiteExists(DomainError):
    code, status, message = "WEBSITE_EXISTS", 409, "A website with this id already exists"


class IntegrationNotFound(DomainError):
    code, status, message = "INTEGRATION_NOT_FOUND", 404, "Integration not found"


class KeyRotationConflict(DomainError):
    code, status, message = "KEY_ROTATION_CONFLICT", 409, "The website's key changed meanwhile; retry"


class UnsafeUrl(DomainError):
    code, status, message = "INVALID_PAYLOAD", 400, "URL is not allowed"


class InvalidQuery(DomainError):
    code, status, message = "INVALID_QUERY", 400, "Query parameters are invalid"
