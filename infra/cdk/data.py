"""Tables, queues and the secrets key of the topology.

Encryption choices:
- DynamoDB tables use the AWS-managed key (aws/dynamodb): encrypted at rest with KMS and auditable in
  CloudTrail, without a key policy to maintain or kms:Decrypt grants on every reader (including the
  stream's event source). The data that needs a key we control (webhook secrets, provider tokens) is
  already encrypted by the application with the Secrets key below, so a customer-managed table key
  would add cost and IAM surface without protecting anything more.
- SQS queues use SSE-SQS for the same reason: messages carry event ids and booking ids, not secrets,
  and a customer-managed key would need grants for every producer and consumer.
- The Secrets key is customer-managed with yearly rotation; functions get Encrypt/Decrypt on it only
  where the topology says so.
- Secrets Manager secrets (topology.SECRETS: values an operator sets, like Stripe's signing secret) use
  the AWS-managed key (aws/secretsmanager): only the functions granted read may fetch them, and the
  read grant needs no kms:Decrypt of ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import topology
from infra.cdk.naming import dlq_id, pin_logical_id, queue_id, secret_id, table_id


@dataclass(frozen=True)
class QueuePair:
    queue: sqs.Queue
    dlq: sqs.Queue


@dataclass(frozen=True)
class DataResources:
    tables: dict[str, dynamodb.Table]  # topology table name -> table
    queues: dict[str, QueuePair]  # topology queue name -> queue and its DLQ
    secrets_key: kms.Key
    secrets: dict[str, secretsmanager.Secret]  # topology secret name -> secret


def _attribute(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def build_table(scope: Construct, spec: topology.Table, *, protect: bool) -> dynamodb.Table:
    table = dynamodb.Table(
        scope,
        table_id(spec.name),
        partition_key=_attribute(spec.partition_key),
        sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        time_to_live_attribute=spec.ttl_attribute,
        stream=dynamodb.StreamViewType(spec.stream) if spec.stream else None,
        deletion_protection=protect,
        # Bookings outlive a stack: deleting the stack must never delete the data with it.
        removal_policy=RemovalPolicy.RETAIN,
    )
    for index in spec.indexes:
        table.add_global_secondary_index(
            index_name=index.name,
            partition_key=_attribute(index.partition_key),
            sort_key=_attribute(index.sort_key) if index.sort_key else None,
            projection_type=dynamodb.ProjectionType(index.projection),
            non_key_attributes=list(index.include) if index.projection == "INCLUDE" else None,
        )
    pin_logical_id(table, table_id(spec.name))
    return table


def encrypted_queue(
    scope: Construct,
    logical_id: str,
    *,
    retention_period: Duration | None = None,
    visibility_timeout: Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
) -> sqs.Queue:
    """A queue that refuses plain-HTTP requests and encrypts at rest (SSE-SQS)."""
    queue = sqs.Queue(
        scope,
        logical_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=retention_period,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=dead_letter_queue,
    )
    pin_logical_id(queue, logical_id)
    return queue


def build_queue(scope: Construct, spec: topology.Queue) -> QueuePair:
    # Failed messages land here after max_receive_count receives. To replay them once the cause is
    # fixed, start an SQS message move task from the DLQ (StartMessageMoveTask, `aws sqs
    # start-message-move-task --source-arn <DLQ ARN>`), which moves them back to this queue; the stack
    # outputs the DLQ's URL and ARN for that.
    dlq = encrypted_queue(scope, dlq_id(spec.name), retention_period=Duration.days(spec.dlq_retention_days))
    queue = encrypted_queue(
        scope,
        queue_id(spec.name),
        retention_period=Duration.days(spec.retention_days),
        visibility_timeout=Duration.seconds(topology.visibility_timeout_seconds(spec)),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receive_count),
    )
    return QueuePair(queue=queue, dlq=dlq)


def build_secrets_key(scope: Construct, stage: str) -> kms.Key:
    spec = topology.SECRETS_KEY
    key = kms.Key(
        scope,
        f"{spec.name}Key",
        description=f"{spec.description} ({stage})",
        enable_key_rotation=True,
        # Ciphertexts in the tables are unreadable without this key: keep it when the stack goes.
        removal_policy=RemovalPolicy.RETAIN,
    )
    pin_logical_id(key, f"{spec.name}Key")
    return key


def build_secret(scope: Construct, spec: topology.Secret, stage: str) -> secretsmanager.Secret:
    """A secret whose value the operator puts (`aws secretsmanager put-secret-value`), never the template.

    CloudFormation creates it with a random placeholder (no value is written in the template); until the
    operator puts the real one, whatever it guards is refused rather than accepted.
    """
    secret = secretsmanager.Secret(
        scope,
        secret_id(spec.name),
        description=f"{spec.description} ({stage}); set by the operator with aws secretsmanager put-secret-value",
        # Deleting the stack must not delete a value only the operator has (and Stripe shows once).
        removal_policy=RemovalPolicy.RETAIN,
    )
    pin_logical_id(secret, secret_id(spec.name))
    return secret


def check_queues() -> None:
    for spec in topology.QUEUES:
        if spec.max_receive_count < 5:
            raise ValueError(f"{spec.name}: maxReceiveCount must be >= 5 (AWS guidance for Lambda consumers)")
        if not 1 <= spec.retention_days <= 14 or not 1 <= spec.dlq_retention_days <= 14:
            raise ValueError(f"{spec.name}: SQS keeps messages 1 to 14 days")
        # A standard queue's message keeps its first enqueue time in the DLQ: a DLQ that does not keep
        # messages longer than the queue would drop them as soon as they arrive.
        if spec.dlq_retention_days <= spec.retention_days:
            raise ValueError(f"{spec.name}: the DLQ must keep messages longer than the queue does")


def build_data(scope: Construct, *, stage: str, protect: bool) -> DataResources:
    check_queues()
    return DataResources(
        tables={spec.name: build_table(scope, spec, protect=protect) for spec in topology.TABLES},
        queues={spec.name: build_queue(scope, spec) for spec in topology.QUEUES},
        secrets_key=build_secrets_key(scope, stage),
        secrets={spec.name: build_secret(scope, spec, stage) for spec in topology.SECRETS},
    )
