"""Hotels' sync schedules in EventBridge Scheduler: one schedule per hotel (named by its slug) in the
stack's schedule group, targeting the PMSSync queue as the stack's scheduler role.

The only module that calls the `scheduler` API. Every failure surfaces as ScheduleUnavailable, so the
caller can put the configuration back (logic/hotels.py) and answer a clear 503.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bookinghub.aws.clients import client
from bookinghub.core.observability import logger
from bookinghub.core.settings import get_settings
from bookinghub.pms.errors import ScheduleUnavailable

# A missed fire is retried for an hour at most: the hotel's next one is never far off
RETRY_POLICY = {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10}


def _group() -> str:
    group = get_settings().pms_schedule_group_name
    if not group:
        raise ScheduleUnavailable("No schedule group is configured (PMS_SCHEDULE_GROUP_NAME)")
    return group


def _failed(action: str, slug: str, error: Exception) -> ScheduleUnavailable:
    code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else type(error).__name__
    logger.warning("pms schedule call failed", extra={"action": action, "hotel_slug": slug, "error": code})
    return ScheduleUnavailable()


def put(slug: str, expression: str, payload: str, description: str) -> None:
    """Create the hotel's schedule, or update it if it exists (idempotent: a retry or reconcile repeats it)."""
    settings = get_settings()
    spec: dict[str, Any] = {
        "Name": slug,
        "GroupName": _group(),
        "Description": description[:512],
        "ScheduleExpression": expression,
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED",
        "Target": {
            "Arn": settings.pms_sync_queue_arn,
            "RoleArn": settings.pms_schedule_role_arn,
            "Input": payload,
            "RetryPolicy": RETRY_POLICY,
        },
    }
    if settings.pms_sync_dlq_arn:  # a fire Scheduler gives up on is kept there, not dropped
        spec["Target"]["DeadLetterConfig"] = {"Arn": settings.pms_sync_dlq_arn}
    scheduler = client("scheduler")
    try:
        try:
            scheduler.create_schedule(**spec)
        except scheduler.exceptions.ConflictException:  # it exists: same call, as an update
            scheduler.update_schedule(**spec)
    except (ClientError, BotoCoreError) as error:
        raise _failed("put", slug, error) from error


def delete(slug: str) -> None:
    """Remove the hotel's schedule; one that is already gone is fine."""
    scheduler = client("scheduler")
    try:
        scheduler.delete_schedule(Name=slug, GroupName=_group())
    except scheduler.exceptions.ResourceNotFoundException:
        return
    except (ClientError, BotoCoreError) as error:
        raise _failed("delete", slug, error) from error


def get(slug: str) -> dict[str, Any] | None:
    scheduler = client("scheduler")
    try:
        return dict(scheduler.get_schedule(Name=slug, GroupName=_group()))
    except scheduler.exceptions.ResourceNotFoundException:
        return None
    except (ClientError, BotoCoreError) as error:
        raise _failed("get", slug, error) from error


def names() -> list[str]:
    """Every schedule in the group (the reconcile pass compares them with the configurations)."""
    try:
        pages = client("scheduler").get_paginator("list_schedules").paginate(GroupName=_group())
        return [item["Name"] for page in pages for item in page["Schedules"]]
    except (ClientError, BotoCoreError) as error:
        raise _failed("list", "*", error) from error
