"""The hub's CloudFormation stack: infra/topology/ rendered through CDK.

Environment-agnostic on purpose (no account/region, no lookups), so `make synth` runs offline and
without AWS credentials; the same template deploys to any account and region.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra import topology
from infra.cdk import nag
from infra.cdk.api import RenderedApi, build_api
from infra.cdk.auth import RenderedAuth, build_auth
from infra.cdk.data import DataResources, build_data
from infra.cdk.functions import FunctionSettings, RenderedFunction, build_functions
from infra.cdk.monitoring import RenderedMonitoring, build_monitoring
from infra.cdk.pms import RenderedPms, build_pms
from infra.cdk.websocket import RenderedWebSocket, build_websocket, suppress_websocket_findings

ROOT = Path(__file__).resolve().parents[1]


class BookingHubStack(Stack):
    """Tables, queues, key, functions with their triggers, the operators' user pool and the REST API of one stage."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        layer_asset_dir: Path,
        log_level: str = "INFO",
        alarm_email: str | None = None,
        code_root: Path = ROOT,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.data: DataResources = build_data(self, stage=stage, protect=stage == "prod")
        self.functions: dict[str, RenderedFunction] = build_functions(
            self,
            self.data,
            FunctionSettings(stage=stage, log_level=log_level, code_root=code_root, layer_asset_dir=layer_asset_dir),
        )
        self.pms: RenderedPms = build_pms(self, self.functions, self.data, stage=stage)  # issue 13
        self.auth: RenderedAuth = build_auth(self, stage=stage, protect=stage == "prod")
        self.api: RenderedApi = build_api(self, self.functions, stage=stage, authorizer=self.auth.authorizer)
        self.monitoring: RenderedMonitoring = build_monitoring(
            self, stage=stage, data=self.data, functions=self.functions, api=self.api, alarm_email=alarm_email
        )
        self.websocket: RenderedWebSocket = build_websocket(self, self.functions, stage=stage, auth=self.auth)

        for rendered in self.functions.values():
            nag.suppress_function_findings(rendered)
        nag.suppress_route_findings(self.api)
        nag.suppress_api_findings(self.api)
        nag.suppress_secret_findings(self.data.secrets)
        suppress_websocket_findings(self.websocket, self.functions)
        self._outputs()

    def _outputs(self) -> None:
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn, description="Where every alarm goes")
        CfnOutput(
            self,
            "DashboardName",
            value=self.monitoring.dashboard.dashboard_name,
            description="CloudWatch dashboard of this stage (docs/operations.md)",
        )
        for secret_spec in topology.SECRETS:
            CfnOutput(
                self,
                f"{secret_spec.name}Arn",
                value=self.data.secrets[secret_spec.name].secret_arn,
                description=(
                    f"{secret_spec.description}. Set its value: aws secretsmanager put-secret-value "
                    f"--secret-id <{secret_spec.name}Arn> --secret-string <value>"
                ),
            )
        for spec in topology.QUEUES:
            dlq = self.data.queues[spec.name].dlq
            redrive = f"redrive: aws sqs start-message-move-task --source-arn <{spec.name}DLQArn>"
            CfnOutput(self, f"{spec.name}DLQUrl", value=dlq.queue_url, description=f"{spec.name} DLQ ({redrive})")
            CfnOutput(self, f"{spec.name}DLQArn", value=dlq.queue_arn, description=f"{spec.name} DLQ ARN ({redrive})")
        for rendered in self.functions.values():
            if rendered.stream_failures is not None:
                CfnOutput(
                    self,
                    f"{rendered.stream_failures.node.id}Url",
                    value=rendered.stream_failures.queue_url,
                    description=(
                        f"Batches {rendered.spec.name} gave up on (shard and sequence numbers; re-read the records "
                        "from the stream within 24 h, not redrivable)"
                    ),
                )
