"""Demo data for `make run` (local only): organisation demo-org and its three source websites.

Every key and secret here is a LOCAL DEMO VALUE, meaningless anywhere else; each can be overridden
by env: <WEBSITE>_API_KEY and <WEBSITE>_WEBHOOK_SECRET, e.g. HANUMAN_WORLD_API_KEY.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEMO_ORG = "demo-org"


@dataclass(frozen=True)
class DemoWebsite:
    id: str
    name: str
    domain: str
    default_api_key: str

    @property
    def env_prefix(self) -> str:
        return self.id.upper().replace("-", "_")

    def api_key(self, env: Mapping[str, str]) -> str:
        return env.get(f"{self.env_prefix}_API_KEY") or self.default_api_key

    def webhook_secret(self, env: Mapping[str, str]) -> str:
        return env.get(f"{self.env_prefix}_WEBHOOK_SECRET") or f"whsec_local_demo_{self.id}"


DEMO_WEBSITES: tuple[DemoWebsite, ...] = (
    DemoWebsite("test-website", "Test Website", "test.example.com", "test_sk_xxxxx"),  # the seed's test key
    DemoWebsite("hanuman-world", "Hanuman World Phuket", "hanumanworld.com", "hw_sk_live_xxxxx"),
    DemoWebsite("flying-hanuman", "Flying Hanuman", "flyinghanuman.com", "fh_sk_live_xxxxx"),
)


@dataclass(frozen=True)
class SeededWebsite:
    id: str
    name: str
    api_key: str
    webhook_secret: str
    webhook_url: str | None


def seed(webhook_url_for: Mapping[str, str], env: Mapping[str, str] | None = None) -> list[SeededWebsite]:
    """Register the demo websites (the environment must already point the hub at moto)."""
    from bookinghub.websites.logic.registry import register_website

    env = os.environ if env is None else env
    seeded = []
    for site in DEMO_WEBSITES:
        registered = register_website(
            website_id=site.id,
            organisation_id=DEMO_ORG,
            name=site.name,
            domain=site.domain,
            webhook_url=webhook_url_for.get(site.id),
            api_key=site.api_key(env),
            webhook_secret=site.webhook_secret(env),
        )
        seeded.append(
            SeededWebsite(
                id=site.id,
                name=site.name,
                api_key=registered.api_key,
                webhook_secret=registered.webhook_secret,
                webhook_url=registered.website.webhook_url,
            )
        )
    return seeded
