"""Tables, queues and the key: the properties whose loss would lose data or messages."""

from __future__ import annotations

from typing import Any

import pytest

from bookinghub.payments.logic import pincode_retry
from infra import topology
from infra.cdk import data as data_module
from infra.cdk.naming import dlq_id, function_id, queue_id, secret_id, stream_failures_id, table_id
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
        projection: dict[str, object] = {"ProjectionType": index.projection}
        if index.projection == "INCLUDE":
            projection["NonKeyAttributes"] = list(index.include)
        assert indexes[index.name]["Projection"] == projection


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


@pytest.mark.parametrize("spec", topology.QUEUES, ids=lambda q: q.name)
def test_queue_keeps_messages_as_declared_and_its_dlq_longer(assembly: Assembly, spec: topology.Queue) -> None:
    retention = assembly.props(queue_id(spec.name))["MessageRetentionPeriod"]
    assert retention == spec.retention_days * 86400
    # A standard queue's message keeps its first enqueue time in the DLQ
    assert assembly.props(dlq_id(spec.name))["MessageRetentionPeriod"] > retention


def test_pass_issuance_queue_matches_the_topology_and_the_retry_schedule(assembly: Assembly) -> None:
    spec = topology.queue("PassIssuance")
    props = assembly.props(queue_id("PassIssuance"))
    assert props["RedrivePolicy"]["maxReceiveCount"] == spec.max_receive_count == pincode_retry.MAX_ATTEMPTS == 31
    assert props["VisibilityTimeout"] == 6 * topology.function("issue_pincodes").timeout_seconds == 360
    assert props["MessageRetentionPeriod"] == spec.retention_days * 86400 == 4 * 86400
    # Every retry of the 24 h schedule (slowest jitter) happens before the message could expire
    slowest = sum(round(delay * (1 + pincode_retry.JITTER)) for delay in pincode_retry.nominal_schedule())
    assert pincode_retry.RETRY_WINDOW_SECONDS <= slowest < props["MessageRetentionPeriod"]
    assert assembly.props(dlq_id("PassIssuance"))["MessageRetentionPeriod"] == 14 * 86400


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_receive_count": 4}, "maxReceiveCount"),
        ({"retention_days": 15}, "1 to 14 days"),
        ({"retention_days": 14, "dlq_retention_days": 14}, "longer"),
    ],
)
def test_build_refuses_a_queue_that_would_lose_messages(
    monkeypatch: pytest.MonkeyPatch, changes: dict[str, int], message: str
) -> None:
    queue = topology.Queue(name="Broken", env_var="BROKEN_QUEUE_URL", **changes)
    monkeypatch.setattr(topology, "QUEUES", (*topology.QUEUES, queue))
    with pytest.raises(ValueError, match=message):
        data_module.check_queues()


@pytest.mark.parametrize("spec", topology.SECRETS, ids=lambda s: s.name)
def test_secret_has_no_value_in_the_template_and_is_kept(assembly: Assembly, spec: topology.Secret) -> None:
    resource = assembly.template["Resources"][secret_id(spec.name)]
    assert resource["Type"] == "AWS::SecretsManager::Secret"
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"
    props = resource["Properties"]
    assert "SecretString" not in props  # the operator puts the value; CloudFormation only a random placeholder
    assert "KmsKeyId" not in props  # the AWS-managed aws/secretsmanager key
    assert spec.description in props["Description"]
    assert "put-secret-value" in props["Description"]


@pytest.mark.parametrize("spec", topology.SECRETS, ids=lambda s: s.name)
def test_secret_arn_is_an_output_with_how_to_set_it(assembly: Assembly, spec: topology.Secret) -> None:
    output = assembly.template["Outputs"][f"{spec.name}Arn"]
    assert output["Value"] == {"Ref": secret_id(spec.name)}
    assert "aws secretsmanager put-secret-value" in output["Description"]


def test_every_secret_is_known_to_the_topology(assembly: Assembly) -> None:
    assert set(assembly.resources("AWS::SecretsManager::Secret")) == {secret_id(s.name) for s in topology.SECRETS}


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
