"""Secrets Manager reads through Powertools parameters (cached in memory for `max_age` seconds)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from bookinghub.aws.clients import client

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider


def read_secret(secret_id: str, *, max_age: int) -> str:
    value = _provider(client("secretsmanager")).get(secret_id, max_age=max_age)
    if not isinstance(value, str):
        raise TypeError("expected a SecretString")
    return value


@cache
def _provider(secretsmanager: Any) -> SecretsProvider:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=secretsmanager)
