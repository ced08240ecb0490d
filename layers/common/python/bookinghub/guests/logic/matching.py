"""Guest matching (seed 001): one guest per person across bookings, found by email, then by phone.

1. Email, case-insensitive; 2. phone or mobile in E.164; 3. otherwise a new guest. A guest's fields
come from the most recent booking (by Beds24's modification time); an older booking never overwrites
newer data, and an empty field never erases one. Every email and phone seen becomes the guest's
identity, so the next booking with any of them finds the same guest.

A whole page of bookings is matched at once: at most three batched DynamoDB calls however many bookings
(identity lookups with the guests those identities founded, the other guests' reads, one write batch per
25 items), the cost that makes a 10,000-booking full sync affordable. New guests get a deterministic id
(from their first identity), so two workers creating the same guest at once write the same guest rather
than two, and that first identity needs no key item of its own (guests/dal/guests.py): a new guest with
one email is one item written. Nothing is written for a guest whose data did not change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from bookinghub.beds24.logic.mapping import GuestCandidate
from bookinghub.core.clock import iso_now
from bookinghub.guests.dal import guests as store
from bookinghub.guests.dal.guests import Identity
from bookinghub.guests.models import Guest

GUEST_NAMESPACE = uuid.UUID("9a3e6f20-2c4b-4d8e-b1a7-5f0c9e3d7b14")
MAX_IDENTITIES = 10  # of each kind per guest: enough for real people, bounded for the item size


def identities(candidate: GuestCandidate) -> list[Identity]:
    found: list[Identity] = [("email", candidate.email)] if candidate.email else []
    return found + [("phone", phone) for phone in candidate.phones]


def new_guest_id(organisation_id: str, first_identity: str) -> str:
    return str(uuid.uuid5(GUEST_NAMESPACE, f"{organisation_id}\x1f{first_identity}"))


def match_guests(organisation_id: str, candidates: Sequence[tuple[str, GuestCandidate | None]]) -> dict[str, str]:
    """booking key -> guest id, for every candidate that names someone; guests created or merged."""
    named = [(key, c) for key, c in candidates if c is not None]
    if not named:
        return {}
    seen = {i for _, c in named for i in identities(c)}
    founded = {i: new_guest_id(organisation_id, f"{i[0]}:{i[1]}") for i in seen}
    owners, found = store.identity_owners(organisation_id, seen, founded=founded)
    known_ids = set(owners.values())
    new_owners: dict[Identity, str] = {}
    matched: dict[str, str] = {}
    for key, candidate in named:  # in order: a later booking of the same new guest joins the first
        own = identities(candidate)
        guest_id = next((owners[i] for i in own if i in owners), None)
        if guest_id is None:
            seed = f"{own[0][0]}:{own[0][1]}" if own else f"booking:{key}"
            guest_id = new_guest_id(organisation_id, seed)
        matched[key] = guest_id
        for identity in own:
            # An identity owned by another guest stays theirs: matching never moves it silently
            if identity not in owners:
                owners[identity] = guest_id
                if founded[identity] != guest_id:  # a guest's founding identity is its id: no key item
                    new_owners[identity] = guest_id

    existing = {**found, **store.get_guests(known_ids - set(found))}
    merged: dict[str, Guest] = {}
    now = iso_now()
    for key, candidate in sorted(named, key=lambda kc: kc[1].data_as_of):  # oldest first: newest wins
        guest_id = matched[key]
        current = merged.get(guest_id) or existing.get(guest_id)
        merged[guest_id] = merge(current, candidate, guest_id=guest_id, organisation_id=organisation_id, now=now)
    changed = [g for g in merged.values() if g != existing.get(g.id)]
    store.save_guests(changed, new_owners, organisation_id)
    return matched


def merge(current: Guest | None, candidate: GuestCandidate, *, guest_id: str, organisation_id: str, now: str) -> Guest:
    """The guest with one booking's data folded in: newer non-empty values win, identities accumulate."""
    if current is None:
        return Guest(
            id=guest_id,
            organisation_id=organisation_id,
            name=candidate.name,
            email=candidate.email,
            phone=candidate.phones[0] if candidate.phones else None,
            emails=[candidate.email] if candidate.email else [],
            phones=list(candidate.phones),
            country=candidate.country,
            data_as_of=candidate.data_as_of,
            created_at=now,
            updated_at=now,
        )
    emails = _union(current.emails, [candidate.email] if candidate.email else [])
    phones = _union(current.phones, list(candidate.phones))
    newer = candidate.data_as_of >= current.data_as_of
    if not newer:
        unchanged = emails == current.emails and phones == current.phones
        return (
            current if unchanged else current.model_copy(update={"emails": emails, "phones": phones, "updated_at": now})
        )
    update = {
        "name": candidate.name or current.name,
        "email": candidate.email or current.email,
        "phone": (candidate.phones[0] if candidate.phones else None) or current.phone,
        "country": candidate.country or current.country,
        "emails": emails,
        "phones": phones,
        "data_as_of": candidate.data_as_of,
    }
    if all(getattr(current, name) == value for name, value in update.items()):
        return current
    return current.model_copy(update={**update, "updated_at": now})


def _union(existing: list[str], new: list[str]) -> list[str]:
    return list(dict.fromkeys([*existing, *new]))[-MAX_IDENTITIES:]
