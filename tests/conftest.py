"""Fixtures shared by every test layer."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"

# No test may reach real AWS: fake credentials and a fixed region before anything imports boto3.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "BookingHubTests")
os.environ.setdefault("POWERTOOLS_DEV", "false")


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/, e.g. load_event("sync_bookings/booking_created")."""
    return copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))


def reset_caches() -> None:
    """Settings and clients are cached per process; tests that change env must drop them."""
    from bookinghub.aws.clients import client
    from bookinghub.aws.kms import forget_decrypted
    from bookinghub.beds24.dal.properties import forget_recent_properties
    from bookinghub.core.settings import get_settings
    from bookinghub.websites.dal.websites import forget_recent_api_keys

    get_settings.cache_clear()
    client.cache_clear()
    forget_decrypted()
    forget_recent_api_keys()
    forget_recent_properties()
    _reset_delivery_caches()


def _reset_delivery_caches() -> None:
    from bookinghub.delivery.logic.endpoints import clear_cache
    from bookinghub.delivery.settings import get_delivery_settings

    get_delivery_settings.cache_clear()
    clear_cache()


@pytest.fixture
def event_loader() -> Any:
    return load_event


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    reset_caches()
    yield monkeypatch
    reset_caches()
