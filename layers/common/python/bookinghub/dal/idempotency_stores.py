"""One Powertools idempotency store per use, on the Idempotency table.

A Powertools persistence layer takes the configuration (key JMESPath, expiry, key prefix) of the first
idempotent function that uses it and ignores any later one (`configure` returns early once configured).
Functions share one interpreter under `make run` and in tests, so each idempotent use gets its own
store instance here, cached per (use, table, client) like dal/idempotency.py's.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from bookinghub.dal.aws import client
from bookinghub.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer


def persistence_layer_for(use: str) -> DynamoDBPersistenceLayer:
    return _layer(use, get_settings().idempotency_table, client("dynamodb"))


@cache
def _layer(use: str, table_name: str, dynamodb: Any) -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=dynamodb)
