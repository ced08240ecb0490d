"""`bookinghub status`, `bookinghub dlq list|show|redrive` and `bookinghub logs` (cli/logs.py): the operator's
view of queues, DLQs, integrations and one booking's history.

One CLI for both targets: `--local` reads `make run`'s embedded AWS; otherwise `--stack` (default
$BOOKINGHUB_STACK, else BookingHub-dev) names a deployed stack, whose queues and tables are found from
CloudFormation by their pinned logical ids (infra/cdk/naming.py), with the usual AWS credentials and region.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from infra import topology
from infra.cdk.naming import dlq_id, queue_id, stream_failures_id, table_id

STACK_ENV = "BOOKINGHUB_STACK"
DEFAULT_STACK = "BookingHub-dev"
PEEK_LIMIT = 10


@dataclass(frozen=True)
class QueueTarget:
    name: str  # the topology's queue name, e.g. PassIssuance
    url: str
    dlq_url: str


@dataclass
class Target:
    label: str  # what the screen says it looked at
    queues: dict[str, QueueTarget] = field(default_factory=dict)
    stream_failures: dict[str, str] = field(default_factory=dict)  # function name -> its failure queue URL

    def queue(self, name: str) -> QueueTarget:
        for known, target in self.queues.items():
            if known.lower() == name.lower():
                return target
        raise ValueError(f"no queue {name!r}; the queues are {', '.join(self.queues)}")


def add_parsers(commands: Any, local_help: str) -> None:
    def target_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--local", action="store_true", help=local_help)
        parser.add_argument(
            "--stack", default=None, help=f"deployed stack name (${STACK_ENV}, default {DEFAULT_STACK})"
        )
        return parser

    target_options(commands.add_parser("status", help="health of every queue, DLQ and integration on one screen"))
    dlq = commands.add_parser("dlq", help="dead-letter queues: list, show, redrive")
    actions = dlq.add_subparsers(dest="action", required=True)
    target_options(actions.add_parser("list", help="every DLQ's depth"))
    show = target_options(actions.add_parser("show", help="the messages waiting in one queue's DLQ"))
    show.add_argument("queue", help="the queue's name, e.g. PassIssuance")
    show.add_argument("--limit", type=int, default=PEEK_LIMIT, help=f"how many (default {PEEK_LIMIT})")
    redrive = target_options(actions.add_parser("redrive", help="move a DLQ's messages back to its queue"))
    redrive.add_argument("queue", help="the queue's name, e.g. PassIssuance")
    redrive.add_argument("--dry-run", action="store_true", help="count what would move, move nothing")
    backfill = commands.add_parser("backfill", help="lay stored items out as the current code does")
    jobs = backfill.add_subparsers(dest="job", required=True)
    listing = target_options(
        jobs.add_parser("listing-keys", help="bookings' index keys (list_key, ...: docs/admin-api.md, deploying)")
    )
    listing.add_argument("--dry-run", action="store_true", help="count what would be written, write nothing")
    listing.add_argument(
        "--keep-copies", action="store_true", help="leave the email_key copies (while the previous code serves)"
    )
    realtime = commands.add_parser("realtime", help="the real-time API's stored state")
    realtime_jobs = realtime.add_subparsers(dest="job", required=True)
    target_options(
        realtime_jobs.add_parser(
            "migrate-watches", help="copy per-key watches into the watch summaries (docs/realtime.md, deploying)"
        )
    )
    from cli import logs

    logs.add_parser(commands, target_options)


def resolve_target(args: argparse.Namespace, local: bool) -> Target:
    if local:
        return _local_target()
    return _stack_target(args.stack or os.environ.get(STACK_ENV) or DEFAULT_STACK)


def _local_target() -> Target:
    from bookinghub.aws.clients import client
    from infra.local.resources import queue_name

    sqs = client("sqs")
    target = Target(label="make run (local)")
    for spec in topology.QUEUES:
        name = queue_name(spec)
        target.queues[spec.name] = QueueTarget(
            spec.name,
            sqs.get_queue_url(QueueName=name)["QueueUrl"],
            sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"],
        )
    return target


def _stack_target(stack: str) -> Target:
    """The stack's physical resources by logical id; table names are handed to the package as its settings."""
    from bookinghub.aws.clients import client

    physical: dict[str, str] = {}
    for page in client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack):
        for resource in page["StackResourceSummaries"]:
            physical[resource["LogicalResourceId"]] = resource.get("PhysicalResourceId", "")
    target = Target(label=f"stack {stack}")
    for spec in topology.QUEUES:
        target.queues[spec.name] = QueueTarget(spec.name, physical[queue_id(spec.name)], physical[dlq_id(spec.name)])
    for function in topology.FUNCTIONS:
        if function.stream and stream_failures_id(function.name) in physical:
            target.stream_failures[function.name] = physical[stream_failures_id(function.name)]
    for table in topology.TABLES:
        os.environ.setdefault(table.env_var, physical[table_id(table.name)])
    return target


def run(args: argparse.Namespace, local: bool) -> int:
    target = resolve_target(args, local)
    console = Console()
    if args.command == "logs":
        from cli import logs

        return logs.run(args, console)
    if args.command == "status":
        return status(target, console)
    if args.command == "backfill":
        return _backfill(args.dry_run, args.keep_copies, console)
    if args.command == "realtime":
        return _migrate_watches(console)
    if args.action == "list":
        console.print(_dlq_table(target))
        return 0
    if args.action == "show":
        return _show(target.queue(args.queue), max(1, min(args.limit, 100)), console)
    return _redrive(target.queue(args.queue), args.dry_run, console)


# --- backfill ----------------------------------------------------------------------------------------


def _backfill(dry_run: bool, keep_copies: bool, console: Console) -> int:
    from bookinghub.bookings.dal.backfill import BackfillReport, backfill_listing_keys

    def progress(report: BackfillReport) -> None:
        console.print(f"  {report.scanned} bookings read, {report.updated} {verb}", highlight=False)

    verb = "to write" if dry_run else "written"
    report = backfill_listing_keys(dry_run=dry_run, keep_copies=keep_copies, progress=progress)
    console.print(
        f"bookings: {report.scanned} read, {report.updated} {verb}, {report.current} already laid out, "
        f"{report.changed_meanwhile} written meanwhile by the hub (left as written)",
        highlight=False,
    )
    return 0


def _migrate_watches(console: Console) -> int:
    from bookinghub.realtime.logic.watch import WatchMigration, migrate_watches

    def line(report: WatchMigration) -> str:
        copied = ", ".join(f"{count} to {level}" for level, count in report.copied.items())
        return (
            f"{report.read} read: copied {sum(report.copied.values())} ({copied}), "
            f"{report.current} already in the summaries, {report.expired} expired (skipped)"
        )

    report = migrate_watches(progress=lambda report: console.print(f"  {line(report)}", highlight=False))
    console.print(f"per-key watches: {line(report)}", highlight=False)
    return 0


# --- status ------------------------------------------------------------------------------------------


def status(target: Target, console: Console) -> int:
    """Everything on one screen; exit code 1 when something needs an operator (a DLQ holds messages)."""
    from bookinghub.aws.dead_letters import queue_depth

    console.print(f"[bold]bookinghub status[/bold]: {target.label}, {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
    queues = Table(title="Queues", title_justify="left")
    for column in ("queue", "waiting", "in flight", "delayed", "DLQ"):
        queues.add_column(column, justify="left" if column == "queue" else "right")
    attention = False
    for spec in target.queues.values():
        depth, dead = queue_depth(spec.url), queue_depth(spec.dlq_url).visible
        attention |= dead > 0
        queues.add_row(
            spec.name, str(depth.visible), str(depth.in_flight), str(depth.delayed), _flag(dead, f"{dead} to redrive")
        )
    for function, url in target.stream_failures.items():
        failed = queue_depth(url).visible
        attention |= failed > 0
        queues.add_row(f"{function} stream failures", "", "", "", _flag(failed, f"{failed} batches"))
    console.print(queues)
    console.print(_beds24_table())
    console.print(_rooms_table())
    if attention:
        console.print(
            "[red]Messages wait in a DLQ:[/red] `bookinghub dlq show QUEUE`, then `bookinghub dlq redrive QUEUE`."
        )
    return 1 if attention else 0


def _flag(count: int, text: str) -> str:
    return f"[red]{text}[/red]" if count else "0"


def _beds24_table() -> Table:
    from bookinghub.beds24.dal import properties as property_store
    from bookinghub.beds24.logic.sync import sync_staleness_minutes

    table = Table(title="Beds24 properties", title_justify="left")
    for column in ("organisation", "property", "status", "pull sync", "last good pull", "running"):
        table.add_column(column)
    now = datetime.now(UTC)
    for prop in property_store.all_properties():
        stale = sync_staleness_minutes(prop, now)
        last = prop.last_successful_cursor or "never"
        late = prop.status == "active" and prop.pull_sync_enabled and stale > 20  # the Beds24SyncStale alarm's limit
        table.add_row(
            prop.organisation_id,
            prop.id,
            prop.status,
            "on" if prop.pull_sync_enabled else "off",
            f"[red]{last} ({stale:.0f} min ago)[/red]" if late else f"{last}",
            prop.active_run_id or "",
        )
    return table


def _rooms_table() -> Table:
    from bookinghub.rooms.logic import monitoring

    table = Table(title="Integrations (Rooms Event Hub)", title_justify="left")
    for column in ("organisation", "integration", "status", "last used"):
        table.add_column(column)
    for row in monitoring.integration_status():
        state = str(row["status"])
        table.add_row(
            str(row["organisation_id"]),
            f"{row['name']} ({row['id']})",
            state if state == "active" else f"[red]{state}[/red]",
            str(row.get("last_used_at") or "never"),
        )
    return table


# --- dlq -----------------------------------------------------------------------------------------------


def _dlq_table(target: Target) -> Table:
    from bookinghub.aws.dead_letters import queue_depth

    table = Table(title=f"Dead-letter queues ({target.label})", title_justify="left")
    table.add_column("queue")
    table.add_column("messages", justify="right")
    for spec in target.queues.values():
        table.add_row(spec.name, _flag(queue_depth(spec.dlq_url).visible, str(queue_depth(spec.dlq_url).visible)))
    return table


def _show(queue: QueueTarget, limit: int, console: Console) -> int:
    from bookinghub.aws.dead_letters import peek

    letters = peek(queue.dlq_url, limit)
    if not letters:
        console.print(f"{queue.name} DLQ is empty")
        return 0
    for letter in letters:
        first = (
            datetime.fromtimestamp(letter.first_received_at_ms / 1000, UTC).isoformat()
            if letter.first_received_at_ms
            else "?"
        )
        console.print(f"[bold]{letter.message_id}[/bold]  receives {letter.receive_count}  first received {first}")
        console.print_json(letter.body) if _is_json(letter.body) else console.print(letter.body)
    return 0


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _redrive(queue: QueueTarget, dry_run: bool, console: Console) -> int:
    from bookinghub.aws.dead_letters import redrive

    if dry_run:
        result = redrive(queue.dlq_url, queue.url, dry_run=True)
        console.print(f"{result.moved} messages would move from the {queue.name} DLQ back to {queue.name}")
        return 0
    with Progress(
        TextColumn(f"redrive {queue.name}"), BarColumn(), MofNCompleteColumn(), console=console, transient=False
    ) as progress:
        task = progress.add_task("redrive", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = redrive(queue.dlq_url, queue.url, on_progress=advance)
    console.print(
        f"moved {result.moved} messages back to {queue.name}" + (f", {result.failed} failed" if result.failed else "")
    )
    return 1 if result.failed else 0
