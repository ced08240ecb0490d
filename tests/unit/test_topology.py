"""infra/topology/ is the single declaration: it must agree with itself and with the handlers on disk.

Each rule is a small function over plain data, tested twice: on the real topology (must hold) and on a
deliberately broken one (must be caught), so a rule that can no longer fail would be noticed.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

from infra import topology
from infra.local.invoke import ROOT, load_handler
from infra.topology import Access, Function, QueueTrigger, Route, StreamTrigger

FUNCTIONS_DIR = ROOT / "functions"
Routes = Counter[tuple[str, str]]


def handler_mismatches(functions_dir: Path, functions: tuple[Function, ...]) -> tuple[set[str], set[str]]:
    """(handlers on disk without a topology entry, topology entries without a handler on disk)."""
    on_disk = {path.parent.name for path in functions_dir.glob("*/handler.py")}
    declared = {fn.name for fn in functions}
    return on_disk - declared, declared - on_disk


def duplicates(values: Iterable[Any]) -> list[Any]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


def routes_declared_twice(functions: tuple[Function, ...]) -> list[object]:
    return duplicates([(route.method, route.path) for fn in functions for route in fn.routes])


def queue_consumer_counts(functions: tuple[Function, ...], queues: tuple[topology.Queue, ...]) -> dict[str, int]:
    return {q.name: sum(1 for fn in functions if fn.queue and fn.queue.queue == q.name) for q in queues}


def unknown_access(functions: tuple[Function, ...]) -> list[str]:
    tables = {t.name for t in topology.TABLES}
    queues = {q.name for q in topology.QUEUES}
    problems = []
    for fn in functions:
        for name in (*fn.access.read_tables, *fn.access.write_tables):
            if name not in tables:
                problems.append(f"{fn.name}: table {name}")
        problems += [f"{fn.name}: queue {name}" for name in fn.access.send_queues if name not in queues]
    return problems


def bad_stream_triggers(functions: tuple[Function, ...]) -> list[str]:
    with_streams = {t.name for t in topology.TABLES if t.stream}
    return [fn.name for fn in functions if fn.stream and fn.stream.table not in with_streams]


def resolver_routes(fn: Function) -> Routes:
    """Every (method, path) the function's handler module registers on its Powertools resolver(s)."""
    return routes_in(inspect.unwrap(load_handler(fn)).__globals__)


def routes_in(namespace: dict[str, object]) -> Routes:
    routes: Routes = Counter()
    for value in namespace.values():
        if isinstance(value, ApiGatewayResolver):
            for route in value._static_routes + value._dynamic_routes:
                # Powertools writes path parameters as <id>, API Gateway (and the topology) as {id}
                routes[(route.method, re.sub(r"<(\w+)>", r"{\1}", route.path))] += 1
    return routes


# --- the real topology -----------------------------------------------------------------------------


def test_every_handler_has_a_topology_entry_and_vice_versa() -> None:
    assert handler_mismatches(FUNCTIONS_DIR, topology.FUNCTIONS) == (set(), set())


def test_names_are_unique() -> None:
    assert duplicates([fn.name for fn in topology.FUNCTIONS]) == []
    assert duplicates([t.name for t in topology.TABLES] + [q.name for q in topology.QUEUES]) == []
    assert duplicates([t.env_var for t in topology.TABLES] + [q.env_var for q in topology.QUEUES]) == []


def test_no_route_is_declared_twice() -> None:
    assert routes_declared_twice(topology.FUNCTIONS) == []


def test_every_queue_has_exactly_one_consumer_and_triggers_name_real_queues() -> None:
    assert set(queue_consumer_counts(topology.FUNCTIONS, topology.QUEUES).values()) == {1}
    queues = {q.name for q in topology.QUEUES}
    assert [fn.name for fn in topology.FUNCTIONS if fn.queue and fn.queue.queue not in queues] == []


def test_every_access_names_existing_tables_and_queues() -> None:
    assert unknown_access(topology.FUNCTIONS) == []


def test_every_stream_trigger_points_at_a_table_with_a_stream() -> None:
    assert bad_stream_triggers(topology.FUNCTIONS) == []


def test_every_function_has_a_trigger() -> None:
    from infra.topology.realtime import AUTHORIZER_FUNCTION, WEBSOCKET_ROUTES  # WebSocket routes trigger too

    websocket = {AUTHORIZER_FUNCTION, *(route.function for route in WEBSOCKET_ROUTES)}
    idle = [fn.name for fn in topology.FUNCTIONS if not (fn.routes or fn.queue or fn.stream or fn.schedules)]
    assert [name for name in idle if name not in websocket] == []


@pytest.mark.parametrize("fn", topology.FUNCTIONS, ids=lambda fn: fn.name)
def test_resolver_routes_match_the_topology(fn: Function) -> None:
    """The handler serves exactly its declared routes, each once (a second decorator is a duplicate)."""
    assert (ROOT / fn.handler_path).exists(), f"{fn.handler_path} is missing"
    declared: Routes = Counter((route.method, route.path) for route in fn.routes)
    assert resolver_routes(fn) == declared


# --- the rules catch a broken topology -------------------------------------------------------------


def test_a_handler_without_entry_and_an_entry_without_handler_are_caught(tmp_path: Path) -> None:
    for name in ("declared", "stray"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "handler.py").write_text("")
    functions = (Function("declared", "d"), Function("missing", "m"))

    assert handler_mismatches(tmp_path, functions) == ({"stray"}, {"missing"})


def test_a_route_declared_twice_is_caught() -> None:
    functions = (
        Function("a", "a", routes=(Route("POST", "/api/bookings/sync", auth="api_key"),)),
        Function(
            "b",
            "b",
            routes=(
                Route("POST", "/api/bookings/sync", auth="api_key"),
                Route("GET", "/api/bookings/sync", auth="api_key"),
            ),
        ),
    )
    assert routes_declared_twice(functions) == [("POST", "/api/bookings/sync")]


def test_a_route_registered_twice_in_a_handler_is_caught() -> None:
    app = APIGatewayRestResolver()
    app.get("/api/bookings/<booking_id>")(lambda booking_id: {})
    with pytest.warns(UserWarning, match="already registered"):  # Powertools only warns
        app.get("/api/bookings/<booking_id>")(lambda booking_id: {})
    app.post("/api/bookings/sync")(lambda: {})

    assert routes_in({"app": app}) == {("GET", "/api/bookings/{booking_id}"): 2, ("POST", "/api/bookings/sync"): 1}


def test_queue_consumers_bad_access_and_streamless_tables_are_caught() -> None:
    queue = topology.Queue(name="Q", env_var="Q_URL")
    twice = (Function("a", "a", queue=QueueTrigger("Q")), Function("b", "b", queue=QueueTrigger("Q")))
    assert queue_consumer_counts(twice, (queue,)) == {"Q": 2}
    assert queue_consumer_counts((), (queue,)) == {"Q": 0}

    greedy = Function("g", "g", access=Access(read_tables=("Nope",), send_queues=("Gone",)))
    assert unknown_access((greedy,)) == ["g: table Nope", "g: queue Gone"]

    assert bad_stream_triggers((Function("s", "s", stream=StreamTrigger(table="Idempotency")),)) == ["s"]


def test_every_route_leads_to_its_handler_file_in_two_hops() -> None:
    """`python -m infra.topology`: each trigger, the handler file that serves it, and where it is declared."""
    from infra.topology.__main__ import lines

    listing = lines()
    for route, fn in topology.all_routes():
        (line,) = [line for line in listing if line.startswith(f"{route.method} {route.path} ")]
        assert fn.handler_path in line
        module = line.rsplit("(", 1)[1].rstrip(")")
        assert (ROOT / fn.handler_path).is_file()
        assert f'name="{fn.name}"' in (ROOT / module).read_text()
    assert len(listing) == len(topology.all_routes()) + sum(
        bool(fn.queue) + bool(fn.stream) + len(fn.schedules) for fn in topology.FUNCTIONS
    )
