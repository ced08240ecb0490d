"""The API's own liveness answer.

Route -> function: GET /api/health -> functions/health/handler.py (no dependencies on purpose).
"""

from __future__ import annotations

from infra.topology.model import Function, Route

HEALTH = Function(
    name="health",
    description="Liveness answer for the API: GET /api/health",
    timeout_seconds=3,
    memory_mb=128,
    routes=(Route("GET", "/api/health", auth="public"),),
)

FUNCTIONS: tuple[Function, ...] = (HEALTH,)
