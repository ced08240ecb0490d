"""The whole hub on this machine: moto as the embedded AWS, the HTTP gateway, queue workers, stream
pollers, schedules and sandboxes, started and stopped together.

Usable from tests as a context manager with explicit ports (0 picks a free one):

    ports = {sandbox.name: 0 for sandbox in SANDBOXES}
    with LocalRuntime(RuntimeConfig(port=0, aws_port=0, sandbox_ports=ports)) as hub:
        requests.get(f"{hub.gateway_url}/api/health")

It sets the functions' environment in os.environ (they run in this process, as Lambda runs them in
its own) and puts the previous values back on stop.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from infra import topology
from infra.local import allocator, lambdas
from infra.local.aws_env import (
    ACCOUNT_ID,
    DEFAULT_REGION,
    LOCAL_DEMO_SECRETS,
    EnvPatch,
    aws_environment,
    function_environment,
    local_secret_values,
)
from infra.local.background import BackgroundLoop
from infra.local.banner import BannerInfo
from infra.local.demo import DEMO_WEBSITES, SeededWebsite, seed
from infra.local.gateway import Gateway
from infra.local.housekeeping import Housekeeping
from infra.local.resources import LocalResources, create_resources
from infra.local.sandbox.beds24_demo import LOCAL_DEMO_WEBHOOK_SECRET, WEBHOOK_SECRET_ENV
from infra.local.sandboxes import BEDS24, ROOMS_EVENT_HUB, SANDBOXES, WEBSITE_RECEIVER, SandboxContext, webhook_url
from infra.local.scheduler import Scheduler, targets_from_topology
from infra.local.scheduler_schedules import ScheduleFirer
from infra.local.servers import ServerThread
from infra.local.streams import StreamPoller, filter_patterns
from infra.local.websocket import LocalWebSocketApi
from infra.local.workers import QueueWorker
from infra.topology import realtime as topology_realtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuntimeConfig:
    host: str = "127.0.0.1"  # loopback only unless asked otherwise
    port: int = 3000  # the API gateway
    aws_port: int = 5000  # moto
    sandbox_ports: Mapping[str, int] = field(default_factory=dict)  # sandbox name -> port (default: its own)
    region: str = DEFAULT_REGION
    stage: str = "local"
    queue_wait_seconds: int = 1  # short long-polls, so stopping takes about a second
    # Every queue's visibility timeout, instead of the topology's (6x the consumer's timeout): a failed
    # message then reaches its DLQ in seconds, for DLQ and redrive demos and tests. None: as on AWS.
    queue_visibility_seconds: int | None = None
    ws_port: int = 3001  # the WebSocket API (real-time booking events)
    ws_management_port: int = 3002  # its management API (post to connection), for the functions

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RuntimeConfig:
        return cls(
            host=env.get("HUB_HOST") or "127.0.0.1",
            port=int(env.get("HUB_PORT") or 3000),
            aws_port=int(env.get("HUB_AWS_PORT") or 5000),
            sandbox_ports={s.name: int(env.get(s.port_env) or s.default_port) for s in SANDBOXES},
            queue_visibility_seconds=int(env["HUB_QUEUE_VISIBILITY_SECONDS"])
            if env.get("HUB_QUEUE_VISIBILITY_SECONDS")
            else None,
            ws_port=int(env.get("HUB_WS_PORT") or 3001),
            ws_management_port=int(env.get("HUB_WS_MANAGEMENT_PORT") or 3002),
        )


def url_for(host: str, port: int) -> str:
    """A URL clients can reach: a wildcard bind address is reached through loopback."""
    reach = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{reach}]:{port}" if ":" in reach else f"http://{reach}:{port}"


class LocalRuntime:
    def __init__(self, config: RuntimeConfig | None = None) -> None:
        self.config = config or RuntimeConfig()
        self.ready = threading.Event()
        self.resources = LocalResources()
        self.websites: list[SeededWebsite] = []
        self.startup_seconds = 0.0
        self._stop = threading.Event()
        self._env = EnvPatch()
        self._moto: Any = None
        self._gateway: ServerThread | None = None
        self._websocket: LocalWebSocketApi | None = None
        self.websocket_url = ""
        self._sandboxes: list[tuple[str, str, ServerThread]] = []  # name, description, server
        self._sandbox_apps: list[Any] = []
        self._secrets: dict[str, str] = {}  # local env var -> value the functions see
        self._sandbox_context = SandboxContext()
        self._workers: list[QueueWorker] = []
        self._pollers: list[StreamPoller] = []
        self._scheduler: Scheduler | None = None
        self._schedule_firer: ScheduleFirer | None = None  # EventBridge Scheduler's schedules (hotels' syncs)
        self._housekeeping: Housekeeping | None = None
        self.gateway_url = self.aws_url = ""
        self._document_dir: Path | None = None

    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        started = time.monotonic()
        allocator.limit_arenas()  # before the server threads: each would otherwise get an arena of its own
        try:
            self._start_servers()
            self._start_aws()
            self._seed_demo()
            lambdas.load_all()  # after the environment is set, as Lambda loads a handler in its own
            self._write_api_document()
            self._start_background()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        self.ready.set()

    def stop(self) -> None:
        """Stop everything (idempotent): servers and background threads together, moto last."""
        self.ready.clear()
        self._stop.set()
        for app in self._sandbox_apps:
            if callable(getattr(app, "stop", None)):
                app.stop()  # e.g. the Rooms sandbox releases an answer it is holding back on purpose
        servers: list[ServerThread | LocalWebSocketApi] = [
            s for s in [self._gateway, self._websocket, *(server for _, _, server in self._sandboxes)] if s is not None
        ]
        stoppers = [threading.Thread(target=server.stop, name=f"stop-{server.name}") for server in servers]
        for stopper in stoppers:
            stopper.start()
        background: list[BackgroundLoop] = [*self._workers, *self._pollers]
        timers = [t for t in (self._scheduler, self._schedule_firer, self._housekeeping) if t is not None]
        for part in [*background, *timers]:
            part.join(timeout=self.config.queue_wait_seconds + 10)  # plus a handler that is mid-invocation
        for stopper in stoppers:
            stopper.join(timeout=10)
        self._gateway, self._websocket, self._sandboxes, self._sandbox_apps = None, None, [], []
        self._workers, self._pollers, self._scheduler, self._housekeeping = [], [], None, None
        self._schedule_firer = None
        if self._moto is not None:
            self._moto.stop()
            # ThreadedMotoServer.stop() leaves its socket open; close it so the port is free again at once
            inner = getattr(self._moto, "_server", None)
            if inner is not None:
                inner.server_close()
            self._moto = None
        self._env.restore()
        if self._document_dir is not None:
            shutil.rmtree(self._document_dir, ignore_errors=True)
            self._document_dir = None
        _reset_hub_caches()

    def banner_info(self) -> BannerInfo:
        return BannerInfo(
            gateway_url=self.gateway_url,
            aws_url=self.aws_url,
            sandboxes=[(name, url_for(self.config.host, s.port), desc) for name, desc, s in self._sandboxes],
            websites=self.websites,
            schedules=[
                (t.function, t.schedule.name, t.schedule.expression)
                for t in (self._scheduler.targets if self._scheduler else [])
            ],
            startup_seconds=self.startup_seconds,
            stripe_webhook_secret=self._shown_stripe_secret(),
            rooms_url=self.sandbox_url(ROOMS_EVENT_HUB.name) if self._sandboxes else "",
            beds24_url=self.sandbox_url(BEDS24.name) if self._sandboxes else "",
            beds24_webhook_secret=None if os.environ.get(WEBHOOK_SECRET_ENV) else LOCAL_DEMO_WEBHOOK_SECRET,
            websocket_url=self.websocket_url,
        )

    def _shown_stripe_secret(self) -> str | None:
        """The local demo signing secret, to show; None when the developer set their own (never shown)."""
        spec = topology.STRIPE_WEBHOOK_SECRET
        value = self._secrets.get(spec.local_env_var)
        return value if value == LOCAL_DEMO_SECRETS[spec.name] else None

    def sandbox_url(self, name: str) -> str:
        return next(url_for(self.config.host, s.port) for n, _, s in self._sandboxes if n == name)

    # --- parts ------------------------------------------------------------------------------------------

    def _start_servers(self) -> None:
        """Bind every port first, so a busy one fails startup at once; the gateway answers 503 until ready."""
        cfg = self.config
        _check_free(cfg.host, cfg.aws_port, "HUB_AWS_PORT")  # ThreadedMotoServer would wait forever on a busy port
        self._gateway = _bind("gateway", cfg.host, cfg.port, Gateway(stage=cfg.stage, ready=self.ready), "HUB_PORT")
        self._gateway.start()
        self.gateway_url = url_for(cfg.host, self._gateway.port)
        self._sandbox_context.gateway_url = self.gateway_url
        _check_free(cfg.host, cfg.ws_port, "HUB_WS_PORT")
        _check_free(cfg.host, cfg.ws_management_port, "HUB_WS_MANAGEMENT_PORT")
        self._websocket = LocalWebSocketApi(cfg.host, cfg.ws_port, cfg.ws_management_port, stage=cfg.stage)
        self._websocket.start()
        self.websocket_url = url_for(cfg.host, self._websocket.port).replace("http://", "ws://", 1)
        # The functions post to connections through it, as through API Gateway's callback URL on AWS
        management_url = url_for(cfg.host, self._websocket.management_port)
        self._env.apply({topology_realtime.MANAGEMENT_URL_ENV: management_url})
        for sandbox in SANDBOXES:
            port = cfg.sandbox_ports.get(sandbox.name, sandbox.default_port)
            app = sandbox.create_app(self._sandbox_context)
            server = _bind(sandbox.name, cfg.host, port, app, sandbox.port_env, access_log=True)
            server.start()
            self._sandboxes.append((sandbox.name, sandbox.description, server))
            self._sandbox_apps.append(app)

    def _start_aws(self) -> None:
        from moto.server import ThreadedMotoServer  # heavy: only when the runtime starts

        from infra.local import moto_dynamodb

        moto_dynamodb.install()  # AWS's transaction semantics, without moto's table copies
        self._moto = ThreadedMotoServer(ip_address=self.config.host, port=self.config.aws_port, verbose=False)
        self._moto.start()
        self.aws_url = url_for(self.config.host, self._moto.get_host_and_port()[1])
        # A fresh account even if this process ran moto before (tests)
        urllib.request.urlopen(urllib.request.Request(f"{self.aws_url}/moto-api/reset", method="POST"), timeout=10)  # noqa: S310
        self._env.remove_unsafe()
        self._env.apply(aws_environment(self.aws_url, self.config.region))
        import boto3

        self._session = boto3.session.Session(region_name=self.config.region)
        self.resources = create_resources(self._session, visibility_seconds=self.config.queue_visibility_seconds)
        self._secrets = local_secret_values(os.environ)
        self._env.apply(function_environment(self.resources.env, self.config.stage, self._secrets))
        _reset_hub_caches()

    def _seed_demo(self) -> None:
        receiver = self.sandbox_url(WEBSITE_RECEIVER.name)
        self.websites = seed({site.id: webhook_url(receiver, site.id) for site in DEMO_WEBSITES})
        self._sandbox_context.website_secrets.update({site.id: site.webhook_secret for site in self.websites})
        for sandbox in SANDBOXES:
            if sandbox.seed is not None:
                sandbox.seed(self.sandbox_url(sandbox.name), self._sandbox_context)

    def _write_api_document(self) -> None:
        """GET /api/openapi.json serves the whole API's document: generated here, as `make layer` does."""
        from infra.openapi import write_document

        self._document_dir = Path(tempfile.mkdtemp(prefix="bookinghub-api-"))
        self._env.apply({"HUB_OPENAPI_DOCUMENT": str(write_document(self._document_dir))})
        _reset_hub_caches()

    def _start_background(self) -> None:
        from botocore.config import Config

        cfg = self.config
        config = Config(retries={"mode": "standard"}, connect_timeout=2, read_timeout=cfg.queue_wait_seconds + 10)
        for fn in topology.FUNCTIONS:
            if fn.queue:
                worker = QueueWorker(
                    sqs=self._session.client("sqs", config=config),
                    queue_url=self.resources.queue_urls[fn.queue.queue],
                    consumer=lambdas.consumer_for(fn.name),
                    name=fn.name,
                    region=cfg.region,
                    batch_size=fn.queue.batch_size,
                    batching_window_seconds=fn.queue.max_batching_window_seconds,
                    wait_seconds=cfg.queue_wait_seconds,
                    stop=self._stop,
                )
                self._workers.append(worker)
            if fn.stream:
                poller = StreamPoller(
                    streams=self._session.client("dynamodbstreams", config=config),
                    stream_arn=self.resources.stream_arns[fn.stream.table],
                    consumer=lambdas.consumer_for(fn.name),
                    name=fn.name,
                    region=cfg.region,
                    pattern=filter_patterns(fn.stream),
                    batch_size=fn.stream.batch_size,
                    max_retry_attempts=fn.stream.max_retry_attempts,
                    stop=self._stop,
                )
                self._pollers.append(poller)
        self._scheduler = Scheduler(
            targets_from_topology(cfg.region, datetime.now(UTC)),
            invoke=lambda name, event: lambdas.call(name, event).unwrap(),
            region=cfg.region,
            stop=self._stop,
        )
        # Schedules made at run time through the Scheduler API (moto stores them, never fires them)
        self._schedule_firer = ScheduleFirer(
            scheduler=self._session.client("scheduler", config=config),
            sqs=self._session.client("sqs", config=config),
            invoke=lambda name, event: lambdas.call(name, event).unwrap(),
            stop=self._stop,
        )
        # moto neither trims streams nor expires TTL items: the local runtime does, as AWS does by itself
        self._housekeeping = Housekeeping(
            account_id=ACCOUNT_ID, region=cfg.region, pollers=self._pollers, stop=self._stop
        )
        background: list[BackgroundLoop] = [
            *self._workers,
            *self._pollers,
            self._scheduler,
            self._schedule_firer,
            self._housekeeping,
        ]
        for part in background:
            part.start()


def _bind(name: str, host: str, port: int, app: Any, setting: str, access_log: bool = False) -> ServerThread:
    _check_free(host, port, setting)
    try:
        return ServerThread(name, host, port, app, access_log=access_log)
    except SystemExit:  # werkzeug exits on a bind error; a runtime used from tests must raise instead
        raise OSError(f"{host}:{port} is not available ({setting})") from None


def _check_free(host: str, port: int, setting: str) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise OSError(f"{host}:{port} is not available ({setting}): {error.strerror}") from None


def _reset_hub_caches() -> None:
    """The hub caches its settings and clients per process; they must see the environment just set."""
    from bookinghub.aws.clients import client
    from bookinghub.core.settings import get_settings

    get_settings.cache_clear()
    client.cache_clear()
