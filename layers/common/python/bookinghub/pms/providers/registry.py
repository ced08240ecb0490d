"""Provider registry: adding a provider is one module and one line here.

Modules are imported on first use, so a hotel on the mock provider never pays for the Beds24 client.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from bookinghub.pms.errors import UnknownProvider
from bookinghub.pms.providers.base import HotelContext, PMSProvider

PROVIDERS: dict[str, str] = {
    "mock": "bookinghub.pms.providers.mock:MockProvider",
    "cloudbeds": "bookinghub.pms.providers.cloudbeds:CloudbedsProvider",
    "beds24": "bookinghub.pms.providers.beds24:Beds24Provider",
}


def known(key: str) -> bool:
    return key in PROVIDERS


def require_known(key: str) -> str:
    if key not in PROVIDERS:
        raise UnknownProvider(f"Unknown PMS provider: {key[:40]}")
    return key


def provider_factory(key: str) -> Callable[[HotelContext], PMSProvider]:
    module_name, _, attribute = PROVIDERS[require_known(key)].partition(":")
    factory: Callable[[HotelContext], PMSProvider] = getattr(importlib.import_module(module_name), attribute)
    return factory


def get_provider(hotel: HotelContext) -> PMSProvider:
    return provider_factory(hotel.provider)(hotel)
