"""The stores every domain shares: the DynamoDB tables and the KMS key for secrets at rest.

The Bookings table is a single table for the bookings, websites, registry, payments and Beds24 domains
(their keys: bookinghub/aws/keys.py); each domain's dal/ is the only code that reads or writes it.
"""

from __future__ import annotations

from infra.topology.model import Index, Key, Table

BOOKINGS = Table(
    name="Bookings",
    env_var="BOOKINGS_TABLE_NAME",
    partition_key="PK",
    sort_key="SK",
    indexes=(
        # GSI1: bookings of one website by activity date (GSI1PK=WEBSITE#id, GSI1SK=date#booking)
        Index("GSI1", "GSI1PK", "GSI1SK"),
        # GSI2: bookings of one organisation by activity date (GSI2PK=ORG#id, GSI2SK=date#booking)
        Index("GSI2", "GSI2PK", "GSI2SK"),
        # GSI3: bookings of one customer email, lower-cased (GSI3PK=EMAIL#addr, GSI3SK=date#booking)
        Index("GSI3", "GSI3PK", "GSI3SK"),
        # GSI4: bookings by booking_ref (GSI4PK=REF#ref, GSI4SK=date#booking)
        Index("GSI4", "GSI4PK", "GSI4SK"),
    ),
    ttl_attribute="expires_at",
    # Domain events are written to this table in the same transaction as the booking change (outbox);
    # the stream carries them to the outbox relay.
    stream="NEW_IMAGE",
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
        # GSI1: the logs of one booking / one integration, newest first (GSI1PK=BOOKING#id, GSI1SK=ts)
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
