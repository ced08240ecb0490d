"""events/<function>/*.json: a sample event for every topology function, in the shape its trigger sends.

Each sample parses with Powertools' model of the function's event type (API Gateway REST proxy, SQS,
DynamoDB stream, EventBridge, the WebSocket API's events and its $connect authorizer request) and names
what the topology says triggers the function: one of its routes, its queue, its table's stream, one of
its schedules or one of its WebSocket routes. `*.body.json` files are request bodies
(tests/conftest.py's load_event reads both), not events.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketConnectEventRequestContext,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
    DynamoDBStreamModel,
    EventBridgeModel,
    SqsModel,
)
from pydantic import BaseModel, ValidationError

from infra import topology
from infra.topology import realtime
from tests.conftest import EVENTS


def samples(fn: topology.Function) -> list[Path]:
    return sorted(p for p in (EVENTS / fn.name).glob("*.json") if not p.name.endswith(".body.json"))


class WebSocketAuthorizerRequest(BaseModel):
    """A WebSocket API's REQUEST authorizer event (Powertools models only the REST API's, which has a path)."""

    type: Literal["REQUEST"]
    methodArn: str
    queryStringParameters: dict[str, str] | None = None
    requestContext: APIGatewayWebSocketConnectEventRequestContext


def websocket_routes(fn: topology.Function) -> set[str]:
    return {route.key for route in realtime.WEBSOCKET_ROUTES if route.function == fn.name}


def event_model(fn: topology.Function) -> type[BaseModel]:
    """The event type the function's handler receives, from its trigger."""
    if fn.name == realtime.AUTHORIZER_FUNCTION:
        return WebSocketAuthorizerRequest
    routes = websocket_routes(fn)
    if routes == {"$connect"}:
        return APIGatewayWebSocketConnectEventModel
    if routes == {"$disconnect"}:
        return APIGatewayWebSocketDisconnectEventModel
    if routes:
        return APIGatewayWebSocketMessageEventModel
    if fn.routes:
        return APIGatewayProxyEventModel
    if fn.queue:
        return SqsModel
    if fn.stream:
        return DynamoDBStreamModel
    return EventBridgeModel


def trigger_mismatch(fn: topology.Function, event: dict[str, Any]) -> str | None:
    """Why the sample could not have come from the function's own trigger (None: it could)."""
    if fn.name == realtime.AUTHORIZER_FUNCTION:  # the WebSocket API's $connect, authorised first
        return None if str(event["methodArn"]).endswith("/$connect") else "not the WebSocket API's $connect"
    if websocket_routes(fn):
        return (
            None if event["requestContext"]["routeKey"] in websocket_routes(fn) else "not one of its WebSocket routes"
        )
    if fn.routes:
        declared = {(r.method, r.path) for r in fn.routes}
        return None if (event["httpMethod"], event["resource"]) in declared else "not one of its routes"
    if fn.queue:
        return _records_from(event, f":bookinghub-{fn.queue.queue}")  # the queue's ARN ends with its name
    if fn.stream:
        return _records_from(event, f"/bookinghub-{fn.stream.table}/")  # a stream's ARN names its table
    details = [topology.schedule_detail(schedule) for schedule in fn.schedules]
    return None if event["detail"] in details else "detail of none of its schedules"


def _records_from(event: dict[str, Any], source: str) -> str | None:
    arns = {record["eventSourceARN"] for record in event["Records"]}
    return None if arns and all(source in arn for arn in arns) else f"records not from {source}"


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=lambda fn: fn.name)
def test_every_function_has_a_sample_that_its_trigger_could_send(fn: topology.Function) -> None:
    found = samples(fn)
    assert found, f"no sample event under events/{fn.name}/"
    for path in found:
        event = json.loads(path.read_text())
        event_model(fn).model_validate(event)  # raises on a malformed sample
        assert trigger_mismatch(fn, event) is None, path.relative_to(EVENTS)


def test_no_sample_folder_without_a_function() -> None:
    assert {p.name for p in EVENTS.iterdir() if p.is_dir()} <= {fn.name for fn in topology.FUNCTIONS}


def test_a_malformed_or_misdirected_sample_is_caught() -> None:
    queue_fn = topology.function("beds24_sync")
    event = json.loads(samples(queue_fn)[0].read_text())
    del event["Records"][0]["body"]
    with pytest.raises(ValidationError):
        SqsModel.model_validate(event)

    misdirected = json.loads(samples(topology.function("beds24_events"))[0].read_text())
    assert trigger_mismatch(queue_fn, misdirected) is not None
    api_call = json.loads(samples(topology.function("health"))[0].read_text())
    assert trigger_mismatch(topology.function("beds24_admin"), api_call) == "not one of its routes"
    scheduled = json.loads(samples(topology.function("beds24_scheduler"))[0].read_text())
    assert trigger_mismatch(topology.function("beds24_scheduler"), scheduled | {"detail": {"mode": "x"}})
