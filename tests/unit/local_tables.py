"""The PK/SK table the local runtime's moto adapters are tested on (infra/local: moto_compact,
moto_retention, housekeeping), created on in-process moto."""

from __future__ import annotations

from typing import Any


def create_pk_sk_table(client: Any, name: str, **options: Any) -> None:
    """An on-demand table keyed like the hub's (string PK and SK); `options` go to CreateTable as is."""
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": a, "KeyType": t} for a, t in (("PK", "HASH"), ("SK", "RANGE"))],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK")],
        **options,
    )
