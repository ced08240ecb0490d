"""Key layout of the single-table design (Bookings table) and the IntegrationLogs table.

Bookings table items:
  Website      PK=WEBSITE#{id}          SK=WEBSITE         GSI2PK=ORG#{org}       GSI2SK=WEBSITE#{id}
  API key      PK=APIKEY#{sha256}       SK=APIKEY          (points at the website; never the key itself)
  Booking      PK=BOOKING#{booking_id}  SK=BOOKING         GSI1 by website+date, GSI2 by org+date,
                                                           GSI3 by customer email, GSI4 by booking_ref
  Domain event PK=BOOKING#{booking_id}  SK=EVENT#{ts}#{event_id}   (the outbox: the stream relays it)
IntegrationLogs items:
  Sync log     PK=SYNCLOG#{website_id}  SK={ts}#{id}       GSI1PK=BOOKING#{booking_id} GSI1SK={ts}
"""

from __future__ import annotations

import uuid

# A fixed namespace makes a booking's id a pure function of (website_id, source_booking_id): the one
# booking per pair is enforced by the key itself and a redelivery finds the same id without a lookup.
BOOKING_NAMESPACE = uuid.UUID("6f1c7d0e-6a9b-4f7e-9d43-2a51b0c8e7aa")

BOOKING_SK = "BOOKING"
WEBSITE_SK = "WEBSITE"
APIKEY_SK = "APIKEY"
EVENT_SK_PREFIX = "EVENT#"


def booking_id_for(website_id: str, source_booking_id: str) -> str:
    return str(uuid.uuid5(BOOKING_NAMESPACE, f"{website_id}\x1f{source_booking_id}"))


def booking_pk(booking_id: str) -> str:
    return f"BOOKING#{booking_id}"


def website_pk(website_id: str) -> str:
    return f"WEBSITE#{website_id}"


def api_key_pk(key_hash: str) -> str:
    return f"APIKEY#{key_hash}"


def org_pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


def event_sk(occurred_at: str, event_id: str) -> str:
    return f"{EVENT_SK_PREFIX}{occurred_at}#{event_id}"


def date_sort_key(activity_date: str, booking_id: str) -> str:
    return f"{activity_date}#{booking_id}"


def sync_log_pk(website_id: str) -> str:
    return f"SYNCLOG#{website_id}"
