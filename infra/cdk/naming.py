"""Logical ids, fixed by hand where replacing a resource would lose data or break references.

CDK derives logical ids from construct paths, so moving a construct (say, into a sub-construct when
this code is reorganised) would make CloudFormation create a new table and delete the old one. The
stateful resources therefore carry ids taken from the topology's names, which only change on purpose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the id functions are pure: the CLI reads a deployed stack's ids without the CDK installed
    from constructs import IConstruct


def camel(name: str) -> str:
    """sync_bookings -> SyncBookings; Bookings stays Bookings."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def pin_logical_id(construct: IConstruct, logical_id: str) -> None:
    from aws_cdk import CfnResource

    default_child = construct.node.default_child
    if not isinstance(default_child, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to name")
    default_child.override_logical_id(logical_id)


def table_id(name: str) -> str:
    return f"{name}Table"


def queue_id(name: str) -> str:
    return f"{name}Queue"


def dlq_id(name: str) -> str:
    return f"{name}DLQ"


def function_id(name: str) -> str:
    return f"{camel(name)}Function"


def role_id(name: str) -> str:
    return f"{camel(name)}Role"


def secret_id(name: str) -> str:
    """StripeWebhookSecret stays StripeWebhookSecret; Foo -> FooSecret."""
    return name if name.endswith("Secret") else f"{name}Secret"


def stream_failures_id(name: str) -> str:
    return f"{camel(name)}StreamFailures"
