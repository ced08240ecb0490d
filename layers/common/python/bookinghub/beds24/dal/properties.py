"""Beds24 properties (the seed's beds24_config), their aliases, sync leases and cursors (Bookings table).

A property is an integration of its organisation (`PK=ORG#{org}`, `SK=INTEGRATION#beds24#{property}`,
listed by type on GSI1). Two alias items let a webhook find it: by Beds24's property id (signed
webhooks name it in the body) and by the hash of its webhook token (`?token=` or a header).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bookinghub.aws import keys
from bookinghub.aws.clients import client
from bookinghub.aws.codec import from_item, to_attr, to_item
from bookinghub.beds24.models.entities import BEDS24, Beds24Credentials, Beds24Property
from bookinghub.core.recent import Recent
from bookinghub.core.settings import get_settings

_STORAGE = ("PK", "SK", "entity", "GSI1PK", "GSI1SK")


class PropertyTaken(Exception):
    """Another property already uses this id, Beds24 property id or webhook token."""


class LeaseHeld(Exception):
    """Another sync run of the property is in progress."""


def _key(organisation_id: str, property_id: str) -> dict[str, Any]:
    return {"PK": keys.org_pk(organisation_id), "SK": keys.integration_sk(BEDS24, property_id)}


def _item(prop: Beds24Property) -> dict[str, Any]:
    return {
        **_key(prop.organisation_id, prop.id),
        "entity": "integration",
        "integration_type": BEDS24,
        "GSI1PK": keys.integration_type_pk(BEDS24),
        "GSI1SK": f"ORG#{prop.organisation_id}#{prop.id}",
        **prop.model_dump(),
    }


@dataclass(frozen=True)
class WebhookTarget:
    """What a webhook needs of its property, as the property's aliases carry it (every edit rewrites them
    in the same transaction), so authenticating a webhook reads one alias and never the property."""

    organisation_id: str
    property_id: str
    beds24_property_id: int
    status: str
    webhook_token_hash: str | None
    webhook_secret_encrypted: str | None

    @classmethod
    def of(cls, prop: Beds24Property) -> WebhookTarget:
        return cls(
            prop.organisation_id,
            prop.id,
            prop.beds24_property_id,
            prop.status,
            prop.credentials.webhook_token_hash,
            prop.credentials.webhook_secret_encrypted,
        )


def _alias(pk: str, prop: Beds24Property) -> dict[str, Any]:
    target = WebhookTarget.of(prop)
    return {
        "PK": pk,
        "SK": keys.ALIAS_SK,
        "organisation_id": prop.organisation_id,
        "property_id": prop.id,
        "beds24_property_id": target.beds24_property_id,
        "status": target.status,
        "webhook_token_hash": target.webhook_token_hash,
        "webhook_secret_encrypted": target.webhook_secret_encrypted,
    }


def create_property(prop: Beds24Property) -> None:
    """The property and its aliases in one transaction: ids and tokens stay unique."""
    table = get_settings().bookings_table
    puts = [_item(prop), _alias(keys.beds24_property_alias_pk(prop.beds24_property_id), prop)]
    if prop.credentials.webhook_token_hash:
        puts.append(_alias(keys.beds24_token_alias_pk(prop.credentials.webhook_token_hash), prop))
    try:
        client("dynamodb").transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": to_item(item), "ConditionExpression": "attribute_not_exists(PK)"}}
                for item in puts
            ]
        )
    except client("dynamodb").exceptions.TransactionCanceledException as error:
        raise PropertyTaken(str(error)) from None


# What an operator may change; sync state (tokens, lease, cursors) is written only by the sync itself
EDITABLE = (
    "name",
    "beds24_property_id",
    "base_url",
    "room_mapping",
    "time_zone",
    "default_country",
    "pull_sync_enabled",
    "reread_on_webhook",
    "full_sync_hour",
    "sync_days_back",
    "sync_days_ahead",
    "status",
    "updated_at",
)
EDITABLE_CREDENTIALS = ("refresh_token_encrypted", "webhook_secret_encrypted", "webhook_token_hash")


def update_property(previous: Beds24Property, updated: Beds24Property, *, forget_access_token: bool = False) -> None:
    """Save an operator's edit (only the editable attributes), moving the aliases if the Beds24 id or
    the webhook token changed, in one transaction. `forget_access_token`: the stored access token was
    minted from another refresh token or for another host, and must not be used again."""
    table = get_settings().bookings_table
    values: dict[str, Any] = {}
    sets = []
    for position, name in enumerate(EDITABLE):
        sets.append(f"#f{position} = :f{position}")
        values[f":f{position}"] = to_attr(getattr(updated, name))
    names = {f"#f{position}": name for position, name in enumerate(EDITABLE)}
    for position, name in enumerate(EDITABLE_CREDENTIALS):
        sets.append(f"credentials.#c{position} = :c{position}")
        names[f"#c{position}"] = name
        values[f":c{position}"] = to_attr(getattr(updated.credentials, name))
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": table,
                "Key": to_item(_key(updated.organisation_id, updated.id)),
                "UpdateExpression": "SET "
                + ", ".join(sets)
                + (
                    " REMOVE credentials.access_token_encrypted, credentials.access_token_expires_at"
                    if forget_access_token
                    else ""
                ),
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }
    ]
    moves = (
        (
            keys.beds24_property_alias_pk(previous.beds24_property_id),
            keys.beds24_property_alias_pk(updated.beds24_property_id),
        ),
        (
            keys.beds24_token_alias_pk(previous.credentials.webhook_token_hash or ""),
            keys.beds24_token_alias_pk(updated.credentials.webhook_token_hash or ""),
        ),
    )
    owner = {":org": to_attr(updated.organisation_id), ":prop": to_attr(updated.id)}
    for old_pk, new_pk in moves:
        if old_pk != new_pk and not old_pk.endswith("#"):
            actions.append({"Delete": {"TableName": table, "Key": to_item({"PK": old_pk, "SK": keys.ALIAS_SK})}})
        if not new_pk.endswith("#"):
            # Rewritten on every edit (status, secret): the alias is what a webhook authenticates against
            put: dict[str, Any] = {"TableName": table, "Item": to_item(_alias(new_pk, updated))}
            if old_pk == new_pk:  # ours already
                put["ConditionExpression"] = "organisation_id = :org AND property_id = :prop"
                put["ExpressionAttributeValues"] = owner
            else:
                put["ConditionExpression"] = "attribute_not_exists(PK)"
            actions.append({"Put": put})
    try:
        client("dynamodb").transact_write_items(TransactItems=actions)
    except client("dynamodb").exceptions.TransactionCanceledException as error:
        raise PropertyTaken(str(error)) from None
    finally:
        _RECENT.forget((updated.organisation_id, updated.id))
        for old_pk, new_pk in moves:  # this environment's own edit is seen at once by its webhooks
            _RECENT_TARGETS.forget(old_pk)
            _RECENT_TARGETS.forget(new_pk)


def get_property(organisation_id: str, property_id: str, *, consistent: bool = True) -> Beds24Property | None:
    """`consistent=False` (half the read cost) where a second, consistent read follows before anything is
    written on its strength."""
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table,
        Key=to_item(_key(organisation_id, property_id)),
        ConsistentRead=consistent,
    )
    return _property(from_item(response["Item"])) if "Item" in response else None


# This execution environment's recent reads of its properties, for a caller that reads the property again,
# consistently, before anything is written on its strength (the Beds24 event consumer: settings and
# credentials for the Beds24 call, then the consistent read before writing). An operator's edit reaches a
# warm environment within RECENT_PROPERTY_SECONDS; this environment's own changes at once (forgotten).
RECENT_PROPERTY_SECONDS = 60
_RECENT: Recent[tuple[str, str], Beds24Property | None] = Recent(max_entries=256)


def recent_property(organisation_id: str, property_id: str) -> Beds24Property | None:
    return _RECENT.get(
        (organisation_id, property_id),
        lambda: get_property(organisation_id, property_id, consistent=False),
        max_age_seconds=RECENT_PROPERTY_SECONDS,
        keep=lambda prop: prop is not None,  # a property registered a moment later is found at once
    )


def forget_recent_properties() -> None:
    _RECENT.forget()
    _RECENT_TARGETS.forget()


# This execution environment's recent webhook targets (the alias a token or a Beds24 id names), found ones
# only: a property's webhooks arrive in bursts (a booking's changes, a group booking), and each would read
# the same alias. An operator's edit (secret rotated, property deactivated) reaches a warm webhook
# environment within RECENT_TARGET_SECONDS, as the consumer's settings do; a new property is found at once.
RECENT_TARGET_SECONDS = 60
_RECENT_TARGETS: Recent[str, WebhookTarget | None] = Recent(max_entries=256)


def target_by_token_hash(token_hash: str) -> WebhookTarget | None:
    """The property whose webhook token hashes to this (a webhook that presents a token)."""
    return _recent_target(keys.beds24_token_alias_pk(token_hash))


def target_by_beds24_id(beds24_property_id: int) -> WebhookTarget | None:
    """The property configured for this Beds24 property id (a signed webhook names it in its body)."""
    return _recent_target(keys.beds24_property_alias_pk(beds24_property_id))


def _recent_target(alias_pk: str) -> WebhookTarget | None:
    return _RECENT_TARGETS.get(
        alias_pk,
        lambda: _target_by_alias(alias_pk),
        max_age_seconds=RECENT_TARGET_SECONDS,
        keep=lambda target: target is not None,
    )


def _target_by_alias(alias_pk: str) -> WebhookTarget | None:
    response = client("dynamodb").get_item(
        TableName=get_settings().bookings_table, Key=to_item({"PK": alias_pk, "SK": keys.ALIAS_SK})
    )
    if "Item" not in response:
        return None
    alias = from_item(response["Item"])
    if "status" not in alias:  # an alias written before aliases carried what a webhook needs
        prop = get_property(str(alias["organisation_id"]), str(alias["property_id"]))
        return WebhookTarget.of(prop) if prop else None
    return WebhookTarget(
        str(alias["organisation_id"]),
        str(alias["property_id"]),
        int(alias["beds24_property_id"]),
        str(alias["status"]),
        alias.get("webhook_token_hash"),
        alias.get("webhook_secret_encrypted"),
    )


def all_properties() -> list[Beds24Property]:
    # The registry's listings (and its models) only for these two: a webhook or an event reads one
    # property by its keys (~6 ms of the webhook's init)
    from bookinghub.registry.dal import integrations

    return [_property(item) for item in integrations.items_of_type(BEDS24)]


def organisation_properties(organisation_id: str) -> list[Beds24Property]:
    from bookinghub.registry.dal import integrations

    return [_property(item) for item in integrations.organisation_items(organisation_id, BEDS24)]


def _property(item: dict[str, Any]) -> Beds24Property:
    return Beds24Property.model_validate({k: v for k, v in item.items() if k not in (*_STORAGE, "integration_type")})


# --- Sync state: tokens, lease, cursors (single attributes, so they never clobber an operator's edit) ----


def _update(prop: Beds24Property, expression: str, values: dict[str, Any], condition: str | None = None) -> None:
    request: dict[str, Any] = {
        "TableName": get_settings().bookings_table,
        "Key": to_item(_key(prop.organisation_id, prop.id)),
        "UpdateExpression": expression,
        "ExpressionAttributeValues": {k: to_attr(v) for k, v in values.items()},
    }
    request["ConditionExpression"] = f"attribute_exists(PK) AND ({condition})" if condition else "attribute_exists(PK)"
    _RECENT.forget((prop.organisation_id, prop.id))  # its token, lease or cursor is changing: read it again
    client("dynamodb").update_item(**request)


def save_access_token(prop: Beds24Property, encrypted: str, expires_at: float) -> None:
    _update(
        prop,
        "SET credentials.access_token_encrypted = :token, credentials.access_token_expires_at = :expires",
        {":token": encrypted, ":expires": expires_at},
    )


def acquire_lease(prop: Beds24Property, run_id: str, now: float, seconds: int) -> None:
    """Take the property's sync lease for `run_id`, unless another live run holds it."""
    try:
        _update(
            prop,
            "SET active_run_id = :run, active_run_expires_at = :until",
            {":run": run_id, ":until": now + seconds, ":now": now},
            "attribute_not_exists(active_run_id) OR active_run_id = :run OR active_run_expires_at < :now",
        )
    except client("dynamodb").exceptions.ConditionalCheckFailedException:
        raise LeaseHeld() from None


def release_lease(
    prop: Beds24Property, run_id: str, *, cursor: str | None = None, full_date: str | None = None
) -> None:
    """Give the lease back; a successful run also moves the cursor (incremental) or full-sync date."""
    sets = []
    values: dict[str, Any] = {":run": run_id}
    if cursor is not None:
        sets.append("last_successful_cursor = :cursor")
        values[":cursor"] = cursor
    if full_date is not None:
        sets.append("last_full_sync_date = :day")
        values[":day"] = full_date
    # REMOVE, not SET to null: the next acquire tests attribute_not_exists
    expression = ("SET " + ", ".join(sets) + " " if sets else "") + "REMOVE active_run_id, active_run_expires_at"
    try:
        _update(prop, expression, values, "active_run_id = :run")
    except client("dynamodb").exceptions.ConditionalCheckFailedException:
        pass  # the lease expired and another run took it: that run owns the state now


def credentials_of(prop: Beds24Property) -> Beds24Credentials:
    fresh = get_property(prop.organisation_id, prop.id)
    return (fresh or prop).credentials
