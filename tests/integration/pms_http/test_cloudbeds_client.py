"""The thin Cloudbeds client and provider against the Cloudbeds sandbox on loopback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from bookinghub.pms.adapters.cloudbeds import CloudbedsClient
from bookinghub.pms.adapters.policy import RetryPolicy
from bookinghub.pms.errors import ProviderError
from bookinghub.pms.models import FetchOptions
from bookinghub.pms.providers.base import HotelContext
from bookinghub.pms.providers.cloudbeds import CloudbedsProvider
from infra.local.sandbox import cloudbeds_data as demo
from infra.local.sandbox.cloudbeds import CloudbedsSandbox
from tests.integration.pms_http.conftest import Sleeps


@pytest.fixture
def sandbox() -> CloudbedsSandbox:
    box = CloudbedsSandbox()
    box.rate_limit = 1000  # pacing is tested on its own; these tests check the protocol
    return box


def client(url: str, sleeps: Sleeps) -> CloudbedsClient:
    return CloudbedsClient(
        demo.DEMO_API_KEY,
        demo.DEMO_PROPERTY_ID,
        base_url=f"{url}/api/v1.3",
        policy=RetryPolicy(sleep=sleeps),
        requests_per_second=1000,
    )


def test_rooms_are_read_20_per_page(serve: Callable[[Any], str], sandbox: CloudbedsSandbox, sleeps: Sleeps) -> None:
    rooms = list(client(serve(sandbox), sleeps).rooms())
    assert len(rooms) == 25
    assert [c["path"] for c in sandbox.calls] == ["getRooms", "getRooms"]


def test_reservations_with_rates_page_and_filter(
    serve: Callable[[Any], str], sandbox: CloudbedsSandbox, sleeps: Sleeps
) -> None:
    cb = client(serve(sandbox), sleeps)
    assert len(list(cb.reservations_with_rates())) == 12
    recent = list(cb.reservations_with_rates(modified_from=datetime(2026, 1, 5)))
    assert 0 < len(recent) < 12


def test_success_false_on_200_is_an_error(
    serve: Callable[[Any], str], sandbox: CloudbedsSandbox, sleeps: Sleeps
) -> None:
    sandbox.success_false = 1
    with pytest.raises(ProviderError) as caught:
        client(serve(sandbox), sleeps).reservation("CB880001")
    assert (caught.value.status, caught.value.retryable) == (200, False)
    with pytest.raises(ProviderError, match="Reservation not found"):
        client(serve(sandbox), sleeps).reservation("nope")


def test_guest_list_is_keyed_by_id_and_merges_are_followed(
    serve: Callable[[Any], str], sandbox: CloudbedsSandbox, sleeps: Sleeps
) -> None:
    cb = client(serve(sandbox), sleeps)
    rows = list(cb.guest_list())
    assert {r["guestID"] for r in rows} == set(sandbox.guests)
    assert cb.guest("799999")["guestID"] == demo.guest(0)["guestID"]


def test_post_webhook_is_form_encoded(serve: Callable[[Any], str], sandbox: CloudbedsSandbox, sleeps: Sleeps) -> None:
    subscription = client(serve(sandbox), sleeps).subscribe("reservation", "created", "http://127.0.0.1:1/hook")
    assert subscription == "sub-1"
    assert sandbox.subscriptions[0]["endpointUrl"] == "http://127.0.0.1:1/hook"


def test_provider_syncs_everything_from_the_sandbox(serve: Callable[[Any], str], sandbox: CloudbedsSandbox) -> None:
    url = serve(sandbox)
    provider = CloudbedsProvider(
        HotelContext(
            slug="cb-hotel",
            organisation_id="demo-org",
            provider="cloudbeds",
            credentials={"api_key": demo.DEMO_API_KEY},
            settings={"property_id": demo.DEMO_PROPERTY_ID, "base_url": f"{url}/api/v1.3"},
        )
    )
    options = FetchOptions(limit=100)
    bookings = [provider.normalize_booking(r) for r in provider.fetch_bookings(options)]
    rooms = [provider.normalize_room(r) for r in provider.fetch_rooms(options)]
    guests = [provider.normalize_guest(r) for r in provider.fetch_guests(options)]
    assert len(bookings) == 12
    assert all(b.currency == "THB" for b in bookings)
    assert len(rooms) == 25
    assert len(guests) == 12  # the merged duplicate folds into the guest it became
    hook = {"event": "reservation/status_changed", "reservationID": "CB880004", "timestamp": 1}
    refetched = provider.booking_from_webhook(hook)
    assert refetched is not None
    assert refetched.external_id == "CB880004"
    assert sandbox.calls[-1]["path"] == "getReservationsWithRateDetails"
