"""Fixtures of the Beds24 integration tests (issue 5): moto (a cheaper `aws`), the Beds24 sandbox on a
loopback werkzeug server (`beds24`), and demo-org's property registered against it (`prop`). Helpers live in
sandbox.py (the sandbox), hub.py (webhooks, queues, what the hub stored), meter.py and operators.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from infra import topology
from infra.local.invoke import load_handler
from infra.local.resources import LocalResources
from infra.local.sandbox.beds24 import DEMO_PROPERTY_ID, DEMO_REFRESH_TOKEN, create_app
from tests.conftest import reset_caches
from tests.integration.beds24.hub import HOOK_URL, MAX_WAIT_SECONDS, PROPERTY, ROOM_MAPPING, SECRET
from tests.integration.beds24.sandbox import CapturingSender, Clock, Sandbox
from tests.integration.conftest import DEMO_ORG

_session: list[Any] = []  # one boto3 session for every test here: botocore parses its service models once


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalResources]:
    """tests/integration's `aws` (in-process moto with the topology's tables, queues and key), without its
    per-test cost of new boto3 sessions: moto intercepts a client whenever a mock is active, so the hub's
    cached clients are kept (only its settings are re-read) and the resources are created through one
    session. The first test here starts from empty caches."""
    import boto3
    from moto import mock_aws

    from bookinghub.beds24.dal.properties import forget_recent_properties
    from bookinghub.core.settings import get_settings
    from infra.local.resources import create_resources

    if not _session:
        reset_caches()
        _session.append(boto3.Session(region_name="us-east-1"))
    with mock_aws():
        resources = create_resources(_session[0])
        for name, value in resources.env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        forget_recent_properties()  # a property of the same ids was another test's (another sandbox)
        yield resources
    get_settings.cache_clear()


@pytest.fixture
def beds24() -> Iterator[Sandbox]:
    """The sandbox: the demo property (12345, rooms 501-503), no bookings, a 1000-credit budget."""
    clock, sender = Clock(), CapturingSender()
    app = create_app(clock=clock, credit_limit=1000, seed_demo=False, sender=sender, webhook_url=HOOK_URL)
    app.webhooks.retry_delay = 0
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Sandbox(app=app, base_url=f"http://127.0.0.1:{server.port}", clock=clock, sender=sender)
    finally:
        app.stop()
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def prop(aws: LocalResources, beds24: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Any:
    """demo-org's property `beach-hotel` = Beds24 property 12345 on the sandbox, webhook secret SECRET."""
    from bookinghub.beds24.logic.properties import register_property
    from bookinghub.core.settings import get_settings

    monkeypatch.setenv("HUB_ALLOW_INSECURE_WEBHOOKS", "true")  # the sandbox is plain http on loopback
    monkeypatch.setenv("HUB_BEDS24_MAX_WAIT_SECONDS", str(MAX_WAIT_SECONDS))
    monkeypatch.setenv("HUB_BEDS24_TIMEOUT_SECONDS", "3")
    get_settings.cache_clear()
    for fn in topology.BEDS24_FUNCTIONS:  # imported up front (once): a test's timing is its own
        load_handler(fn)
    return register_property(
        organisation_id=DEMO_ORG,
        property_id=PROPERTY,
        name="Beach Hotel",
        beds24_property_id=DEMO_PROPERTY_ID,
        refresh_token=DEMO_REFRESH_TOKEN,
        webhook_secret=SECRET,
        base_url=beds24.api,
        room_mapping=ROOM_MAPPING,
        time_zone="Asia/Bangkok",
        default_country="TH",
    ).property
