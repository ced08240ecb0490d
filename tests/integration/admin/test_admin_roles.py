"""The role matrix: each role x each endpoint x own / other website / other tenant.

demo-org owns test-website and other-website; rival-org owns rival-website. The staff member's token
lists test-website only. Not visible -> 404 (never leaked); visible but not the role's to do -> 403.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.admin.conftest import RIVAL_ORG, call_admin, claims

SUPER = claims("superadmin", email="root@hub.example")
ADMIN = claims("admin", email="ops@demo.example")
STAFF = claims("staff", websites=("test-website",), email="desk@demo.example")
CALLERS = {"superadmin": SUPER, "admin": ADMIN, "staff": STAFF}
PUBLIC_IP_URL = "https://93.184.216.34/v1/webhooks"  # a public address literal: no DNS needed

# booking (by tenants fixture key) -> expected status per role
BOOKING_MATRIX = [
    ("test_a", {"superadmin": 200, "admin": 200, "staff": 200}),  # own org, the staff's website
    ("other", {"superadmin": 200, "admin": 200, "staff": 404}),  # own org, not in the staff's token
    ("rival", {"superadmin": 200, "admin": 404, "staff": 404}),  # another tenant
]


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize(("booking", "expected"), BOOKING_MATRIX)
def test_read_a_booking(tenants: dict[str, Any], role: str, booking: str, expected: dict[str, int]) -> None:
    status, body, _ = call_admin("GET", f"/api/bookings/{tenants[booking]}", caller=CALLERS[role])
    assert status == expected[role], body
    if status == 404:
        assert body == {"success": False, "error": "Booking not found", "code": "BOOKING_NOT_FOUND"}


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize(("booking", "expected"), BOOKING_MATRIX)
def test_edit_a_booking(tenants: dict[str, Any], role: str, booking: str, expected: dict[str, int]) -> None:
    edit = {"version": 1, "admin_notes": f"checked by {role}"}
    status, body, _ = call_admin("PUT", f"/api/bookings/{tenants[booking]}", caller=CALLERS[role], body=edit)
    assert status == expected[role], body
    # what a 404 caller could not see is unchanged
    _, seen, _ = call_admin("GET", f"/api/bookings/{tenants[booking]}", caller=SUPER)
    assert seen["booking"].get("admin_notes") == (edit["admin_notes"] if status == 200 else None)


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize(
    ("website", "expected"),
    [
        ("test-website", {"superadmin": 200, "admin": 200, "staff": 200}),
        ("other-website", {"superadmin": 200, "admin": 200, "staff": 404}),
        ("rival-website", {"superadmin": 200, "admin": 404, "staff": 404}),
        ("no-such-website", {"superadmin": 404, "admin": 404, "staff": 404}),
    ],
)
def test_list_a_websites_bookings(tenants: dict[str, Any], role: str, website: str, expected: dict[str, int]) -> None:
    status, body, _ = call_admin("GET", "/api/bookings", caller=CALLERS[role], query={"website_id": website})
    assert status == expected[role], body
    if status == 200:
        assert {b["website_id"] for b in body["bookings"]} <= {website}
    else:
        assert body["code"] == "WEBSITE_NOT_FOUND"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("superadmin", {"test_a", "test_b", "other"}),
        ("admin", {"test_a", "test_b", "other"}),
        ("staff", {"test_a", "test_b"}),
    ],
)
def test_unfiltered_lists_stay_in_scope(tenants: dict[str, Any], role: str, expected: set[str]) -> None:
    status, body, _ = call_admin("GET", "/api/bookings", caller=CALLERS[role])
    assert status == 200, body
    assert {b["id"] for b in body["bookings"]} == {tenants[name] for name in expected}


def test_superadmin_reaches_another_organisation_admin_does_not(tenants: dict[str, Any]) -> None:
    status, body, _ = call_admin("GET", "/api/bookings", caller=SUPER, query={"organisation_id": RIVAL_ORG})
    assert status == 200
    assert [b["id"] for b in body["bookings"]] == [tenants["rival"]]
    status, body, _ = call_admin("GET", "/api/bookings", caller=ADMIN, query={"organisation_id": RIVAL_ORG})
    assert (status, body["code"]) == (404, "ORGANISATION_NOT_FOUND")


def test_search_by_email_never_crosses_tenants(tenants: dict[str, Any]) -> None:
    # alice has a booking in demo-org and one in rival-org
    _, body, _ = call_admin("GET", "/api/bookings", caller=ADMIN, query={"q": "Alice@Example.com"})
    assert [b["id"] for b in body["bookings"]] == [tenants["test_a"]]
    _, body, _ = call_admin("GET", "/api/bookings", caller=STAFF, query={"q": "carol@example.com"})
    assert body["bookings"] == []


@pytest.mark.parametrize(("role", "expected"), [("superadmin", 201), ("admin", 201), ("staff", 403)])
def test_register_a_website(tenants: dict[str, Any], role: str, expected: int) -> None:
    body = {"id": f"new-{role}", "name": "New", "domain": "new.example.com"}
    status, answer, _ = call_admin("POST", "/api/websites", caller=CALLERS[role], body=body)
    assert status == expected, answer
    if status == 403:
        assert answer["code"] == "FORBIDDEN"
    else:
        assert answer["website"]["organisation_id"] == "demo-org"


def test_an_admin_cannot_register_a_website_for_another_tenant(tenants: dict[str, Any]) -> None:
    body = {"id": "sneaky", "name": "Sneaky", "domain": "sneaky.example.com", "organisation_id": RIVAL_ORG}
    status, answer, _ = call_admin("POST", "/api/websites", caller=ADMIN, body=body)
    assert (status, answer["code"]) == (404, "ORGANISATION_NOT_FOUND")
    status, answer, _ = call_admin("POST", "/api/websites", caller=SUPER, body=body)
    assert status == 201
    assert answer["website"]["organisation_id"] == RIVAL_ORG


@pytest.mark.parametrize(("role", "expected"), [("superadmin", 200), ("admin", 200), ("staff", 403)])
def test_list_websites(tenants: dict[str, Any], role: str, expected: int) -> None:
    status, answer, _ = call_admin("GET", "/api/websites", caller=CALLERS[role])
    assert status == expected, answer
    if status == 200:
        assert [w["id"] for w in answer["websites"]] == ["other-website", "test-website"]


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize(
    ("website", "expected"),
    [
        ("test-website", {"superadmin": 200, "admin": 200, "staff": 403}),
        ("rival-website", {"superadmin": 200, "admin": 404, "staff": 403}),
    ],
)
def test_patch_a_website(tenants: dict[str, Any], role: str, website: str, expected: dict[str, int]) -> None:
    status, answer, _ = call_admin(
        "PATCH", f"/api/websites/{website}", caller=CALLERS[role], body={"name": f"Renamed by {role}"}
    )
    assert status == expected[role], answer


def _create_integration(caller: dict[str, str], **extra: Any) -> tuple[int, dict[str, Any]]:
    body = {
        "integration_type": "rooms_event_hub",
        "name": "Rooms",
        "config": {"base_url": PUBLIC_IP_URL, "webhook_path": "zezamiiPass/reservation", "property_id": "p-1"},
        "reservation_id_prefix": "HB",
        "secret_headers": {"X-Api-Key": "rooms-secret-value"},
        **extra,
    }
    status, answer, _ = call_admin("POST", "/api/integrations", caller=caller, body=body)
    return status, answer


@pytest.mark.parametrize(("role", "expected"), [("superadmin", 201), ("admin", 201), ("staff", 403)])
def test_register_and_list_integrations(tenants: dict[str, Any], role: str, expected: int) -> None:
    status, answer = _create_integration(CALLERS[role])
    assert status == expected, answer
    status, _, _ = call_admin("GET", "/api/integrations", caller=CALLERS[role])
    assert status == (403 if role == "staff" else 200)


@pytest.mark.parametrize(("role", "own", "rival"), [("superadmin", 200, 200), ("admin", 200, 404), ("staff", 403, 403)])
def test_patch_an_integration(tenants: dict[str, Any], role: str, own: int, rival: int) -> None:
    _, mine = _create_integration(ADMIN)
    _, theirs = _create_integration(SUPER, organisation_id=RIVAL_ORG)
    for integration, expected in ((mine, own), (theirs, rival)):
        path = f"/api/integrations/{integration['integration']['id']}"
        status, answer, _ = call_admin("PATCH", path, caller=CALLERS[role], body={"status": "inactive"})
        assert status == expected, answer


@pytest.mark.parametrize(("role", "expected"), [("superadmin", 200), ("admin", 200), ("staff", 403)])
@pytest.mark.parametrize(
    "path", ["/api/integrations/rooms/status", "/api/integrations/rooms/calls", "/api/integrations/rooms/calls/failed"]
)
def test_rooms_monitoring(tenants: dict[str, Any], role: str, expected: int, path: str) -> None:
    status, answer, _ = call_admin("GET", path, caller=CALLERS[role])
    assert status == expected, answer


# These websites have no webhook: a caller allowed to test one is told so (400), the others 404/403
@pytest.mark.parametrize(("role", "own", "rival"), [("superadmin", 400, 400), ("admin", 400, 404), ("staff", 403, 403)])
def test_trigger_a_test_webhook(tenants: dict[str, Any], role: str, own: int, rival: int) -> None:
    for website, booking, expected in (("test-website", "test_a", own), ("rival-website", "rival", rival)):
        body = {"website_id": website, "booking_id": tenants[booking], "event": "booking.updated"}
        status, answer, _ = call_admin("POST", "/api/admin/test-webhook", caller=CALLERS[role], body=body)
        assert status == expected, answer


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/bookings"), ("GET", "/api/websites"), ("POST", "/api/websites"), ("GET", "/api/integrations")],
)
def test_without_claims_every_route_is_401(tenants: dict[str, Any], method: str, path: str) -> None:
    status, answer, _ = call_admin(method, path, caller=None, body={} if method == "POST" else None)
    assert (status, answer["code"]) == (401, "AUTH_FAILED")


def test_a_user_in_no_role_group_is_403(tenants: dict[str, Any]) -> None:
    status, answer, _ = call_admin("GET", "/api/bookings", caller=claims("viewers"))
    assert (status, answer["code"]) == (403, "FORBIDDEN")


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize(
    ("website", "expected"),
    [
        ("fresh-own", {"superadmin": 200, "admin": 200, "staff": 403}),
        ("fresh-rival", {"superadmin": 200, "admin": 404, "staff": 403}),
        ("no-such-website", {"superadmin": 404, "admin": 404, "staff": 403}),
    ],
)
def test_rotate_a_websites_key(tenants: dict[str, Any], role: str, website: str, expected: dict[str, int]) -> None:
    # Websites registered through the API: they remember their key's hash, which a rotation retires
    for website_id, organisation in (("fresh-own", None), ("fresh-rival", RIVAL_ORG)):
        body = {"id": website_id, "name": "Fresh", "domain": "fresh.example.com", "organisation_id": organisation}
        status, answer, _ = call_admin("POST", "/api/websites", caller=SUPER, body=body)
        assert status == 201, answer
    status, answer, _ = call_admin("POST", f"/api/websites/{website}/rotate-key", caller=CALLERS[role])
    assert status == expected[role], answer
    if status != 200:
        assert answer["code"] == {403: "FORBIDDEN", 404: "WEBSITE_NOT_FOUND"}[status]
        assert "api_key" not in answer


@pytest.mark.parametrize("path", ["/api/websites", "/api/integrations", "/api/bookings"])
@pytest.mark.parametrize(("role", "expected"), [("superadmin", 200), ("admin", 404), ("staff", 404)])
def test_list_another_organisation(tenants: dict[str, Any], path: str, role: str, expected: int) -> None:
    if path in ("/api/websites", "/api/integrations"):
        expected = 403 if role == "staff" else expected  # not the staff role's to list at all
    status, answer, _ = call_admin("GET", path, caller=CALLERS[role], query={"organisation_id": RIVAL_ORG})
    assert status == expected, answer
    if status == 200 and path == "/api/websites":
        assert [w["id"] for w in answer["websites"]] == ["rival-website"]
    if status == 404:
        assert answer["code"] == "ORGANISATION_NOT_FOUND"


def test_a_website_filter_stays_inside_the_named_organisation(tenants: dict[str, Any]) -> None:
    query = {"organisation_id": RIVAL_ORG, "website_id": "test-website"}
    status, answer, _ = call_admin("GET", "/api/bookings", caller=SUPER, query=query)
    assert (status, answer["bookings"]) == (200, [])
    status, answer, _ = call_admin("GET", "/api/bookings", caller=STAFF, query=query)
    assert (status, answer["code"]) == (404, "ORGANISATION_NOT_FOUND")
