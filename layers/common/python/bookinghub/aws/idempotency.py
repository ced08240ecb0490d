"""Powertools idempotency stores on the Idempotency table, one per idempotent use, created on first use.

`DynamoDBPersistenceLayer` imports boto3 and builds a client in its constructor, so it must not be built
at import time. A persistence layer also takes the configuration (key JMESPath, expiry, key prefix) of the
first idempotent function that uses it and ignores any later one (`configure` returns early once
configured); functions share one interpreter under `make run` and in tests, so each use gets its own
store. Stores are cached per (use, table, client): tests that reset the cached clients get a store bound
to the new ones, and a warm Lambda reuses one store.

`idempotent` wraps a function with Powertools' `idempotent_function` on first use, over that store: the
wrapped function keeps its own name (Powertools keys records by module and function name plus
`key_prefix`), so renaming it changes its keys.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from bookinghub.aws.clients import client
from bookinghub.core.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig


def persistence_layer_for(use: str) -> DynamoDBPersistenceLayer:
    return _layer(use, get_settings().idempotency_table, client("dynamodb"))


@cache
def _layer(use: str, table_name: str, dynamodb: Any) -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    # Default attribute names ("id", "expiration") match the topology's Idempotency table and its TTL
    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=dynamodb)


def idempotent(
    function: Callable[..., dict[str, Any]], *, data_keyword_argument: str, key_prefix: str, config: IdempotencyConfig
) -> Callable[..., dict[str, Any]]:
    """`function` guarded by an idempotency record in the store of `key_prefix`, built once per store."""
    return _wrapped(function, data_keyword_argument, key_prefix, config, persistence_layer_for(key_prefix))


@cache
def _wrapped(
    function: Callable[..., dict[str, Any]],
    data_keyword_argument: str,
    key_prefix: str,
    config: IdempotencyConfig,
    store: DynamoDBPersistenceLayer,
) -> Callable[..., dict[str, Any]]:
    from aws_lambda_powertools.utilities.idempotency import idempotent_function

    wrapped: Callable[..., dict[str, Any]] = idempotent_function(
        function,
        data_keyword_argument=data_keyword_argument,
        persistence_store=store,
        config=config,
        key_prefix=key_prefix,
    )
    return wrapped
