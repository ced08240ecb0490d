"""The PMS module's stack resources: its bus with an archive of every event, and who may publish on it."""

from __future__ import annotations

from infra.cdk.naming import function_id
from infra.topology.pms import PMS_EVENT_BUS
from tests.infra.conftest import Assembly


def test_pms_bus_archive_and_publishers(assembly: Assembly) -> None:
    (bus_id,) = assembly.resources("AWS::Events::EventBus")
    (archive,) = (assembly.props(i) for i in assembly.resources("AWS::Events::Archive"))
    assert archive["EventPattern"] == {"source": [PMS_EVENT_BUS.source]}
    assert archive["RetentionDays"] == 90
    for name in PMS_EVENT_BUS.publishers:
        env = assembly.props(function_id(name))["Environment"]["Variables"]
        assert env[PMS_EVENT_BUS.env_var] == {"Ref": bus_id}
    policies = " ".join(str(assembly.props(i)) for i in assembly.resources("AWS::IAM::Policy"))
    assert "events:PutEvents" in policies
    # The webhook edge never publishes (it only stores and queues)
    webhook_env = assembly.props(function_id("pms_webhook"))["Environment"]["Variables"]
    assert PMS_EVENT_BUS.env_var not in webhook_env
