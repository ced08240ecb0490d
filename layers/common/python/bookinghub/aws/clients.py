"""Lazily created, cached AWS clients (DynamoDB item conversion is aws/codec.py).

Nothing here runs at import time: boto3 is imported on first use, so a handler that never touches AWS
(or has not yet) pays nothing for it. Endpoints come from botocore's own configuration, so the local
runtime only sets AWS_ENDPOINT_URL and the code never special-cases it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from bookinghub.core.observability import trace_library


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    trace_library("botocore")  # before the first client: calls show up as X-Ray subsegments

    # Short timeouts and standard retries: a Lambda has a hard deadline; better to fail and let the
    # queue retry than to hang.
    from bookinghub.core.settings import get_settings

    read_timeout = get_settings().aws_read_timeout_seconds
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=read_timeout)
    return boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]
