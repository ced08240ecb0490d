"""Who is calling the admin API, and what they may do (seed 002 "Role-based access").

In Lambda the claims come already verified: API Gateway's Cognito authorizer checked the ID token's
signature, issuer and expiry and hands them over in `requestContext.authorizer.claims`, every value a
string (`cognito:groups` comma-separated). Locally, infra/local/auth.py does the same checks and hands
over the same shape. This module only reads them; it never verifies a token.

Roles (Cognito groups):
- superadmin: everything, every organisation;
- admin: websites, integrations and bookings of their own organisation (`custom:organisation_id`);
- staff: reads and edits the bookings of the websites in their token (`custom:websites`) only.
An object the caller may not see is answered as absent (404), so another tenant's ids never leak; an
action the caller's role may not take on something it can see is 403 FORBIDDEN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bookinghub.core.errors import AuthFailed, DomainError, InvalidPayload

Role = Literal["superadmin", "admin", "staff"]
# Highest privilege first: a user in several groups acts with the strongest one.
ROLES: tuple[Role, ...] = ("superadmin", "admin", "staff")
MAX_TOKEN_WEBSITES = 50

GROUPS_CLAIM = "cognito:groups"
ORGANISATION_CLAIM = "custom:organisation_id"
WEBSITES_CLAIM = "custom:websites"


class Forbidden(DomainError):
    code, status, message = "FORBIDDEN", 403, "Your role may not do this"


@dataclass(frozen=True)
class Principal:
    subject: str
    email: str
    role: Role
    organisation_id: str | None  # None only for a superadmin without an organisation
    websites: frozenset[str]  # staff: the websites they may see; ignored for the other roles

    @property
    def actor(self) -> str:
        """How changes are attributed (`updated_by`, the outbox's origin `admin:<actor>`)."""
        return self.email or self.subject

    # --- visibility: what the caller can see at all (else it is 404) ---------------------------------

    def sees_organisation(self, organisation_id: str) -> bool:
        return self.role == "superadmin" or organisation_id == self.organisation_id

    def sees_website(self, organisation_id: str, website_id: str) -> bool:
        if not self.sees_organisation(organisation_id):
            return False
        return self.role != "staff" or website_id in self.websites

    def sees_booking(self, booking: Mapping[str, Any]) -> bool:
        return self.sees_website(str(booking.get("organisation_id", "")), str(booking.get("website_id", "")))

    # --- actions: what the caller's role may do with what it sees (else 403) -------------------------

    @property
    def manages_organisation(self) -> bool:
        """Websites, integrations, test webhooks, monitoring: admins and superadmins."""
        return self.role in ("superadmin", "admin")

    def require_manager(self) -> None:
        if not self.manages_organisation:
            raise Forbidden(f"The {self.role} role may not manage websites or integrations")

    def scope_organisation(self, requested: str | None) -> str:
        """The organisation a list or a create acts on: the caller's own, or any for a superadmin.

        An admin naming another organisation gets 404, as for any object of another tenant.
        """
        if self.role == "superadmin":
            organisation = requested or self.organisation_id
            if not organisation:
                raise InvalidPayload(
                    "organisation_id is required (your token names no organisation)",
                    details=[{"field": "organisation_id", "message": "required for this caller"}],
                )
            return organisation
        assert self.organisation_id is not None  # principal_from_claims guarantees it
        if requested is not None and requested != self.organisation_id:
            raise OrganisationNotFound()
        return self.organisation_id


class OrganisationNotFound(DomainError):
    code, status, message = "ORGANISATION_NOT_FOUND", 404, "Organisation not found"


def principal_from_claims(claims: Mapping[str, Any] | None) -> Principal:
    """The caller from verified ID-token claims; AUTH_FAILED (401) if they do not make a usable caller."""
    if not claims:
        raise AuthFailed("Missing or invalid token")
    subject = str(claims.get("sub") or "")
    if not subject:
        raise AuthFailed("Token has no subject")
    groups = parse_list_claim(claims.get(GROUPS_CLAIM))
    role = next((r for r in ROLES if r in groups), None)
    if role is None:
        raise Forbidden("Your account is in none of the groups superadmin, admin or staff")
    organisation = str(claims.get(ORGANISATION_CLAIM) or "").strip() or None
    websites = frozenset(parse_list_claim(claims.get(WEBSITES_CLAIM)))
    if role != "superadmin" and organisation is None:
        raise Forbidden(f"A {role} account must have custom:organisation_id")
    if len(websites) > MAX_TOKEN_WEBSITES:
        raise Forbidden(f"custom:websites lists more than {MAX_TOKEN_WEBSITES} websites")
    return Principal(
        subject=subject,
        email=str(claims.get("email") or "").strip().lower(),
        role=role,
        organisation_id=organisation,
        websites=websites,
    )


def parse_list_claim(value: Any) -> list[str]:
    """A multi-valued claim as API Gateway REST passes it ("a,b"), as HTTP APIs do ("[a b]"), or a list."""
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        items = [str(v) for v in value]
    else:
        text = str(value).strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        items = text.replace(",", " ").split()
    return [item.strip() for item in items if item.strip()]
