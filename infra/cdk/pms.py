"""The PMS module's EventBridge bus (infra.topology.pms.PMS_EVENT_BUS), rendered after the functions."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct

from infra.cdk.functions import RenderedFunction
from infra.topology.pms import PMS_EVENT_BUS


def build_pms_bus(scope: Construct, functions: dict[str, RenderedFunction], *, stage: str) -> events.EventBus:
    spec = PMS_EVENT_BUS
    bus = events.EventBus(scope, f"{spec.name}Bus", event_bus_name=f"bookinghub-{stage}-pms-events")
    # Every PMS event kept 90 days (EventBridge archive: replayable to a consumer added later). An archive
    # rather than a log-group target, which would need a custom-resource Lambda with wildcard permissions.
    bus.archive(
        f"{spec.name}Archive",
        description="pms.sync.completed and pms.booking.synced, replayable",
        event_pattern=events.EventPattern(source=[spec.source]),
        retention=Duration.days(90),
    )
    for name in spec.publishers:
        function = functions[name].function
        bus.grant_put_events_to(function)
        function.add_environment(spec.env_var, bus.event_bus_name)
    return bus
