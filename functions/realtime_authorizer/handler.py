"""WebSocket $connect authorizer: an operator's ID token (?token=) verified against the user pool."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bookinghub.core.coldstart import ends_init
from bookinghub.core.observability import logger, tracer
from bookinghub.realtime.logic.authorizer import Unauthorized, authorize


@ends_init  # no resource settings: resumes the collector paused for init (core/coldstart.py)
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return authorize(event)
    except Unauthorized:
        logger.info("realtime token refused")
        raise
