"""Key layout of the PMS module's items.

Bookings table:
  Configuration  PK=PMSHOTEL#{slug}  SK=CONFIG      GSI2PK=ORG#{org}  GSI2SK=PMSHOTEL#{slug}
                                                  GSI1PK=PMSHOTELS  GSI1SK={slug}   (the scheduler's list)
  Room           PK=PMSHOTEL#{slug}  SK=ROOM#{provider}#{external id}
  Guest profile  PK=PMSHOTEL#{slug}  SK=GUEST#{provider}#{external id}   (-> the hub guest it matched)
  Webhook event  PK=PMSHOOK#{slug}#{provider}#{sha256 of the provider's event key}  SK=WEBHOOK
  Booking        the hub's booking item (PK=BOOKING#{id}, SK=BOOKING, GSI1 website, GSI2 org, GSI3 email)
                 with website_id `pms:{slug}`: GET /api/bookings lists it with the websites' bookings
IntegrationLogs table:
  Sync log       PK=PMSSYNC#{slug}  SK={started_at}#{id}   GSI1PK=PMSSYNCLOG#{id}  GSI1SK={started_at}
  Schedule fire  PK=PMSFIRE#{slug}#{scheduled time}  SK=FIRE   (claimed once: a redelivered fire runs once)
Bookings table, from the bus (pms_status):
  Sync status    PK=PMSHOTEL#{slug}  SK=STATUS   (the latest pms.sync.completed per entity type)
"""

from __future__ import annotations

import hashlib

from bookinghub.aws import keys as hub_keys

CONFIG_SK = "CONFIG"
ALL_HOTELS = "PMSHOTELS"
WEBHOOK_SK = "WEBHOOK"
FIRE_SK = "FIRE"
STATUS_SK = "STATUS"


def hotel_pk(slug: str) -> str:
    return f"PMSHOTEL#{slug}"


def org_sk(slug: str) -> str:
    return f"PMSHOTEL#{slug}"


def room_sk(provider: str, external_id: str) -> str:
    return f"ROOM#{provider}#{external_id}"


def guest_sk(provider: str, external_id: str) -> str:
    return f"GUEST#{provider}#{external_id}"


def webhook_pk(slug: str, provider: str, event_key: str) -> str:
    return f"PMSHOOK#{slug}#{provider}#{hashlib.sha256(event_key.encode()).hexdigest()}"


def sync_pk(slug: str) -> str:
    return f"PMSSYNC#{slug}"


def fire_pk(slug: str, scheduled_time: str) -> str:
    return f"PMSFIRE#{slug}#{scheduled_time}"


def sync_log_gsi(log_id: str) -> str:
    return f"PMSSYNCLOG#{log_id}"


def website_id(slug: str) -> str:
    """The website id PMS bookings carry: the hub lists, filters and scopes bookings by website."""
    return f"pms:{slug}"


def booking_id(slug: str, provider: str, external_id: str) -> str:
    return hub_keys.booking_id_for(website_id(slug), f"{provider}:{external_id}")
