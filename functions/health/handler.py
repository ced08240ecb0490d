"""GET /api/health: answers once the function can run at all (no dependencies on purpose)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.coldstart import ends_init
from bookinghub.core.observability import logger
from bookinghub.web.resolver import json_response, make_resolver

app = make_resolver()


@app.get("/api/health")
def health() -> Any:
    return json_response(200, {"status": "ok"})


@ends_init  # no resource settings: resumes the collector paused for init (core/coldstart.py)
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
