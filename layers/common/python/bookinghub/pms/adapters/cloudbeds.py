"""A thin Cloudbeds API v1.3 client on the REST adapter (x-api-key auth, form-encoded bodies).

Why not Cloudbeds' generated `cloudbeds-pms-v1-3` package: importing it costs ~1.3 s (hundreds of
pydantic models) on every cold start, it brings its own urllib3 pool without our retry/pacing policy, and
it deserialises `success: false` on HTTP 200 as a normal answer. The handful of methods used here are a
page of code.

Protocol facts this client is built on (Cloudbeds' OpenAPI description): every answer is
`{"success": bool, "data": ..., "message"?, "count"?, "total"?}`, and an error may come back as HTTP 200
with `success: false`; list methods page with pageNumber/pageSize (reservations and guests at most 100,
rooms 20 by default); getGuestList's `data` is an object keyed by guest id; a merged guest points at the
guest it became through `newGuestID`. Requests are paced by a token bucket per API key (5 requests/s:
Cloudbeds may suspend a key that keeps exceeding it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import requests

from bookinghub.pms.adapters.policy import RetryPolicy, bucket_for
from bookinghub.pms.adapters.rest import RestAdapter
from bookinghub.pms.errors import ProviderError

DEFAULT_BASE_URL = "https://api.cloudbeds.com/api/v1.3"
REQUESTS_PER_SECOND = 5.0  # per property API key (partners: 10)
# Paced a little below the limit and without bursts: a bucket that banks 5 tokens would let 10 requests
# through within one second (5 banked + 5 earned), which a sliding-window limiter counts as a violation.
PACING_MARGIN = 0.9
PAGE_SIZE = 100  # reservations, guests (the API's maximum)
ROOMS_PAGE_SIZE = 20  # the API's default for getRooms
MAX_PAGES = 500  # a runaway pagination guard: 50,000 records
MAX_MERGE_HOPS = 3


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class CloudbedsClient:
    def __init__(
        self,
        api_key: str,
        property_id: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        requests_per_second: float = REQUESTS_PER_SECOND,
    ) -> None:
        key_id = hashlib.sha256(api_key.encode()).hexdigest()[:16]  # the bucket's key; never the key itself
        self.property_id = property_id
        self.rest = RestAdapter(
            base_url,
            provider="cloudbeds",
            headers={"x-api-key": api_key, "Accept": "application/json"},
            policy=policy,
            bucket=bucket_for(f"cloudbeds:{key_id}", requests_per_second * PACING_MARGIN, capacity=1),
            session=session,
        )

    # --- one call ---------------------------------------------------------------------------------

    def call(self, method: str, params: Mapping[str, Any] | None = None, *, form: bool = False) -> dict[str, Any]:
        """One API method; `form` POSTs the parameters form-encoded. `success: false` is an error."""
        values = {"propertyID": self.property_id, **(params or {})}
        if form:
            body = self.rest.request("POST", method, data=values)
        else:
            body = self.rest.request("GET", method, params=values)
        if not isinstance(body, dict):
            raise ProviderError(f"{method}: answer is not an object", retryable=False)
        if body.get("success") is not True:
            message = str(body.get("message") or "success is false")[:200]
            raise ProviderError(f"{method}: {message}", retryable=False, status=200)
        return body

    def _pages(self, method: str, params: Mapping[str, Any], page_size: int) -> Iterator[dict[str, Any]]:
        for page in range(1, MAX_PAGES + 1):
            body = self.call(method, {**params, "pageNumber": page, "pageSize": page_size})
            yield body
            count = int(body.get("count") or 0)
            total = body.get("total")
            if count < page_size or (isinstance(total, int) and page * page_size >= total):
                return

    # --- reservations -------------------------------------------------------------------------------

    def reservations_with_rates(self, *, modified_from: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Reservations with `total` and `propertyCurrency` (getReservations' `balance` is only what is
        still owed), with their guests."""
        params: dict[str, Any] = {"includeGuestsDetails": "true"}
        if modified_from is not None:
            params["modifiedFrom"] = _when(modified_from)
        for body in self._pages("getReservationsWithRateDetails", params, PAGE_SIZE):
            yield from (row for row in body.get("data") or [] if isinstance(row, dict))

    def reservation_with_rates(self, reservation_id: str) -> dict[str, Any] | None:
        body = self.call(
            "getReservationsWithRateDetails", {"reservationID": reservation_id, "includeGuestsDetails": "true"}
        )
        rows = [row for row in body.get("data") or [] if isinstance(row, dict)]
        return next((row for row in rows if str(row.get("reservationID")) == reservation_id), None)

    def reservation(self, reservation_id: str) -> dict[str, Any]:
        data = self.call("getReservation", {"reservationID": reservation_id}).get("data")
        if not isinstance(data, dict):
            raise ProviderError("getReservation: no data", retryable=False)
        return data

    # --- rooms --------------------------------------------------------------------------------------

    def rooms(self) -> Iterator[dict[str, Any]]:
        params = {"propertyIDs": self.property_id}
        for page in range(1, MAX_PAGES + 1):
            body = self.call("getRooms", {**params, "pageNumber": page, "pageSize": ROOMS_PAGE_SIZE})
            rooms = [room for group in body.get("data") or [] for room in (group.get("rooms") or [])]
            yield from rooms
            if len(rooms) < ROOMS_PAGE_SIZE:
                return

    def housekeeping(self) -> dict[str, dict[str, Any]]:
        """roomID -> that room's housekeeping record (condition, occupied, blocked)."""
        found: dict[str, dict[str, Any]] = {}
        for body in self._pages("getHousekeepingStatus", {}, PAGE_SIZE):
            for row in body.get("data") or []:
                if isinstance(row, dict) and row.get("roomID") is not None:
                    found[str(row["roomID"])] = row
        return found

    # --- guests -------------------------------------------------------------------------------------

    def guest_list(self, *, modified_from: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Every guest row, its id (the key of getGuestList's object) set as `guestID`."""
        params: dict[str, Any] = {"propertyIDs": self.property_id, "includeGuestInfo": "true"}
        if modified_from is not None:
            params["resultsFrom"] = _when(modified_from)
        for body in self._pages("getGuestList", params, PAGE_SIZE):
            data = body.get("data") or {}
            if isinstance(data, dict):
                for guest_id, row in data.items():
                    if isinstance(row, dict):
                        yield {**row, "guestID": str(row.get("guestID") or guest_id)}

    def guest(self, guest_id: str) -> dict[str, Any]:
        """getGuest, following merges (`isMerged` -> `newGuestID`) to the surviving guest."""
        current = guest_id
        for _ in range(MAX_MERGE_HOPS + 1):
            data = self.call("getGuest", {"guestID": current}).get("data")
            if not isinstance(data, dict):
                raise ProviderError("getGuest: no data", retryable=False)
            if data.get("isMerged") and data.get("newGuestID") and str(data["newGuestID"]) != current:
                current = str(data["newGuestID"])
                continue
            return {**data, "guestID": current}
        raise ProviderError("getGuest: merge chain too long", retryable=False)

    # --- webhooks -----------------------------------------------------------------------------------

    def subscribe(self, obj: str, action: str, endpoint_url: str) -> str:
        body = self.call("postWebhook", {"object": obj, "action": action, "endpointUrl": endpoint_url}, form=True)
        return str((body.get("data") or {}).get("subscriptionID", ""))
