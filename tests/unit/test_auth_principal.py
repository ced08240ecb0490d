"""bookinghub.core.auth: claims -> Principal, and the role rules (what each role sees and may do)."""

from __future__ import annotations

import pytest

from bookinghub.core.auth import Forbidden, OrganisationNotFound, Principal, parse_list_claim, principal_from_claims
from bookinghub.core.errors import AuthFailed, InvalidPayload


def _claims(groups: str, org: str | None = "org-a", websites: str = "") -> dict[str, str]:
    values = {"sub": "user-1", "email": "Ops@Example.com", "cognito:groups": groups, "custom:websites": websites}
    if org is not None:
        values["custom:organisation_id"] = org
    return values


def test_claims_as_api_gateway_rest_passes_them() -> None:
    principal = principal_from_claims(_claims("staff", websites="site-a,site-b"))
    assert principal == Principal("user-1", "ops@example.com", "staff", "org-a", frozenset({"site-a", "site-b"}))
    assert principal.actor == "ops@example.com"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("admin", ["admin"]),
        ("admin,staff", ["admin", "staff"]),
        ("[admin staff]", ["admin", "staff"]),  # HTTP API's rendering
        (["admin", "staff"], ["admin", "staff"]),
        ("", []),
        (None, []),
    ],
)
def test_list_claims_in_every_rendering(raw: object, expected: list[str]) -> None:
    assert parse_list_claim(raw) == expected


def test_the_strongest_group_wins() -> None:
    assert principal_from_claims(_claims("staff,superadmin")).role == "superadmin"
    assert principal_from_claims(_claims("staff,admin")).role == "admin"


@pytest.mark.parametrize("claims", [None, {}, {"email": "x@example.com", "cognito:groups": "admin"}])
def test_no_usable_claims_is_401(claims: dict[str, str] | None) -> None:
    with pytest.raises(AuthFailed):
        principal_from_claims(claims)


@pytest.mark.parametrize(
    "claims", [_claims(""), _claims("viewers"), _claims("admin", org=None), _claims("staff", org="")]
)
def test_a_user_without_a_role_or_organisation_is_403(claims: dict[str, str]) -> None:
    with pytest.raises(Forbidden) as raised:
        principal_from_claims(claims)
    assert raised.value.code == "FORBIDDEN"
    assert raised.value.status == 403


def test_a_superadmin_needs_no_organisation() -> None:
    principal = principal_from_claims(_claims("superadmin", org=None))
    assert principal.organisation_id is None
    with pytest.raises(InvalidPayload):
        principal.scope_organisation(None)
    assert principal.scope_organisation("org-b") == "org-b"


SUPER = Principal("s", "s@x.io", "superadmin", "org-a", frozenset())
ADMIN = Principal("a", "a@x.io", "admin", "org-a", frozenset())
STAFF = Principal("t", "t@x.io", "staff", "org-a", frozenset({"site-1"}))
# (principal, organisation, website) -> sees it?
VISIBILITY = [
    (SUPER, "org-a", "site-1", True),
    (SUPER, "org-a", "site-2", True),
    (SUPER, "org-b", "site-9", True),
    (ADMIN, "org-a", "site-1", True),
    (ADMIN, "org-a", "site-2", True),
    (ADMIN, "org-b", "site-9", False),
    (STAFF, "org-a", "site-1", True),
    (STAFF, "org-a", "site-2", False),
    (STAFF, "org-b", "site-1", False),  # a website id in the token does not open another tenant
]


@pytest.mark.parametrize(("principal", "org", "website", "visible"), VISIBILITY)
def test_role_matrix_visibility(principal: Principal, org: str, website: str, visible: bool) -> None:
    assert principal.sees_website(org, website) is visible
    assert principal.sees_booking({"organisation_id": org, "website_id": website}) is visible


@pytest.mark.parametrize(("principal", "manages"), [(SUPER, True), (ADMIN, True), (STAFF, False)])
def test_role_matrix_management(principal: Principal, manages: bool) -> None:
    assert principal.manages_organisation is manages
    if manages:
        principal.require_manager()
    else:
        with pytest.raises(Forbidden):
            principal.require_manager()


def test_an_admin_naming_another_organisation_gets_404() -> None:
    assert ADMIN.scope_organisation(None) == "org-a"
    assert ADMIN.scope_organisation("org-a") == "org-a"
    with pytest.raises(OrganisationNotFound) as raised:
        ADMIN.scope_organisation("org-b")
    assert raised.value.status == 404
