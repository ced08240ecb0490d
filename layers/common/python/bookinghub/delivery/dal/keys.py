"""Key layout of the delivery records (single-table, beside bookinghub.aws.keys).

Bookings table:
  Endpoint        PK=ENDPOINT#{id}   SK=ENDPOINT   GSI2PK=ORG#{org}  GSI2SK=ENDPOINT#{id}
  Endpoint status PK=ENDPOINT#{id}   SK=STATUS     (state, circuit breaker, counters, rate window)
  Delivery        PK=DELIVERY#{id}   SK=DELIVERY
                  GSI1PK=DUE#{shard} GSI1SK={next_attempt_at}#{id}   only while pending (sparse): the sweeper
                                     reads what is due from 8 shards, never a scan
                  GSI3PK=EPFAILED#{endpoint} GSI3SK={failed_at}#{id} only while failed (sparse): "failed
                                     deliveries of an endpoint since T"
IntegrationLogs table:
  Attempt         PK=DATTEMPT#{endpoint} SK={at}#{delivery}#{attempt}  expires_at (TTL)
                  GSI1PK=DATTCLASS#{endpoint}#{2xx|3xx|4xx|5xx|error}  GSI1SK={at}#{delivery}#{attempt}
                  GSI2PK=DATTOF#{delivery}  GSI2SK={at}#{attempt}   one delivery's attempts (`bookinghub logs`)
"""

from __future__ import annotations

import hashlib
import uuid

ENDPOINT_SK = "ENDPOINT"
STATUS_SK = "STATUS"
DELIVERY_SK = "DELIVERY"
ENDPOINT_GSI2_PREFIX = "ENDPOINT#"
DUE_SHARDS = 8
_DELIVERY_NAMESPACE = uuid.UUID("8d2b7f4e-1c3a-4b5d-9e6f-7a8b9c0d1e2f")


def delivery_id_for(event_id: str, endpoint_id: str) -> str:
    """One delivery per (event, endpoint) by construction: a re-run fan-out finds the same id."""
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, f"{event_id}\x1f{endpoint_id}"))


def endpoint_pk(endpoint_id: str) -> str:
    return f"ENDPOINT#{endpoint_id}"


def delivery_pk(delivery_id: str) -> str:
    return f"DELIVERY#{delivery_id}"


def due_shard(delivery_id: str) -> str:
    return f"DUE#{hashlib.sha256(delivery_id.encode()).digest()[0] % DUE_SHARDS}"


def due_shards() -> list[str]:
    return [f"DUE#{n}" for n in range(DUE_SHARDS)]


def failed_pk(endpoint_id: str) -> str:
    return f"EPFAILED#{endpoint_id}"


def attempts_pk(endpoint_id: str) -> str:
    return f"DATTEMPT#{endpoint_id}"


def attempts_class_pk(endpoint_id: str, status_class: str) -> str:
    return f"DATTCLASS#{endpoint_id}#{status_class}"


def delivery_attempts_pk(delivery_id: str) -> str:
    return f"DATTOF#{delivery_id}"
