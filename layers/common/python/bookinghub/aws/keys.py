"""Key layout of the single-table design (Bookings table) and the IntegrationLogs table.

Bookings table items:
  Website      PK=WEBSITE#{id}          SK=WEBSITE         GSI2PK=ORG#{org}       GSI2SK=WEBSITE#{id}
  API key      PK=APIKEY#{sha256}       SK=APIKEY          (points at the website; never the key itself)
  Booking      PK=BOOKING#{booking_id}  SK=BOOKING         list_key={website_id}#{status}, date_key=
               {activity_date}#{booking_id}: BookingsByWebsiteStatus; organisation_id + search_name:
               BookingsByName; its last change's event stamped on it (bookings/dal/bookings.py)
  Domain event PK=BOOKING#{booking_id}  SK=EVENT#{ts}#{event_id}   (the timeline: written by the outbox
               relay from the booking's stream, or on its own by a test webhook / the PMS outbox)
  Integration  PK=ORG#{org}             SK=INTEGRATION#{type}#{integration_id}
                                        GSI1PK=INTEGRATION#{type}  GSI1SK=ORG#{org}#{integration_id}
  Pass         PK=PASS#{pass_id}        SK=PASS            (in no index; passes written before issue 11
               carry GSI2PK=ORG#{org} GSI2SK=PASS#{arrival}#{pass_id}, which nothing reads)
               (pass_id = uuid5 of the Stripe payment intent id: one pass per payment by construction)
  Lock code    PK=PASS#{pass_id}        SK=LOCKCODE#{provider}  (the code encrypted, aws/envelope.py; one
               per provider; its presence is what makes the pass `issued`)
  Beds24 property   PK=ORG#{org}  SK=INTEGRATION#beds24#{property}  (an integration; GSI1 lists them by type)
  Property aliases  PK=BEDS24PROP#{beds24 property id} / BEDS24TOKEN#{sha256 of webhook token}
                    SK=ALIAS   -> organisation and property (a webhook finds its property)
  Reservation  PK=RESERVATION#{id}   SK=RESERVATION   GSI1PK=PROPERTY#{org}#{property} GSI1SK={arrival}#{id}
  Room         PK=PROPERTY#{org}#{property}  SK=ROOM#{beds24 room id}#{unit id}   (occupancy status)
  Guest        PK=GUEST#{guest_id}   SK=GUEST
  Guest key    PK=GUESTKEY#{org}#{email|phone}#{value}  SK=GUESTKEY  -> guest_id (one guest per identity)
  Sync run     PK=RUN#{run_id}       SK=RUN           GSI1PK=RUNS#{org}#{property} GSI1SK={started_at}#{run_id}
               PK=RUN#{run_id}       SK=REPORT#{part} / SEEN#{page}   (reconciliation report, ids seen)
  Webhook      PK=HOOKS#{org}#{property}  SK={event key: modifiedTime#booking#live|deleted#propertyId,
                                                  or 0#{body sha256}}  (before: PK=BEDS24HOOK#{key} SK=WEBHOOK)
IntegrationLogs items:
  Sync log     PK=SYNCLOG#{booking_id}  SK={ts}#{id}       (a booking's logs are one Query; no index)
  Call log     PK=PASSCALLS#{pass_id} SK={ts}#{id}  (a call made for a pass: its pass's calls by key)
               PK=INTLOG#{integration_id} SK={ts}#{id}  (any other call)
                                           GSI1PK=INTCALLS#{type}#{ok|failed} GSI1SK={ts}#{id}
               (the GSI splits successes from failures by type, so "recent calls" merges the two
               partitions and "failed calls" reads one; Beds24's successful calls are not indexed: nothing
               lists them by type; a pass's call logged before issue 11 sits under INTLOG# with
               GSI2PK=PASS#{pass_id} GSI2SK={ts}#{id})
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

# A fixed namespace makes a booking's id a pure function of (website_id, source_booking_id): the one
# booking per pair is enforced by the key itself and a redelivery finds the same id without a lookup.
BOOKING_NAMESPACE = uuid.UUID("6f1c7d0e-6a9b-4f7e-9d43-2a51b0c8e7aa")

BOOKING_SK = "BOOKING"
WEBSITE_SK = "WEBSITE"
APIKEY_SK = "APIKEY"
EVENT_SK_PREFIX = "EVENT#"


# The customer's name case-folded, beside the name itself: what a name search matches against
SEARCH_NAME = "search_name"
# A booking's listing partition, {website_id}#{status}: a status filter is a key (BookingsByWebsiteStatus)
LIST_KEY = "list_key"
# A booking item's index keys and its last change's stamp: storage, not the booking's record
BOOKING_INDEX_ATTRIBUTES = ("date_key", "email_key", SEARCH_NAME, LIST_KEY)
# `seq`: how many events the booking's changes have made, the last one's sequence (its realtime order)
BOOKING_CHANGE_ATTRIBUTES = ("event_id", "event_type", "origin", "changed_fields", "seq")
BOOKING_LAYOUT_ATTRIBUTES = frozenset(BOOKING_INDEX_ATTRIBUTES + BOOKING_CHANGE_ATTRIBUTES)
# Attributes that are the table's layout, not the record: the dal returns records without them
_LAYOUT = {"PK", "SK", "entity", SEARCH_NAME}


def without_layout(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as a record: without its keys, index keys (GSI*), entity tag or search copies."""
    return {k: v for k, v in item.items() if k not in _LAYOUT and not k.startswith("GSI")}


def search_name(name: str) -> str:
    return " ".join(name.casefold().split())


_BOOKING_NAMESPACE_BYTES = BOOKING_NAMESPACE.bytes


def booking_id_for(website_id: str, source_booking_id: str) -> str:
    """uuid5(BOOKING_NAMESPACE, "{website_id}\\x1f{source_booking_id}") as text, computed as RFC 4122 says
    without building UUID objects (once per sync request: uuid.UUID's checks were most of its cost)."""
    name = f"{website_id}\x1f{source_booking_id}".encode()
    digest = bytearray(hashlib.sha1(_BOOKING_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def booking_pk(booking_id: str) -> str:
    return f"BOOKING#{booking_id}"


def website_pk(website_id: str) -> str:
    return f"WEBSITE#{website_id}"


def api_key_pk(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def org_pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


def list_key(website_id: str, status: str) -> str:
    return f"{website_id}#{status}"


def event_sk(occurred_at: str, event_id: str) -> str:
    return f"{EVENT_SK_PREFIX}{occurred_at}#{event_id}"


def date_sort_key(activity_date: str, booking_id: str) -> str:
    return f"{activity_date}#{booking_id}"


def sync_log_pk(booking_id: str) -> str:
    return f"SYNCLOG#{booking_id}"


# --- Passes, lock codes and integrations (Stripe payments -> Rooms Event Hub pincodes) ----------------

PASS_NAMESPACE = uuid.UUID("0b6f5d1e-3c2a-4e8f-9a71-5c4d3b2a1f09")
PASS_SK = "PASS"  # noqa: S105 - a sort key, not a secret
LOCK_CODE_SK_PREFIX = "LOCKCODE#"
INTEGRATION_SK_PREFIX = "INTEGRATION#"


def pass_id_for(payment_ref: str) -> str:
    """A pass's id from its payment intent id (or, without one, the Stripe object's id)."""
    return str(uuid.uuid5(PASS_NAMESPACE, payment_ref))


def pass_pk(pass_id: str) -> str:
    return f"PASS#{pass_id}"


def pass_org_sk(arrival_date: str, pass_id: str) -> str:
    return f"PASS#{arrival_date}#{pass_id}"


def lock_code_sk(provider: str) -> str:
    return f"{LOCK_CODE_SK_PREFIX}{provider}"


def integration_sk(integration_type: str, integration_id: str) -> str:
    return f"{INTEGRATION_SK_PREFIX}{integration_type}#{integration_id}"


def integration_type_pk(integration_type: str) -> str:
    return f"{INTEGRATION_SK_PREFIX}{integration_type}"


def integration_log_pk(integration_id: str) -> str:
    return f"INTLOG#{integration_id}"


def pass_calls_pk(pass_id: str) -> str:
    return f"PASSCALLS#{pass_id}"


def integration_calls_pk(integration_type: str, *, failed: bool) -> str:
    return f"INTCALLS#{integration_type}#{'failed' if failed else 'ok'}"


# --- Beds24: properties, reservations, guests, sync runs, webhook events ------------------------------

ALIAS_SK = "ALIAS"
RESERVATION_SK = "RESERVATION"
GUEST_SK = "GUEST"
GUEST_KEY_SK = "GUESTKEY"
RUN_SK = "RUN"
WEBHOOK_SK = "WEBHOOK"


def beds24_property_alias_pk(beds24_property_id: int) -> str:
    return f"BEDS24PROP#{beds24_property_id}"


def beds24_token_alias_pk(token_hash: str) -> str:
    return f"BEDS24TOKEN#{token_hash}"


def property_pk(organisation_id: str, property_id: str) -> str:
    return f"PROPERTY#{organisation_id}#{property_id}"


def reservation_pk(reservation_id: str) -> str:
    return f"RESERVATION#{reservation_id}"


def room_sk(beds24_room_id: int | None, unit_id: int | None) -> str:
    return f"ROOM#{beds24_room_id or 0}#{unit_id or 0}"


def guest_pk(guest_id: str) -> str:
    return f"GUEST#{guest_id}"


def guest_key_pk(organisation_id: str, kind: str, value: str) -> str:
    return f"GUESTKEY#{organisation_id}#{kind}#{value}"


def run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def runs_pk(organisation_id: str, property_id: str) -> str:
    return f"RUNS#{organisation_id}#{property_id}"


def webhook_pk(event_key: str) -> str:
    return f"BEDS24HOOK#{event_key}"


def webhooks_pk(organisation_id: str, property_id: str) -> str:
    return f"HOOKS#{organisation_id}#{property_id}"
