"""Lazily created, cached AWS clients and DynamoDB item conversion.

Nothing here runs at import time: boto3 is imported on first use, so a handler that never touches AWS
(or has not yet) pays nothing for it. Endpoints come from botocore's own configuration, so the local
runtime only sets AWS_ENDPOINT_URL and the code never special-cases it.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Short timeouts and standard retries: a Lambda has a hard deadline; better to fail and let the
    # queue retry than to hang.
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
    return boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]


@cache
def _serializer() -> TypeSerializer:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


@cache
def _deserializer() -> TypeDeserializer:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def _to_dynamo_value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_to_dynamo_value(v) for v in value]
    return value


def _from_dynamo_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo_value(v) for v in value]
    return value


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """Python dict -> DynamoDB attribute map; None values are dropped (absent attribute)."""
    serialize = _serializer().serialize
    return {k: serialize(_to_dynamo_value(v)) for k, v in data.items() if v is not None}


def to_attr(value: Any) -> dict[str, Any]:
    return _serializer().serialize(_to_dynamo_value(value))  # type: ignore[no-any-return]


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    deserialize = _deserializer().deserialize
    return {k: _from_dynamo_value(deserialize(v)) for k, v in item.items()}
