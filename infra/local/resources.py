"""Create every table, queue and key of the topology (and the PMS bus and schedule group) in an AWS
endpoint (moto), and name them.

Used by `make run` against moto's server and by the integration tests against in-process moto, so
both run on exactly what the topology declares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from infra import topology
from infra.local.pms_aws import create_pms_aws

LOCAL_PREFIX = "bookinghub"


def table_name(table: topology.Table, prefix: str = LOCAL_PREFIX) -> str:
    return f"{prefix}-{table.name}"


def queue_name(queue: topology.Queue, prefix: str = LOCAL_PREFIX) -> str:
    return f"{prefix}-{queue.name}"


@dataclass
class LocalResources:
    """Physical names of what was created, and the env vars that hand them to functions."""

    env: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)  # logical queue name -> URL
    dlq_urls: dict[str, str] = field(default_factory=dict)
    stream_arns: dict[str, str] = field(default_factory=dict)  # logical table name -> stream ARN


def create_resources(session: Any, prefix: str = LOCAL_PREFIX, visibility_seconds: int | None = None) -> LocalResources:
    """Create the topology's resources through `session` (a boto3 Session pointed at moto).

    `visibility_seconds` replaces every queue's visibility timeout (a local knob: DLQ demos in seconds)."""
    out = LocalResources()
    ddb = session.client("dynamodb")
    for table in topology.TABLES:
        name = table_name(table, prefix)
        ddb.create_table(**_table_spec(table, name))
        if table.ttl_attribute:
            ddb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
            )
        if table.stream:
            out.stream_arns[table.name] = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
        out.env[table.env_var] = name

    sqs = session.client("sqs")
    for queue in topology.QUEUES:
        dlq_url = sqs.create_queue(
            QueueName=f"{queue_name(queue, prefix)}-dlq",
            Attributes={"MessageRetentionPeriod": str(queue.dlq_retention_days * 86400)},
        )["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs.create_queue(
            QueueName=queue_name(queue, prefix),
            Attributes={
                "VisibilityTimeout": str(visibility_seconds or topology.visibility_timeout_seconds(queue)),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count}
                ),
            },
        )["QueueUrl"]
        out.queue_urls[queue.name] = url
        out.dlq_urls[queue.name] = dlq_url
        out.env[queue.env_var] = url

    out.env.update(create_pms_aws(session, out.queue_urls, out.dlq_urls, prefix))

    kms = session.client("kms")
    key_id = kms.create_key(Description=f"{prefix} secrets (local)")["KeyMetadata"]["KeyId"]
    out.env[topology.SECRETS_KEY.env_var] = key_id
    return out


def _table_spec(table: topology.Table, name: str) -> dict[str, Any]:
    attributes = {table.partition_key}
    key_schema = [{"AttributeName": table.partition_key, "KeyType": "HASH"}]
    if table.sort_key:
        attributes.add(table.sort_key)
        key_schema.append({"AttributeName": table.sort_key, "KeyType": "RANGE"})
    indexes = []
    for index in table.indexes:
        schema = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
        attributes.add(index.partition_key)
        if index.sort_key:
            schema.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
            attributes.add(index.sort_key)
        projection: dict[str, Any] = {"ProjectionType": index.projection}
        if index.projection == "INCLUDE":
            projection["NonKeyAttributes"] = list(index.include)
        indexes.append({"IndexName": index.name, "KeySchema": schema, "Projection": projection})
    spec: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": key_schema,
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
    }
    if indexes:
        spec["GlobalSecondaryIndexes"] = indexes
    if table.stream:
        spec["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return spec
