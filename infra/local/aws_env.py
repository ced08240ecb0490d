"""The process environment the functions see locally: what Lambda would set, pointed at moto.

The hub code never special-cases local: botocore reads AWS_ENDPOINT_URL natively, so every client the
functions create talks to the embedded moto server. Credentials are fake and clearly marked as such.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from infra import topology
from infra.local.sandbox.send_stripe_event import LOCAL_DEMO_SECRET as LOCAL_DEMO_STRIPE_SECRET

ACCOUNT_ID = "123456789012"  # moto's default account: the ARNs it hands out use it
DEFAULT_REGION = "us-east-1"
# Fake, local-only credentials: moto accepts anything, and real AWS would reject these.
LOCAL_ACCESS_KEY_ID = "local-fake-access-key-id"
LOCAL_SECRET_ACCESS_KEY = "local-fake-secret-access-key-not-a-secret"  # noqa: S105

# LOCAL DEMO values of the topology's secrets (meaningless anywhere else), used unless the secret's
# local_env_var is set: the demo sender (infra.local.sandbox.send_stripe_event) signs with the same one.
LOCAL_DEMO_SECRETS: dict[str, str] = {
    topology.STRIPE_WEBHOOK_SECRET.name: LOCAL_DEMO_STRIPE_SECRET,
    # seed 003's trusted producer: `Authorization: Bearer local-demo-producer-secret` under `make run`
    "DeliveryProducerSecret": "local-demo-producer-secret",
}

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


def local_secret_values(env: Mapping[str, str]) -> dict[str, str]:
    """Each topology secret's value by its local env var: the developer's, or the local demo value."""
    missing = [s.name for s in topology.SECRETS if s.name not in LOCAL_DEMO_SECRETS]
    if missing:
        raise ValueError(f"no local demo value for secret(s) {missing}: add them to LOCAL_DEMO_SECRETS")
    return {s.local_env_var: env.get(s.local_env_var) or LOCAL_DEMO_SECRETS[s.name] for s in topology.SECRETS}


def function_environment(
    resource_env: Mapping[str, str], stage: str = "local", secrets: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Everything the CDK renderer would give the functions, plus the local-only switches.

    Secrets are passed by value (`secrets`, from local_secret_values), where AWS passes their ARN.
    """
    env = {
        "HUB_STAGE": stage,
        # The demo websites' webhooks point at the sandbox receiver on http://127.0.0.1
        "HUB_ALLOW_INSECURE_WEBHOOKS": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
        "POWERTOOLS_SERVICE_NAME": "bookinghub",
        "POWERTOOLS_METRICS_NAMESPACE": "BookingHubLocal",
        **dict(topology.RUNTIME_ENVIRONMENT),
        **resource_env,
        **(secrets or {}),
    }
    # Every function's own variables (topology Function.environment), as the CDK renderer sets them. The
    # functions share one interpreter here, so theirs are applied process-wide and must not disagree.
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
        # A secret's ARN would win over its local value (and name a secret moto does not have).
        secret_arns = {s.env_var for s in topology.SECRETS}
        names = [n for n in os.environ if n in _UNSAFE or n in secret_arns or n.startswith("AWS_ENDPOINT_URL_")]
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
