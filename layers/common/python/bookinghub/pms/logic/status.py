"""The PMS bus's consumer (pms_status): each hotel's latest sync per entity type and latest synced booking.

Fed by the bus rule PMSSyncStatus (infra/topology/pms.py) through the PMSBusEvents queue, on AWS and
under `make run` alike. Operators read it in GET /api/pms/configurations/{hotel_slug} (`sync_status`).
"""

from __future__ import annotations

from typing import Any

from bookinghub.core.observability import logger
from bookinghub.pms.dal import status as store

SYNC_COMPLETED = "pms.sync.completed"
BOOKING_SYNCED = "pms.booking.synced"


def apply_event(event: dict[str, Any]) -> bool:
    """One EventBridge event; True if it was the hotel's newest news of its kind (else already superseded)."""
    detail_type, detail, at = event["detail-type"], event["detail"], str(event["time"])
    slug = str(detail["hotelSlug"])
    if detail_type == SYNC_COMPLETED:
        attribute = f"sync_{detail['entityType']}"
        value = {
            "at": at,
            "sync_log_id": detail["syncLogId"],
            "operation": detail["operation"],
            "status": detail["status"],
            "processed": detail["processed"],
            "failed": detail["failed"],
            "duration": detail["duration"],
        }
    elif detail_type == BOOKING_SYNCED:
        attribute = "last_booking"
        value = {
            "at": at,
            "booking_id": detail["bookingId"],
            "external_id": detail["externalId"],
            "outcome": detail["outcome"],
        }
    else:  # the rule only routes the two above; anything else is a routing mistake, not worth a retry
        logger.warning("pms bus event ignored", extra={"detail_type": detail_type})
        return False
    applied = store.record(slug, attribute, value)
    logger.info("pms status", extra={"hotel_slug": slug, "attribute": attribute, "applied": applied})
    return applied


def of_hotel(slug: str) -> dict[str, Any]:
    return store.get(slug)
