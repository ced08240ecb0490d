"""docs/beds24.md's property registration runs as written against `make run` (issue 10): a valid body, ids
other than the demo property's (it collided with them once), and no scheduled pulls from the real Beds24
with its placeholder refresh token (the local stack would call beds24.com every 5 minutes, and fail)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bookinghub.beds24.models.admin import PropertyCreate
from infra.local.sandbox.beds24_data import DEMO_PROPERTY_ID
from infra.local.sandbox.beds24_demo import DEMO_PROPERTY

DOC = Path(__file__).resolve().parents[2] / "docs" / "beds24.md"


def _example_body() -> dict[str, Any]:
    """The JSON body of the doc's first `POST .../beds24/properties` curl."""
    text = DOC.read_text()
    found = re.search(r"beds24/properties \\\n.*?-d '(\{.*?\})'", text, re.DOTALL)
    assert found, "docs/beds24.md has no property registration example"
    body: dict[str, Any] = json.loads(found[1])
    return body


def test_the_property_example_is_a_valid_body() -> None:
    PropertyCreate.model_validate(_example_body())


def test_the_property_example_does_not_collide_with_the_demo_property() -> None:
    body = _example_body()
    assert body["property_id"] != DEMO_PROPERTY
    assert body["beds24_property_id"] != DEMO_PROPERTY_ID


def test_the_property_example_makes_no_pulls_with_its_placeholder_token() -> None:
    body = _example_body()
    assert body["refresh_token"].startswith("<")  # a placeholder, not a token
    assert PropertyCreate.model_validate(body).pull_sync_enabled is False
