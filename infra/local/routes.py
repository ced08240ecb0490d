"""Match a request to a topology route the way API Gateway matches resources.

Templates use API Gateway's syntax: `{id}` matches one path segment, `{proxy+}` the rest of the path.
A literal segment wins over a parameter at the same place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from infra import topology


class RouteNotFound(LookupError):
    pass


class MethodNotAllowed(LookupError):
    def __init__(self, allowed: list[str]) -> None:
        super().__init__(", ".join(allowed))
        self.allowed = allowed


@dataclass(frozen=True)
class RouteMatch:
    route: topology.Route
    function: topology.Function
    path_parameters: dict[str, str]


def _segments(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


def _match_template(template: str, path: str) -> dict[str, str] | None:
    wanted, given = _segments(template), _segments(path)
    params: dict[str, str] = {}
    for index, part in enumerate(wanted):
        if part.startswith("{") and part.endswith("+}"):
            rest = given[index:]
            if not rest or any(not s for s in rest):
                return None
            params[part[1:-2]] = "/".join(rest)
            return params
        if index >= len(given) or not given[index]:
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = given[index]
        elif part != given[index]:
            return None
    return params if len(given) == len(wanted) else None


def _specificity(template: str) -> tuple[int, int]:
    parts = _segments(template)
    return (sum(not p.startswith("{") for p in parts), len(parts))


class RouteTable:
    def __init__(self, routes: Iterable[tuple[topology.Route, topology.Function]]) -> None:
        self._routes = sorted(routes, key=lambda pair: _specificity(pair[0].path), reverse=True)

    def match(self, method: str, path: str) -> RouteMatch:
        best_template: str | None = None
        allowed: list[str] = []
        for route, fn in self._routes:
            params = _match_template(route.path, path)
            if params is None or (best_template is not None and route.path != best_template):
                continue
            best_template = route.path  # the most specific resource that matches; others don't apply
            if route.method == method:
                return RouteMatch(route=route, function=fn, path_parameters=params)
            allowed.append(route.method)
        if best_template is None:
            raise RouteNotFound(path)
        raise MethodNotAllowed(sorted(allowed))
