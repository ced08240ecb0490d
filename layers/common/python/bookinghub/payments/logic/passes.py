"""Reading a pass back (`GET /api/passes/{pass_id}`, `GET /api/passes?payment_intent=pi_...`).

The caller is an organisation's website server, authenticated by its X-API-Key exactly as for the
booking sync. A pass of another organisation (or none) is 404, so ids cannot be probed across
organisations. The pincode is returned, decrypted, once issued.
"""

from __future__ import annotations

import re
from typing import Any

from bookinghub.core.errors import InvalidQuery, PassNotFound
from bookinghub.core.observability import logger
from bookinghub.payments.dal import passes as pass_store
from bookinghub.payments.logic.lock_codes import PROVIDER, read_pincode
from bookinghub.payments.models import PassView
from bookinghub.websites.logic.auth import authenticate

_PASS_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_PAYMENT_INTENT = re.compile(r"^pi_[A-Za-z0-9_]{1,200}$")


def get_pass(api_key: str | None, pass_id: str) -> PassView:
    website = authenticate(api_key)
    if not _PASS_ID.match(pass_id):
        raise PassNotFound()
    return _view_for(website.organisation_id, pass_id)


def find_pass(api_key: str | None, query: dict[str, str] | None) -> PassView:
    website = authenticate(api_key)
    payment_intent = (query or {}).get("payment_intent")
    if not payment_intent:
        raise InvalidQuery(
            "Query parameter payment_intent is required",
            details=[{"field": "payment_intent", "message": "required"}],
        )
    if not _PAYMENT_INTENT.match(payment_intent):
        raise InvalidQuery(
            "payment_intent must be a Stripe payment intent id (pi_...)",
            details=[{"field": "payment_intent", "message": "must match pi_[A-Za-z0-9_]+"}],
        )
    return _view_for(website.organisation_id, pass_store.pass_id_for(payment_intent))


def _view_for(organisation_id: str, pass_id: str) -> PassView:
    stored, lock_code = pass_store.get_pass_and_lock_code(pass_id, PROVIDER)
    if stored is None or stored.get("organisation_id") != organisation_id:
        raise PassNotFound()
    view = pass_view(stored, read_pincode(lock_code) if lock_code else None)
    logger.info("pass read", extra={"pass_id": pass_id, "pincode_status": view.pincode_status})
    return view


def stored_pass(pass_id: str) -> dict[str, Any] | None:
    """The stored pass with its pincode_status as readers see it (`issued` once it has a lock code)."""
    stored, lock_code = pass_store.get_pass_and_lock_code(pass_id, PROVIDER)
    if stored is not None and lock_code is not None:
        stored = {**stored, "pincode_status": "issued"}
    return stored


def pass_view(stored: dict[str, Any], pincode: str | None) -> PassView:
    # The lock code's presence is what makes a pass issued (the pass item is not written again for it)
    status = "issued" if pincode else stored.get("pincode_status", "pending")
    return PassView(
        id=stored["id"],
        status=stored["status"],
        payment_intent_id=stored.get("payment_intent_id"),
        organisation_id=stored.get("organisation_id"),
        lock_id=stored.get("lock_id"),
        arrival_date=stored.get("arrival_date"),
        departure_date=stored.get("departure_date"),
        pincode_status=status,
        pincode=pincode,
        attention_reason=stored.get("attention_reason"),
        created_at=stored["created_at"],
        updated_at=stored["updated_at"],
    )
