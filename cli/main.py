"""bookinghub: the operator CLI.

bookinghub token --role superadmin|admin|staff [--org demo-org] [--websites a,b] [--email ...] [--ttl 3600]
    prints an ID token the local stack (`make run`) accepts: `Authorization: Bearer <token>`.
bookinghub rooms status|calls|failed [--limit 50] [--local]
    the Rooms Event Hub monitoring queries, read from DynamoDB through the bookinghub services.
bookinghub beds24 properties|sync|runs|report ... [--local]
    Beds24 syncs, reconciliations and their reports (cli/beds24.py).
bookinghub status [--local | --stack NAME]
    every queue's depth and DLQ, Beds24 properties' last pulls, integrations (cli/ops.py).
bookinghub dlq list | show QUEUE | redrive QUEUE [--dry-run] [--local | --stack NAME]
    dead-letter queues: their depths, their messages, and moving them back (with progress).
bookinghub backfill listing-keys [--dry-run] [--local | --stack NAME]
    lays stored bookings' index keys out as the current code does (after a layout change; cli/ops.py).
bookinghub realtime migrate-watches [--local | --stack NAME]
    copies the per-key watches into the watch summaries (run before and after deploying them; cli/ops.py).
bookinghub logs BOOKING [--json] [--local | --stack NAME]
    one booking's syncs, domain events, delivery attempts and Stripe/Rooms calls, in time order (cli/logs.py).
bookinghub webhooks endpoints|stats|failed|replay|recover|retry-failed|enable ... [--local]
    Outbound webhook deliveries: failed list, stats and replay (cli/webhooks.py).
    --local (or BOOKINGHUB_LOCAL=1) points at `make run`'s embedded AWS and table names; otherwise the
    usual AWS credentials and BOOKINGS_TABLE_NAME / INTEGRATION_LOGS_TABLE_NAME are used.
A stack that is down, a missing region or missing credentials answer one line on stderr (cli/failures.py):
exit code 2 for what the caller must set up, 1 for a stack that does not answer or refuses.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
_LAYER = _ROOT / "layers" / "common" / "python"
for _path in (str(_ROOT), str(_LAYER)):  # also runnable without the venv's .pth
    if _path not in sys.path:
        sys.path.insert(0, _path)

LOCAL_ENV = "BOOKINGHUB_LOCAL"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bookinghub", description="bookinghub operator CLI")
    commands = parser.add_subparsers(dest="command", required=True)

    token = commands.add_parser("token", help="print a bearer token the local stack accepts")
    token.add_argument("--role", required=True, choices=("superadmin", "admin", "staff"))
    token.add_argument("--org", default="demo-org", help="custom:organisation_id (default demo-org)")
    token.add_argument("--websites", default="", help="custom:websites, comma-separated (staff)")
    token.add_argument("--email", default=None, help="the user's email (default <role>@<org>.local)")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600, max 86400)")

    rooms = commands.add_parser("rooms", help="Rooms Event Hub monitoring")
    rooms.add_argument("query", choices=("status", "calls", "failed"))
    rooms.add_argument("--limit", type=int, default=50, help="calls/failed: how many (1-500, default 50)")
    rooms.add_argument("--local", action="store_true", help=f"read make run's local stack ({LOCAL_ENV}=1)")

    from cli import beds24, ops, webhooks

    beds24.add_parser(commands, f"use make run's local stack ({LOCAL_ENV}=1)")
    ops.add_parsers(commands, f"use make run's local stack ({LOCAL_ENV}=1)")
    webhooks.add_parser(commands, f"use make run's local stack ({LOCAL_ENV}=1)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with quiet_service_logs():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command == "token":
            return _token(args)
        if args.command in ("beds24", "webhooks"):
            return _service_command(args)
        if args.command in ("status", "dlq", "logs", "backfill", "realtime"):
            return _ops(args)
        return _rooms(args)
    except ValueError as error:
        print(f"bookinghub: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        from cli.failures import explain

        # A stack that is down, a missing region or credentials: one line, not a traceback
        failure = explain(error, local=_is_local(args))
        if failure is None:
            raise
        print(f"bookinghub: {failure.message}", file=sys.stderr)
        return failure.exit_code


def _is_local(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "local", False)) or os.environ.get(LOCAL_ENV, "").lower() in ("1", "true", "yes")


@contextmanager
def quiet_service_logs() -> Iterator[None]:
    """The services log JSON lines at INFO for CloudWatch; on a terminal only warnings belong beside the
    command's output (POWERTOOLS_LOG_LEVEL, if set, wins). Restored afterwards: main() may run in-process."""
    if "POWERTOOLS_LOG_LEVEL" in os.environ:
        yield
        return
    from bookinghub.core.observability import logger

    previous = logger.log_level
    logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(previous)


def _token(args: argparse.Namespace) -> int:
    from infra.local.auth import issue_token

    websites = [w.strip() for w in args.websites.split(",") if w.strip()]
    if args.role == "staff" and not websites:
        # A valid token, but one that sees nothing: say so beside it (stderr keeps $(...) clean)
        print(
            "bookinghub: this staff token names no websites, so it sees no bookings (empty lists, 404 for each"
            " booking); add --websites a,b for the websites it may see",
            file=sys.stderr,
        )
    print(
        issue_token(
            role=args.role, organisation_id=args.org or None, websites=websites, email=args.email, ttl_seconds=args.ttl
        )
    )
    return 0


def local_environment(env: dict[str, str]) -> dict[str, str]:
    """What `make run` gives its functions: moto's endpoint, its fake credentials, the local table names."""
    from infra import topology
    from infra.local.aws_env import DEFAULT_REGION, aws_environment
    from infra.local.resources import table_name

    port = env.get("HUB_AWS_PORT") or "5000"
    values = aws_environment(f"http://127.0.0.1:{port}", DEFAULT_REGION)
    values.update({table.env_var: table_name(table) for table in topology.TABLES})
    return values


def _rooms(args: argparse.Namespace) -> int:
    if _is_local(args):
        os.environ.update(local_environment(dict(os.environ)))
    from bookinghub.rooms.logic import monitoring as rooms_monitoring

    if args.query == "status":
        rows = rooms_monitoring.integration_status()
    elif args.query == "calls":
        rows = rooms_monitoring.recent_calls(args.limit)
    else:
        rows = rooms_monitoring.failed_calls(args.limit)
    print(json.dumps(rows, indent=2, default=str))
    return 0


def _service_command(args: argparse.Namespace) -> int:
    """beds24 and webhooks: the services themselves, with the local stack's environment under --local."""
    if _is_local(args):
        os.environ.update(local_environment(dict(os.environ)))
        os.environ.update(local_queue_urls())
    from cli import beds24, webhooks

    return webhooks.run(args) if args.command == "webhooks" else beds24.run(args)


def _ops(args: argparse.Namespace) -> int:
    local = _is_local(args)
    if local:
        os.environ.update(local_environment(dict(os.environ)))
    from cli import ops

    return ops.run(args, local)


def local_queue_urls() -> dict[str, str]:
    """The local queues' URLs, asked of `make run`'s moto (a sync is started by queueing it)."""
    import boto3

    from infra import topology
    from infra.local.resources import queue_name

    sqs = boto3.session.Session().client("sqs")
    return {q.env_var: sqs.get_queue_url(QueueName=queue_name(q))["QueueUrl"] for q in topology.QUEUES}
