"""The admin API (seed 002 dashboard): bookings, websites, integrations and Rooms monitoring, for people.

Every route below -> functions/admin_api/handler.py, one handler function per route, each calling one
function of bookinghub/<domain>/logic/admin.py (bookings, websites, registry, conflicts; Rooms monitoring
and Beds24 integrations go through registry/logic/admin.py).
"""

from __future__ import annotations

from infra.topology.model import Access, Function, Route

# The admin API (seed 002 dashboard): people, not websites, so every route but the OpenAPI document is
# guarded by API Gateway's Cognito authorizer (locally: infra/local/auth.py), and the function reads the
# verified claims (bookinghub.core.auth).
ADMIN_API = Function(
    name="admin_api",
    description="Admin API: bookings, websites, integrations and Rooms monitoring for operators (Cognito)",
    timeout_seconds=29,  # the test webhook waits for one delivery attempt (15 s)
    routes=(
        Route("GET", "/api/bookings", auth="cognito"),
        Route("GET", "/api/bookings/{booking_id}", auth="cognito"),
        Route("PUT", "/api/bookings/{booking_id}", auth="cognito", json_body=True),
        Route("POST", "/api/admin/test-webhook", auth="cognito", json_body=True),
        Route("POST", "/api/websites", auth="cognito", json_body=True),
        Route("GET", "/api/websites", auth="cognito"),
        Route("PATCH", "/api/websites/{website_id}", auth="cognito", json_body=True),
        Route("POST", "/api/websites/{website_id}/rotate-key", auth="cognito"),
        Route("POST", "/api/integrations", auth="cognito", json_body=True),
        Route("GET", "/api/integrations", auth="cognito"),
        Route("PATCH", "/api/integrations/{integration_id}", auth="cognito", json_body=True),
        Route("GET", "/api/integrations/rooms/status", auth="cognito"),
        Route("GET", "/api/integrations/rooms/calls", auth="cognito"),
        Route("GET", "/api/integrations/rooms/calls/failed", auth="cognito"),
        # Conflicts between a source and the hub (bookinghub.conflicts): list, resolve, per-org rules
        Route("GET", "/api/conflicts", auth="cognito"),
        Route("GET", "/api/conflicts/rules", auth="cognito"),
        Route("PUT", "/api/conflicts/rules", auth="cognito", json_body=True),
        Route("GET", "/api/conflicts/{conflict_id}", auth="cognito"),
        Route("POST", "/api/conflicts/{conflict_id}/resolve", auth="cognito", json_body=True),
        # The API's description is public: it documents routes, it holds no data
        Route("GET", "/api/openapi.json", auth="public"),
    ),
    access=Access(
        read_tables=("Bookings", "IntegrationLogs"),
        write_tables=("Bookings", "IntegrationLogs"),  # the test webhook records its delivery and attempt
        send_queues=("Deliveries", "Beds24Writes"),  # a resolved Beds24 conflict's value, sent to Beds24
        kms_encrypt=True,  # new webhook secrets and integration secret headers are stored encrypted
        kms_decrypt=True,  # the test webhook signs with the website's secret
    ),
)

FUNCTIONS: tuple[Function, ...] = (ADMIN_API,)
