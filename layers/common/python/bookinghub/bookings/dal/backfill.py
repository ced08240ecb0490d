"""Backfill of the bookings' index keys after their layout changed (`bookinghub backfill listing-keys`).

A one-off operator job, so the one Scan of the hub: every booking item (PK=BOOKING#, SK=BOOKING) gets
the keys the current writers lay out (`index_attributes`: `list_key`, `date_key`, `search_name`, an
`email_key` only where the email has capitals) and loses a copy it no longer needs. Each update is
conditional on the booking's version as read, so a booking written meanwhile (by a writer that already
lays the keys out) is left as that writer left it. Run it again at any time: a booking already laid out
is not written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr
from bookinghub.bookings.dal.bookings import index_attributes, index_removals
from bookinghub.core.settings import get_settings


@dataclass
class BackfillReport:
    scanned: int = 0  # booking items read
    updated: int = 0  # written (or, in a dry run, to be written)
    current: int = 0  # already laid out
    changed_meanwhile: int = 0  # written by someone else between the read and the update: left alone


def backfill_listing_keys(
    *, dry_run: bool = False, keep_copies: bool = False, progress: Callable[[BackfillReport], None] | None = None
) -> BackfillReport:
    """`keep_copies`: leave the `email_key` copies the new layout drops (while the previous code, whose
    email search reads them, still serves the listings: docs/admin-api.md, deploying)."""
    ddb = client("dynamodb")
    report = BackfillReport()
    pages = ddb.get_paginator("scan").paginate(
        TableName=get_settings().bookings_table,
        FilterExpression="SK = :sk AND begins_with(PK, :prefix)",
        ExpressionAttributeValues={":sk": to_attr(keys.BOOKING_SK), ":prefix": to_attr("BOOKING#")},
    )
    for page in pages:
        for raw in page["Items"]:
            report.scanned += 1
            item = from_item(raw)
            sets, removes = _changes(item)
            if keep_copies:
                removes = []
            if not sets and not removes:
                report.current += 1
                continue
            if dry_run or _update(item, sets, removes):
                report.updated += 1
            else:
                report.changed_meanwhile += 1
        if progress is not None:
            progress(report)
    return report


def _changes(item: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    booking_id = str(item["PK"]).removeprefix("BOOKING#")
    wanted = index_attributes(booking_id, item)
    sets = {name: value for name, value in wanted.items() if item.get(name) != value}
    removes = [name for name in index_removals(item) if name in item]
    return sets, removes


def _update(item: dict[str, Any], sets: dict[str, Any], removes: list[str]) -> bool:
    """Lay the keys out if the booking is still at the version read; False if it is not."""
    names = {f"#s{n}": name for n, name in enumerate(sets)} | {f"#r{n}": name for n, name in enumerate(removes)}
    values = {f":s{n}": to_attr(value) for n, value in enumerate(sets.values())}
    expression = "SET " + ", ".join(f"#s{n} = :s{n}" for n in range(len(sets))) if sets else ""
    if removes:
        expression += " REMOVE " + ", ".join(f"#r{n}" for n in range(len(removes)))
    names["#version"] = "version"
    values[":version"] = to_attr(item.get("version", 0))
    ddb = client("dynamodb")
    try:
        ddb.update_item(
            TableName=get_settings().bookings_table,
            Key={"PK": to_attr(item["PK"]), "SK": to_attr(item["SK"])},
            UpdateExpression=expression.strip(),
            ConditionExpression="#version = :version",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True
