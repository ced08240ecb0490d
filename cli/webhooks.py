"""`bookinghub webhooks ...`: operators read and replay outbound deliveries (issue 12).

    bookinghub webhooks endpoints [--org demo-org]
    bookinghub webhooks stats <endpoint_id>
    bookinghub webhooks failed <endpoint_id> [--since 2026-01-01T00:00:00Z] [--limit 50]
    bookinghub webhooks replay <delivery_id>
    bookinghub webhooks recover <endpoint_id> --since 2026-01-01T00:00:00Z
    bookinghub webhooks retry-failed [--max-retries 3] [--limit 100]      (seed 003's retry_failed_webhooks)
    bookinghub webhooks enable <endpoint_id> [--replay-failed]

Like the API's routes it goes through bookinghub.delivery.logic.admin, as a superadmin of --org, with the
caller's AWS credentials (or, with --local, `make run`'s embedded AWS).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any


def add_parser(commands: Any, local_help: str) -> None:
    webhooks = commands.add_parser("webhooks", help="outbound webhook endpoints, failed deliveries and replay")
    actions = webhooks.add_subparsers(dest="action", required=True)

    def common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--org", default="demo-org", help="organisation (default demo-org)")
        parser.add_argument("--local", action="store_true", help=local_help)
        return parser

    common(actions.add_parser("endpoints", help="subscriptions and website sync backs with their state"))
    common(actions.add_parser("stats", help="an endpoint's statistics")).add_argument("endpoint_id")
    failed = common(actions.add_parser("failed", help="an endpoint's failed deliveries"))
    failed.add_argument("endpoint_id")
    failed.add_argument("--since", type=_moment, default=datetime(1970, 1, 1, tzinfo=UTC))
    failed.add_argument("--limit", type=int, default=50)
    common(actions.add_parser("replay", help="send one delivery again")).add_argument("delivery_id")
    recover = common(actions.add_parser("recover", help="replay an endpoint's failed deliveries since a time"))
    recover.add_argument("endpoint_id")
    recover.add_argument("--since", type=_moment, required=True)
    retry = common(actions.add_parser("retry-failed", help="seed 003's retry_failed_webhooks(max_retries)"))
    retry.add_argument("--max-retries", type=int, default=3)
    retry.add_argument("--limit", type=int, default=100)
    enable = common(actions.add_parser("enable", help="enable an endpoint again"))
    enable.add_argument("endpoint_id")
    enable.add_argument("--replay-failed", action="store_true", help="replay what failed while it was off")


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    from bookinghub.core.auth import Principal
    from bookinghub.core.errors import DomainError
    from bookinghub.delivery.logic import admin
    from bookinghub.delivery.models.api import EnableRequest, RetryFailedRequest

    caller = Principal(subject="cli", email="cli", role="superadmin", organisation_id=args.org, websites=frozenset())
    try:
        if args.action == "endpoints":
            result: Any = admin.list_endpoints(caller, args.org)
        elif args.action == "stats":
            result = admin.stats(caller, args.endpoint_id)
        elif args.action == "failed":
            result = admin.failed_deliveries(caller, args.endpoint_id, args.since, max(1, min(args.limit, 100)), None)
        elif args.action == "replay":
            result = admin.replay_delivery(caller, args.delivery_id)
        elif args.action == "recover":
            result = admin.recover(caller, args.endpoint_id, args.since)
        elif args.action == "enable":
            result = admin.enable_endpoint(caller, args.endpoint_id, EnableRequest(replay_failed=args.replay_failed))
        else:
            request = RetryFailedRequest(max_retries=args.max_retries, limit=args.limit, organisation_id=args.org)
            result = admin.retry_failed_webhooks(caller, request)
    except DomainError as error:
        print(f"bookinghub: {error.code}: {error.message}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0
