"""The process environment the functions see locally: what Lambda would set, pointed at moto.

The hub code never special-cases local: botocore reads AWS_ENDPOINT_URL natively, so every client the
functions create talks to the embedded moto server. Credentials are fake and clearly marked as such.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from infra import topology

ACCOUNT_ID = "123456789012"  # moto's default account: the ARNs it hands out use it
DEFAULT_REGION = "us-east-1"
# Fake, local-only credentials: moto accepts anything, and real AWS would reject these.
LOCAL_ACCESS_KEY_ID = "local-fake-access-key-id"
LOCAL_SECRET_ACCESS_KEY = "local-fake-secret-access-key-not-a-secret"  # noqa: S105

# Variables that could send a client somewhere other than moto, or with a real identity.
_UNSAFE = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")


def aws_environment(endpoint_url: str, region: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }


def function_environment(resource_env: Mapping[str, str], stage: str = "local") -> dict[str, str]:
    """Everything the CDK renderer would give the functions, plus the local-only switches."""
    env = {
        "HUB_STAGE": stage,
        # The demo websites' webhooks point at the sandbox receiver on http://127.0.0.1
        "HUB_ALLOW_INSECURE_WEBHOOKS": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
        "POWERTOOLS_SERVICE_NAME": "bookinghub",
        "POWERTOOLS_METRICS_NAMESPACE": "BookingHubLocal",
        **resource_env,
    }
    # Functions share one interpreter here, so their own variables must not disagree.
    for fn in topology.FUNCTIONS:
        for name, value in fn.environment:
            if env.get(name, value) != value:
                raise ValueError(f"{fn.name} sets {name}={value!r}, which another function sets differently")
            env[name] = value
    return env


class EnvPatch:
    """Apply variables to os.environ and put everything back on restore (the runtime runs in tests too)."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def apply(self, values: Mapping[str, str]) -> None:
        for name, value in values.items():
            self._remember(name)
            os.environ[name] = value

    def remove_unsafe(self) -> None:
        # A service-specific endpoint (AWS_ENDPOINT_URL_DYNAMODB...) would win over AWS_ENDPOINT_URL.
        names = [n for n in os.environ if n in _UNSAFE or n.startswith("AWS_ENDPOINT_URL_")]
        for name in names:
            self._remember(name)
            del os.environ[name]

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()

    def _remember(self, name: str) -> None:
        if name not in self._saved:
            self._saved[name] = os.environ.get(name)
