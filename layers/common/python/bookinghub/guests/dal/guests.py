"""Guests and their identity keys (Bookings table).

An identity key item (`GUESTKEY#{org}#email#{address}` or `...#phone#{E.164}`) names the one guest that
owns that email or phone in an organisation, so matching is a batch of key lookups: never a scan, and
not even an index query. A guest's first identity needs no key item: the guest's id derives from it
(`founded`), so the lookup reads that guest directly (guests written before this have one all the same).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.batch import batch_get, batch_write
from bookinghub.core.settings import get_settings
from bookinghub.guests.models import Guest

Identity = tuple[str, str]  # (kind, value): ("email", "anna@example.com") or ("phone", "+6681...")


def identity_owners(
    organisation_id: str, identities: Iterable[Identity], *, founded: Mapping[Identity, str]
) -> tuple[dict[Identity, str], dict[str, Guest]]:
    """identity -> guest id, for the identities some guest already owns, and the guests read on the way:
    one batch of the identities' key items and of the guests each would have founded (`founded`:
    identity -> the id of a guest whose first identity it is). A key item wins over a founded guest."""
    wanted = {keys.guest_key_pk(organisation_id, kind, value): (kind, value) for kind, value in identities}
    if not wanted:
        return {}, {}
    by_guest = {keys.guest_pk(founded[i]): i for i in wanted.values() if i in founded}
    requests = [{"PK": pk, "SK": keys.GUEST_KEY_SK} for pk in wanted]
    requests += [{"PK": pk, "SK": keys.GUEST_SK} for pk in by_guest]
    owners: dict[Identity, str] = {}
    guests: dict[str, Guest] = {}
    for item in batch_get(get_settings().bookings_table, requests):
        if item["SK"] == keys.GUEST_SK:
            guest = Guest.model_validate(_fields(item))
            guests[guest.id] = guest
            owners.setdefault(by_guest[item["PK"]], guest.id)
        elif item["PK"] in wanted:
            owners[wanted[item["PK"]]] = str(item["guest_id"])
    return owners, guests


def get_guests(guest_ids: Iterable[str]) -> dict[str, Guest]:
    ids = set(guest_ids)
    if not ids:
        return {}
    items = batch_get(get_settings().bookings_table, [{"PK": keys.guest_pk(i), "SK": keys.GUEST_SK} for i in ids])
    guests = (Guest.model_validate(_fields(item)) for item in items)
    return {guest.id: guest for guest in guests}


def save_guests(guests: Sequence[Guest], owners: dict[Identity, str], organisation_id: str) -> int:
    """Write guests and newly owned identities together; returns the number of calls."""
    items: list[dict[str, Any]] = [
        {"PK": keys.guest_pk(g.id), "SK": keys.GUEST_SK, "entity": "guest", **g.model_dump()} for g in guests
    ]
    items += [
        {
            "PK": keys.guest_key_pk(organisation_id, kind, value),
            "SK": keys.GUEST_KEY_SK,
            "entity": "guest_key",
            "guest_id": guest_id,
            "organisation_id": organisation_id,
        }
        for (kind, value), guest_id in owners.items()
    ]
    return batch_write(get_settings().bookings_table, items) if items else 0


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("PK", "SK", "entity")}
