"""The sandbox servers: local stand-ins for the outside parties the hub talks to, each on its own port.

A sandbox is a WSGI app built from the shared `SandboxContext` (filled in as the runtime starts), plus
an optional `seed` that registers its demo data in the hub once AWS is up, given the sandbox's URL.
Later issues add provider sandboxes here; the runtime starts and the banner lists whatever is listed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.local.sandbox.beds24 import create_app as create_beds24
from infra.local.sandbox.beds24_demo import DEMO_PROPERTY, seed_beds24_demo
from infra.local.sandbox.cloudbeds import create_app as create_cloudbeds
from infra.local.sandbox.make_receiver import API_KEY_HEADER as MAKE_API_KEY_HEADER
from infra.local.sandbox.make_receiver import DEMO_HOOK as MAKE_DEMO_HOOK
from infra.local.sandbox.make_receiver import LOCAL_DEMO_API_KEY as MAKE_DEMO_API_KEY
from infra.local.sandbox.make_receiver import create_app as create_make_receiver
from infra.local.sandbox.pms_demo import seed_pms_demo
from infra.local.sandbox.rooms_event_hub import BASE_PATH as ROOMS_BASE_PATH
from infra.local.sandbox.rooms_event_hub import WEBHOOK_PATH as ROOMS_WEBHOOK_PATH
from infra.local.sandbox.rooms_event_hub import create_app as create_rooms_event_hub
from infra.local.sandbox.rooms_event_hub import seed_rooms_demo
from infra.local.sandbox.website_receiver import create_app as create_website_receiver


@dataclass
class SandboxContext:
    # website id -> webhook signing secret; the demo data fills it in after the receiver is up
    website_secrets: dict[str, str] = field(default_factory=dict)
    gateway_url: str = ""  # the hub's API, for sandboxes that call it (Beds24's webhooks)


@dataclass(frozen=True)
class Sandbox:
    name: str
    description: str
    port_env: str
    default_port: int
    create_app: Callable[[SandboxContext], Any]
    # Called with the sandbox's base URL and the context after the demo websites are registered
    seed: Callable[[str, SandboxContext], Any] | None = None


WEBSITE_RECEIVER = Sandbox(
    name="website-receiver",
    description=(
        "source websites' webhook endpoints (seed 002 sync back): /<website_id>/api/webhooks/onebooking; "
        "GET /_received, POST /_control"
    ),
    port_env="HUB_SANDBOX_PORT",
    default_port=4000,
    create_app=lambda context: create_website_receiver(context.website_secrets),
)

ROOMS_EVENT_HUB = Sandbox(
    name="rooms-event-hub",
    description=(
        f"Rooms Event Hub (door pincodes for passes): {ROOMS_BASE_PATH}/{ROOMS_WEBHOOK_PATH}/<reservationId>; "
        "demo-org's Rooms integration points here"
    ),
    port_env="HUB_ROOMS_PORT",
    default_port=4100,
    create_app=lambda context: create_rooms_event_hub(),
    seed=lambda url, _: seed_rooms_demo(url),  # registers demo-org's Rooms integration with this sandbox's URL
)

BEDS24 = Sandbox(
    name="beds24",
    description=(
        f"Beds24 API v2 (/v2/authentication/token, /v2/bookings, /v2/properties); demo-org's {DEMO_PROPERTY} "
        "(propertyId 12345) pulls from here and gets its webhooks"
    ),
    port_env="HUB_BEDS24_PORT",
    default_port=4200,
    create_app=lambda context: create_beds24(),
    seed=lambda url, context: seed_beds24_demo(url, context.gateway_url),
)

MAKE_RECEIVER = Sandbox(
    name="make-receiver",
    description=(
        f"Make.com-style webhook (seed 003): POST /{MAKE_DEMO_HOOK} (any path is a hook) with "
        f"{MAKE_API_KEY_HEADER}: {MAKE_DEMO_API_KEY} (LOCAL DEMO value) answers Accepted; "
        "GET /_received, POST /_control"
    ),
    port_env="HUB_MAKE_PORT",
    default_port=4300,
    create_app=lambda context: create_make_receiver(),
)

# PMS (issue 13): the Cloudbeds stand-in; its seed registers demo-org's hotels demo-hotel (mock) and
# cloudbeds-demo-hotel (this sandbox)
CLOUDBEDS = Sandbox(
    name="cloudbeds",
    description="Cloudbeds API v1.3 (/api/v1.3/getReservations...); cloudbeds-demo-hotel syncs from here",
    port_env="HUB_CLOUDBEDS_PORT",
    default_port=4400,
    create_app=lambda context: create_cloudbeds(),
    seed=lambda url, context: seed_pms_demo(url, context.gateway_url),
)

SANDBOXES: tuple[Sandbox, ...] = (WEBSITE_RECEIVER, ROOMS_EVENT_HUB, BEDS24, MAKE_RECEIVER, CLOUDBEDS)


def webhook_url(base_url: str, website_id: str) -> str:
    return f"{base_url}/{website_id}/api/webhooks/onebooking"
