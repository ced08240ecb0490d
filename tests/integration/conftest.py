"""Integration tests run against in-process moto with the topology's real tables, queues and key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.resources import LocalResources, create_resources
from tests.conftest import reset_caches

DEMO_ORG = "demo-org"
TEST_KEY = "test_sk_xxxxx"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalResources]:
    with mock_aws():
        resources = create_resources(boto3.Session(region_name="us-east-1"))
        for name, value in resources.env.items():
            monkeypatch.setenv(name, value)
        reset_caches()
        yield resources
    reset_caches()


@pytest.fixture
def test_website(aws: LocalResources) -> Any:
    from bookinghub.services.websites import register_website

    return register_website(
        website_id="test-website",
        organisation_id=DEMO_ORG,
        name="Test Website",
        domain="test.example.com",
        api_key=TEST_KEY,
        webhook_secret="whsec_local_demo_only",
    )


def table_items(table_name: str) -> list[dict[str, Any]]:
    """Every item of a table (tests only: small data)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    return client.scan(TableName=table_name)["Items"]
