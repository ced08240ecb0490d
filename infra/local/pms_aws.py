"""The PMS module's EventBridge parts in the embedded AWS: its bus with the topology's rules and queue
targets, and the schedule group hotels' sync schedules live in (infra/topology/pms.py renders to both).

moto's EventBridge delivers a published event to each matching rule's SQS target (the queue workers then
consume it as Lambda would); its Scheduler stores schedules but never fires them, which
infra/local/scheduler_schedules.py does.
"""

from __future__ import annotations

import json
from typing import Any

from infra.local.aws_env import ACCOUNT_ID
from infra.topology.pms import HOTEL_SCHEDULES, PMS_EVENT_BUS


def bus_name(prefix: str) -> str:
    return f"{prefix}-pms-events"


def schedule_group_name(prefix: str) -> str:
    return f"{prefix}-pms-hotels"


def scheduler_role_arn(prefix: str) -> str:
    """Locally nothing checks IAM; the ARN has the shape the CDK role's has, so the same code passes it."""
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{prefix}-pms-scheduler"


def queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def create_pms_aws(session: Any, queue_urls: dict[str, str], dlq_urls: dict[str, str], prefix: str) -> dict[str, str]:
    """Create the bus, its rules and targets, and the schedule group; returns the env vars naming them."""
    sqs, events = session.client("sqs"), session.client("events")
    bus = bus_name(prefix)
    events.create_event_bus(Name=bus)
    for rule in PMS_EVENT_BUS.rules:
        events.put_rule(Name=rule.name, EventBusName=bus, EventPattern=json.dumps(PMS_EVENT_BUS.pattern(rule)))
        target = {"Id": rule.queue, "Arn": queue_arn(sqs, queue_urls[rule.queue])}
        events.put_targets(Rule=rule.name, EventBusName=bus, Targets=[target])
    group = schedule_group_name(prefix)
    session.client("scheduler").create_schedule_group(Name=group)
    return {
        PMS_EVENT_BUS.env_var: bus,
        HOTEL_SCHEDULES.group_env_var: group,
        HOTEL_SCHEDULES.role_env_var: scheduler_role_arn(prefix),
        HOTEL_SCHEDULES.target_env_var: queue_arn(sqs, queue_urls[HOTEL_SCHEDULES.target_queue]),
        HOTEL_SCHEDULES.dead_letter_env_var: queue_arn(sqs, dlq_urls[HOTEL_SCHEDULES.target_queue]),
    }
