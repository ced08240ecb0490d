"""Tables, queues and the key: the properties whose loss would lose data or messages."""

from __future__ import annotations

from typing import Any

import pytest

from infra import topology
from infra.cdk.naming import dlq_id, function_id, queue_id, stream_failures_id, table_id
from tests.infra.conftest import Assembly


@pytest.mark.parametrize("spec", topology.TABLES, ids=lambda t: t.name)
def test_table_keys_indexes_and_protection(assembly: Assembly, spec: topology.Table) -> None:
    resource = assembly.template["Resources"][table_id(spec.name)]
    props = resource["Properties"]
    expected_keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        expected_keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    assert props["KeySchema"] == expected_keys
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"

    indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {i.name for i in spec.indexes}
    for index in spec.indexes:
        keys = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
        if index.sort_key:
            keys.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
        assert indexes[index.name]["KeySchema"] == keys
        assert indexes[index.name]["Projection"] == {"ProjectionType": "ALL"}


@pytest.mark.parametrize("spec", topology.TABLES, ids=lambda t: t.name)
def test_table_ttl_and_stream(assembly: Assembly, spec: topology.Table) -> None:
    props = assembly.props(table_id(spec.name))
    if spec.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props
    if spec.stream:
        assert props["StreamSpecification"] == {"StreamViewType": spec.stream}
    else:
        assert "StreamSpecification" not in props


@pytest.mark.parametrize("spec", topology.QUEUES, ids=lambda q: q.name)
def test_queue_redrives_to_its_dlq(assembly: Assembly, spec: topology.Queue) -> None:
    props = assembly.props(queue_id(spec.name))
    assert spec.max_receive_count >= 5
    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id(spec.name), "Arn"]},
        "maxReceiveCount": spec.max_receive_count,
    }
    dlq = assembly.props(dlq_id(spec.name))
    assert dlq["MessageRetentionPeriod"] == spec.dlq_retention_days * 86400
    assert "RedrivePolicy" not in dlq


@pytest.mark.parametrize("spec", topology.QUEUES, ids=lambda q: q.name)
def test_queue_visibility_is_six_times_its_consumer_timeout(assembly: Assembly, spec: topology.Queue) -> None:
    consumer = topology.queue_consumer(spec.name)
    consumer_timeout = assembly.props(function_id(consumer.name))["Timeout"]
    assert consumer_timeout == consumer.timeout_seconds
    assert assembly.props(queue_id(spec.name))["VisibilityTimeout"] == 6 * consumer_timeout


def _every_queue_id() -> list[str]:
    ids = [i for q in topology.QUEUES for i in (queue_id(q.name), dlq_id(q.name))]
    return ids + [stream_failures_id(f.name) for f in topology.FUNCTIONS if f.stream]


def test_every_queue_is_known_to_the_topology(assembly: Assembly) -> None:
    assert set(assembly.resources("AWS::SQS::Queue")) == set(_every_queue_id())


@pytest.mark.parametrize("logical_id", _every_queue_id())
def test_queue_is_encrypted_and_refuses_plain_http(assembly: Assembly, logical_id: str) -> None:
    assert assembly.props(logical_id)["SqsManagedSseEnabled"] is True
    denies: list[dict[str, Any]] = [
        statement
        for policy in assembly.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": logical_id} in policy["Properties"]["Queues"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
    ]
    assert any(
        s["Action"] == "sqs:*" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies
    ), denies


def test_secrets_key_rotates_and_is_kept(assembly: Assembly) -> None:
    resource = assembly.template["Resources"][f"{topology.SECRETS_KEY.name}Key"]
    assert resource["Properties"]["EnableKeyRotation"] is True
    assert resource["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("spec", topology.QUEUES, ids=lambda q: q.name)
def test_dlq_url_and_arn_are_outputs_for_redrive(assembly: Assembly, spec: topology.Queue) -> None:
    outputs = assembly.template["Outputs"]
    assert outputs[f"{spec.name}DLQUrl"]["Value"] == {"Ref": dlq_id(spec.name)}
    assert outputs[f"{spec.name}DLQArn"]["Value"] == {"Fn::GetAtt": [dlq_id(spec.name), "Arn"]}
    assert "start-message-move-task" in outputs[f"{spec.name}DLQUrl"]["Description"]
