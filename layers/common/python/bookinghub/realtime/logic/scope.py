"""Who a connection is, and which bookings it may read: the admin API's rules (bookinghub.core.auth).

An operator (admin JWT) reads what the admin API lets them read: a superadmin everything, an admin their
organisation, staff the websites in their token. A website (its API key) reads its own bookings only,
as its sync does. A subscription's filter selects among those; it never widens them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bookinghub.core.auth import Principal

ScopeKind = Literal["operator", "website"]


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    subject: str  # the operator's email/subject, or the website id
    role: str  # superadmin | admin | staff | website
    organisation_id: str | None
    websites: frozenset[str]  # staff: their websites; website: itself

    @classmethod
    def of_operator(cls, principal: Principal) -> Scope:
        return cls("operator", principal.actor, principal.role, principal.organisation_id, principal.websites)

    @classmethod
    def of_website(cls, website_id: str, organisation_id: str) -> Scope:
        return cls("website", website_id, "website", organisation_id, frozenset({website_id}))

    def sees_organisation(self, organisation_id: str) -> bool:
        return self.role == "superadmin" or organisation_id == self.organisation_id

    def sees(self, organisation_id: str, website_id: str) -> bool:
        """May this caller read a booking of this website (the admin API's Principal.sees_website)?"""
        if not self.sees_organisation(organisation_id):
            return False
        return self.role not in ("staff", "website") or website_id in self.websites

    def to_item(self) -> dict[str, Any]:
        return {
            "scope_kind": self.kind,
            "scope_subject": self.subject,
            "scope_role": self.role,
            "scope_organisation": self.organisation_id,
            "scope_websites": sorted(self.websites),
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Scope:
        kind = item["scope_kind"]
        return cls(
            kind="website" if kind == "website" else "operator",
            subject=str(item["scope_subject"]),
            role=str(item["scope_role"]),
            organisation_id=item.get("scope_organisation"),
            websites=frozenset(item.get("scope_websites") or ()),
        )
