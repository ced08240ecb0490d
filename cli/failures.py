"""What the CLI says when AWS or the stack cannot be reached: one line on stderr, never a traceback.

Exit codes: 2 when the caller's setup is missing something (no region, no credentials), 1 when the setup
is complete but the stack does not answer (down, unreachable) or refuses the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SETUP, UNREACHABLE = 2, 1


@dataclass(frozen=True)
class Failure:
    exit_code: int
    message: str


def explain(error: BaseException, *, local: bool) -> Failure | None:
    """The readable line for a failure to reach AWS or the stack, or None for anything else (a bug,
    which should keep its traceback). Imported only on failure: botocore costs ~100 ms to import."""
    import botocore.exceptions as aws
    import requests.exceptions as http

    start = "start it with `make run`" if local else "or add --local for `make run`'s stack"
    if isinstance(error, aws.NoRegionError):
        return Failure(SETUP, f"no AWS region: set AWS_DEFAULT_REGION (or a region in your AWS profile), {start}")
    if isinstance(error, aws.NoCredentialsError | aws.PartialCredentialsError):
        return Failure(SETUP, f"no AWS credentials: configure them (aws configure, AWS_PROFILE), {start}")
    if isinstance(error, aws.ConnectionError | aws.HTTPClientError):
        where = _endpoint(error)
        if local:
            return Failure(UNREACHABLE, f"the local stack does not answer at {where}: is `make run` up?")
        return Failure(UNREACHABLE, f"cannot reach AWS at {where}: check the network and AWS_ENDPOINT_URL")
    if isinstance(error, aws.ClientError):
        details: dict[str, Any] = error.response.get("Error", {})
        code, message = details.get("Code", "error"), details.get("Message", "")
        return Failure(UNREACHABLE, f"AWS refused {error.operation_name}: {code}: {message}".rstrip(": "))
    if isinstance(error, http.ConnectionError | http.Timeout):
        url = error.request.url if error.request is not None else None
        where = url if isinstance(url, str) else "the service"
        return Failure(UNREACHABLE, f"cannot reach {where}: is it up? ({type(error).__name__})")
    return None


def _endpoint(error: Any) -> str:
    kwargs = getattr(error, "kwargs", {}) or {}
    return str(kwargs.get("endpoint_url") or "its endpoint")
