"""The stores every domain shares: the DynamoDB tables and the KMS key for secrets at rest.

The Bookings table is a single table for the bookings, websites, registry, payments and Beds24 domains
(their keys: bookinghub/aws/keys.py); each domain's dal/ is the only code that reads or writes it.
"""

from __future__ import annotations

from infra.topology.model import Index, Key, Table

# What a listing's scanning searches filter on inside BookingsByWebsiteStatus (so a page fetches only the
# bookings it returns): the tenant, the email (lower-cased copy only when it differs), ref and folded name
_LISTED = ("organisation_id", "customer_email", "email_key", "booking_ref", "search_name")

BOOKINGS = Table(
    name="Bookings",
    env_var="BOOKINGS_TABLE_NAME",
    partition_key="PK",
    sort_key="SK",
    indexes=(
        # GSI1..GSI4: the other domains' items (see bookinghub/aws/keys.py), whole items projected.
        Index("GSI1", "GSI1PK", "GSI1SK"),
        Index("GSI2", "GSI2PK", "GSI2SK"),
        Index("GSI3", "GSI3PK", "GSI3SK"),
        Index("GSI4", "GSI4PK", "GSI4SK"),
        # Bookings only (sparse: only a booking has `list_key` and `search_name`). Two index entries per
        # booking write, one unit each (the item's own write stays one unit: bookings/dal/bookings.py):
        # - BookingsByWebsiteStatus: list_key = {website_id}#{status}, by date_key = {activity_date}#{id}.
        #   Every listing: a status filter is one partition per website, an unfiltered list merges the
        #   few status partitions, an organisation's list its websites'. A status change moves the entry.
        # - BookingsByName: an organisation's bookings by folded customer name (a name prefix is a key).
        # An update that changes no key or projected attribute writes no entry.
        Index("BookingsByWebsiteStatus", "list_key", "date_key", projection="INCLUDE", include=_LISTED),
        Index(
            "BookingsByName",
            "organisation_id",
            "search_name",
            projection="INCLUDE",
            include=("website_id", "date_key"),  # not the status: a status change writes no entry here
        ),
    ),
    ttl_attribute="expires_at",
    # Domain events come from the booking item's own changes (the writer stamps origin, type and changed
    # fields on it); the outbox relay builds each event from the old and new images.
    stream="NEW_AND_OLD_IMAGES",
)

IDEMPOTENCY = Table(
    name="Idempotency",
    env_var="IDEMPOTENCY_TABLE_NAME",
    partition_key="id",  # Powertools idempotency's default key schema
    ttl_attribute="expiration",
)

INTEGRATION_LOGS = Table(
    name="IntegrationLogs",
    env_var="INTEGRATION_LOGS_TABLE_NAME",
    partition_key="PK",
    sort_key="SK",
    indexes=(
        # GSI1: an integration's calls and delivery attempts by class (sync logs are keyed by booking and
        # need no index: bookinghub/aws/keys.py)
        Index("GSI1", "GSI1PK", "GSI1SK"),
        # GSI2 (sparse, only items with a parent): one delivery's attempts (GSI2PK=DATTOF#delivery) and one
        # pass's Rooms calls (GSI2PK=PASS#id), so `bookinghub logs` reads a booking's history by key
        Index("GSI2", "GSI2PK", "GSI2SK"),
    ),
    ttl_attribute="expires_at",  # retention, see settings.log_retention_days
)

TABLES: tuple[Table, ...] = (BOOKINGS, IDEMPOTENCY, INTEGRATION_LOGS)

# Encrypts secrets the hub must be able to read back (webhook signing secrets, provider tokens).
SECRETS_KEY = Key(name="Secrets", env_var="SECRETS_KMS_KEY_ID", description="bookinghub secrets at rest")
