"""The integrations registry (the seed's `core.integrations`): register and look up an organisation's
Rooms Event Hub integration. Secret request headers are stored only KMS-encrypted."""

from __future__ import annotations

import json
import uuid

from bookinghub.aws.kms import decrypt_secret, encrypt_secret
from bookinghub.core.clock import iso_now
from bookinghub.registry.dal import integrations as integration_store
from bookinghub.registry.models import (
    ROOMS_EVENT_HUB,
    Integration,
    IntegrationStatus,
    RoomsConfig,
    RoomsCredentials,
)

SECRET_HEADERS_PURPOSE = "integration-secret-headers"  # noqa: S105 - a KMS context label, not a secret


def register_rooms_integration(
    *,
    organisation_id: str,
    name: str,
    base_url: str,
    webhook_path: str,
    property_id: str,
    reservation_id_prefix: str,
    secret_headers: dict[str, str] | None = None,
    status: IntegrationStatus = "active",
    integration_id: str | None = None,
) -> Integration:
    integration_id = integration_id or str(uuid.uuid4())
    now = iso_now()
    encrypted = (
        encrypt_secret(json.dumps(secret_headers), purpose=SECRET_HEADERS_PURPOSE, owner=integration_id)
        if secret_headers
        else None
    )
    integration = Integration(
        id=integration_id,
        organisation_id=organisation_id,
        integration_type=ROOMS_EVENT_HUB,
        name=name,
        config=RoomsConfig(base_url=base_url, webhook_path=webhook_path, property_id=property_id),
        credentials=RoomsCredentials(reservation_id_prefix=reservation_id_prefix, secret_headers_encrypted=encrypted),
        status=status,
        created_at=now,
        updated_at=now,
    )
    integration_store.put_integration(integration)
    return integration


def active_rooms_integration(organisation_id: str) -> Integration | None:
    """The organisation's active Rooms integration (the oldest, if several are active)."""
    # Eventually consistent (half the read units): an integration changes seldom, a pass is issued per call
    found = integration_store.organisation_integrations(organisation_id, ROOMS_EVENT_HUB, consistent=False)
    active = [i for i in found if i.status == "active"]
    return min(active, key=lambda i: (i.created_at, i.id)) if active else None


def secret_headers(integration: Integration) -> dict[str, str]:
    encrypted = integration.credentials.secret_headers_encrypted
    if not encrypted:
        return {}
    headers = json.loads(decrypt_secret(encrypted, purpose=SECRET_HEADERS_PURPOSE, owner=integration.id))
    return {str(k): str(v) for k, v in headers.items()}
