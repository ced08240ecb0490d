"""demo-org's PMS hotels under `make run` (issue 13), seeded once AWS and the Cloudbeds sandbox are up.

- `demo-hotel`: provider `mock`, webhook token `mock_dev_token_123` (the seed's), synced every 6 hours
  (the seed's `0 */6 * * *`), so the seed's curl works as written with `x-hotel-slug: demo-hotel`;
- `cloudbeds-demo-hotel`: provider `cloudbeds` against the Cloudbeds sandbox (property 200001, key
  cbat_local_demo_key_0001), subscribed through postWebhook to the hub's webhook with its per-hotel token
  in the URL, as one would set Cloudbeds up; change a reservation to see its webhook applied:

    curl -X POST <cloudbeds sandbox>/_control/reservation -H 'content-type: application/json' \\
         -d '{"reservationID": "CB880001", "status": "checked_in"}'

Every key and token here is a LOCAL DEMO VALUE, meaningless anywhere else.
"""

from __future__ import annotations

from typing import Any

DEMO_ORG = "demo-org"
MOCK_HOTEL = "demo-hotel"
MOCK_TOKEN = "mock_dev_token_123"  # noqa: S105 - the seed's local demo token
CLOUDBEDS_HOTEL = "cloudbeds-demo-hotel"
CLOUDBEDS_TOKEN = "local_demo_cloudbeds_hook_token"  # noqa: S105 - a local demo value
WEBHOOK_PATH = "/api/pms/{provider}/bookings"


def seed_pms_demo(cloudbeds_url: str, gateway_url: str) -> list[dict[str, Any]]:
    """Register both demo hotels (the environment must already point the hub at moto)."""
    from bookinghub.core.auth import Principal
    from bookinghub.pms.adapters.cloudbeds import CloudbedsClient
    from bookinghub.pms.logic import hotels
    from bookinghub.pms.models.config import ConfigurationCreate
    from infra.local.sandbox import cloudbeds_data

    operator = Principal(
        subject="local-demo", email="demo@local", role="admin", organisation_id=DEMO_ORG, websites=frozenset()
    )
    api = f"{cloudbeds_url.rstrip('/')}/api/v1.3"
    seeded = [
        hotels.create(
            operator,
            ConfigurationCreate(
                hotel_slug=MOCK_HOTEL,
                provider="mock",
                name="Demo Hotel (mock PMS)",
                webhook_token=MOCK_TOKEN,
                sync_schedule="0 */6 * * *",
            ),
        ),
        hotels.create(
            operator,
            ConfigurationCreate(
                hotel_slug=CLOUDBEDS_HOTEL,
                provider="cloudbeds",
                name="Cloudbeds Demo Hotel (local sandbox)",
                webhook_token=CLOUDBEDS_TOKEN,
                credentials={"api_key": cloudbeds_data.DEMO_API_KEY},
                settings={"property_id": cloudbeds_data.DEMO_PROPERTY_ID, "base_url": api},
                sync_schedule="*/30 * * * *",
            ),
        ),
    ]
    hook = f"{gateway_url.rstrip('/')}{WEBHOOK_PATH.format(provider='cloudbeds')}"
    client = CloudbedsClient(cloudbeds_data.DEMO_API_KEY, cloudbeds_data.DEMO_PROPERTY_ID, base_url=api)
    for action in ("created", "status_changed", "dates_changed"):
        client.subscribe("reservation", action, f"{hook}?hotel={CLOUDBEDS_HOTEL}&token={CLOUDBEDS_TOKEN}")
    return seeded
