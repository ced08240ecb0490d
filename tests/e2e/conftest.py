"""End-to-end fixtures: the local hub as a real process on free loopback ports, and a moto server."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0  # generous for a loaded 2-core machine; it normally takes a few seconds


# Ports are picked below the kernel's ephemeral range (32768-60999 on Linux), so no outgoing connection
# of this or another process can take one between our check and the hub's bind; a port another test
# process picked at the same moment is caught by start_hub's retry.
_PORT_RANGE = (20000, 32000)
_STARTUP_ATTEMPTS = 3


def free_port(taken: set[int] | None = None) -> int:
    """A loopback port nothing listens on now, not in `taken` (which it joins)."""
    taken = taken if taken is not None else set()
    for _ in range(200):
        port = random.randint(*_PORT_RANGE)
        if port in taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError(f"no free loopback port in {_PORT_RANGE}")


def aws_client(service: str, endpoint: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local-fake-access-key-id",
        aws_secret_access_key="local-fake-secret",
    )


@dataclass
class Http:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Http:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Http(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Http(error.code, dict(error.headers), error.read())


@dataclass
class Hub:
    process: subprocess.Popen[bytes]
    url: str
    aws_url: str
    sandbox_url: str
    rooms_url: str  # the Rooms Event Hub sandbox (demo-org's Rooms integration points at it)
    beds24_url: str  # the Beds24 sandbox (demo-org's demo-property pulls from it and gets its webhooks)
    make_url: str  # the Make.com-style webhook receiver sandbox
    log_path: Path
    startup_seconds: float
    cloudbeds_url: str = ""  # the Cloudbeds sandbox (PMS demo hotel cloudbeds-demo-hotel syncs from it)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10.0) -> tuple[int | None, float]:
        """Send `sig`; returns the exit code (None if it had to be killed) and how long it took."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code: int | None = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            code = None
        return code, time.monotonic() - started


def start_hub(log_path: Path, extra_env: dict[str, str] | None = None) -> Hub:
    """The local hub on fresh loopback ports, healthy; retried on other ports if one was taken meanwhile."""
    for attempt in range(1, _STARTUP_ATTEMPTS + 1):
        hub = _start_hub_once(log_path, extra_env)
        if hub is not None:
            return hub
        print(f"a port was taken before the hub bound it (attempt {attempt}); retrying on other ports")
    pytest.fail(f"the hub could not bind its ports in {_STARTUP_ATTEMPTS} attempts:\n{log_path.read_text()}")


def _start_hub_once(log_path: Path, extra_env: dict[str, str] | None) -> Hub | None:
    """The healthy hub, or None when it exited because a port was already in use."""
    taken: set[int] = set()
    port, aws_port, sandbox_port, rooms_port, beds24_port, make_port, cloudbeds_port = (
        free_port(taken) for _ in range(7)
    )
    env = {
        **os.environ,
        **(extra_env or {}),
        "HUB_PORT": str(port),
        "HUB_AWS_PORT": str(aws_port),
        "HUB_SANDBOX_PORT": str(sandbox_port),
        "HUB_ROOMS_PORT": str(rooms_port),
        "HUB_BEDS24_PORT": str(beds24_port),
        "HUB_MAKE_PORT": str(make_port),
        "HUB_CLOUDBEDS_PORT": str(cloudbeds_port),
        "HUB_WS_PORT": str(free_port(taken)),  # the WebSocket API and its management endpoint
        "HUB_WS_MANAGEMENT_PORT": str(free_port(taken)),
        "PYTHONPATH": f"{ROOT / 'layers' / 'common' / 'python'}{os.pathsep}{ROOT}",
    }
    env.pop("HUB_HOST", None)
    env.pop("STRIPE_WEBHOOK_SECRET", None)  # the hub's local demo signing secret, as `make run` has it
    env.pop("BEDS24_WEBHOOK_SECRET", None)
    started = time.monotonic()
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local"], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    hub = Hub(
        process=process,
        url=f"http://127.0.0.1:{port}",
        aws_url=f"http://127.0.0.1:{aws_port}",
        sandbox_url=f"http://127.0.0.1:{sandbox_port}",
        rooms_url=f"http://127.0.0.1:{rooms_port}",
        beds24_url=f"http://127.0.0.1:{beds24_port}",
        make_url=f"http://127.0.0.1:{make_port}",
        log_path=log_path,
        startup_seconds=0.0,
        cloudbeds_url=f"http://127.0.0.1:{cloudbeds_port}",
    )
    deadline = started + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if "Address already in use" in hub.log():
                return None
            pytest.fail(f"the hub exited with {process.returncode} during startup:\n{hub.log()}")
        try:
            if http("GET", f"{hub.url}/api/health").status == 200:
                hub.startup_seconds = time.monotonic() - started
                return hub
        except OSError:
            pass  # not listening yet
        time.sleep(0.1)
    hub.stop()
    pytest.fail(f"the hub was not healthy within {STARTUP_TIMEOUT} s:\n{hub.log()}")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    running = start_hub(tmp_path_factory.mktemp("hub") / "hub.log")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto server in this process on a free port (each test names its own resources)."""
    from moto.server import ThreadedMotoServer

    from infra.local import moto_dynamodb

    moto_dynamodb.install()  # the transactions the local runtime's moto has
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    server.stop()
